# The two commands: `make run` and `make test`. Each sets up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench instructions clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# make run PORT=7701 (or NLETS_SIM_PORT=7701 make run): the switch's port.
run: $(STAMP)
	$(BIN)/nlets-sim up $(if $(PORT),--port $(PORT))

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.bench_formats
	$(BIN)/python -m bench.bench_core
	$(BIN)/python -m bench.bench_switch
	$(BIN)/python -m bench.bench_cluster
	$(BIN)/python -m bench.bench_lesc
	$(BIN)/python -m bench.bench_load
	$(BIN)/python -m bench.bench_door
	$(BIN)/python -m bench.bench_matching

instructions: $(STAMP)
	$(BIN)/python -m bench.instructions

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
