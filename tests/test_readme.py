"""Every example the README marks as runnable runs as written: console sessions against a real
switch (and LESC) with output compared byte for byte, files written and loaded, the pytest
example passing in a scratch project with the installed plugin. A README that drifts fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.readme_examples import Example, Loopback, commands, examples, shell

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLES = examples(README.read_text("utf-8"))


FIXTURES = (
    "nlets_config",
    "nlets_switch",
    "nlets_lesc",
    "nlets_terminal",
    "nlets_replay",
    "nlets_broker",
)


def test_the_readme_marks_each_kind_of_example() -> None:
    kinds = [example.kind for example in EXAMPLES]
    assert kinds.count("console") >= 4
    assert kinds.count("file") >= 2
    assert kinds.count("pytest") == 1


def test_each_plugin_fixture_has_its_docstring_and_its_line_in_the_readme(tmp_path: Path) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    section = listed[listed.index("fixtures defined from nlets_sim.pytest_plugin") :]
    readme = README.read_text("utf-8")
    for name in FIXTURES:
        entry = section[section.index(f"\n{name}") :].split("\n")
        assert entry[2].startswith("    "), entry[:3]
        assert "no docstring" not in entry[2], entry[:3]
        assert f"| `{name}` |" in readme


def write_files(directory: Path, upto: Example) -> None:
    """The files the README wrote before ``upto``, as a reader following it has them."""
    for example in EXAMPLES[: EXAMPLES.index(upto)]:
        if example.kind == "file":
            path = directory / example.argument
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(example.text, "utf-8")


def run_console(example: Example, directory: Path) -> None:
    with Loopback() as loopback, shell(directory, loopback) as session:
        if example.argument.startswith("after "):
            session.start(example.argument.removeprefix("after "), 1)
        typed = commands(example)
        for index, command in enumerate(typed):
            outcome = session.run(command)
            where = f"README.md:{command.line}: $ {command.text}"
            assert outcome.output == command.expected, where
            status_shown = index + 1 < len(typed) and typed[index + 1].text == "echo $?"
            assert status_shown or outcome.status == 0, where


RUNNABLE = [example for example in EXAMPLES if example.kind != "file"]


@pytest.mark.parametrize("example", RUNNABLE, ids=[f"{e.kind}-line{e.line}" for e in RUNNABLE])
def test_readme_example(example: Example, tmp_path: Path) -> None:
    write_files(tmp_path, example)
    if example.kind == "console":
        run_console(example, tmp_path)
    else:
        (tmp_path / "test_from_readme.py").write_text(example.text, "utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_from_readme.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
