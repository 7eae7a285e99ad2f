"""``nlets-sim load`` against real switches: the rate it holds, what it counts under faults
that drop, delay and duplicate, the IAQ profile through the LESC, and the command's files and
exit codes."""

from __future__ import annotations

import csv
import json
import re
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from click.testing import CliRunner

from lesc_daemon.daemon import LescDaemon
from nlets_sim.switch.config import PINNED_CLOCK, Config
from nlets_sim.switch.directory import demo_key
from nlets_sim.switch.server import SwitchServer
from nlets_sim.tools.cli import main
from nlets_sim.tools.load.identities import read_identities
from nlets_sim.tools.load.profiles import builtin
from nlets_sim.tools.load.runner import LoadConfig, live_line, run_load
from nlets_sim.tools.load.schedule import parse_rate
from tests.switch_process import running_switch

TEN = [
    (ori, demo_key(ori))
    for ori in (
        "AK0010000",
        "AL0010000",
        "AR0010000",
        "AZ0010000",
        "CA0010000",
        "CO0010000",
        "CT0010000",
        "DC0010000",
        "DE0010000",
        "FL0010000",
    )
]


def quiet(_line: str) -> None:
    """Warnings of the generator are not the subject of these tests."""


async def test_the_open_loop_holds_200_per_second_for_10_seconds(
    nlets_switch: SwitchServer,
) -> None:
    config = LoadConfig(
        "127.0.0.1",
        nlets_switch.port,
        TEN,
        builtin("am-pairs", []),
        parse_rate("200"),
        duration_s=10,
        warn=quiet,
        linger_s=0,
    )
    started = time.monotonic()
    result = await run_load(config)
    wall = time.monotonic() - started
    counts = result.summary["counts"]
    assert counts["sent"] == 2000
    assert counts["matched"] == 2000
    assert counts["unmatched"] == counts["late"] == counts["duplicated"] == 0
    assert abs(result.summary["rate"] - 200) <= 10
    # every AM reached its pair within half a second of when it was due, so the switch saw the
    # schedule's 200/s, and the sending took its 10 s (plus the last replies)
    assert result.summary["latency"]["last"]["p99"] < 500
    assert 9.5 <= wall <= 12
    offered = [row["offered"] for row in result.seconds[:9]]
    assert abs(statistics.median(offered) - 200) <= 10


@pytest_asyncio.fixture
async def faulty_switch(tmp_path: Path) -> AsyncIterator[SwitchServer]:
    """A switch that drops AK0010000's first AM, writes the first three deliveries to
    AL0010000 twice, and holds the first delivery to AZ0010000 for 3 s (and so everything
    after it to AZ0010000: delays keep the order)."""
    faults = (
        {"kind": "drop", "mke": "AM", "sender": "AK0010000", "count": 1},
        {"kind": "duplicate", "destination": "AL0010000", "count": 3},
        {"kind": "delay", "destination": "AZ0010000", "delay_s": 3.0, "count": 1},
    )
    server = SwitchServer(
        Config(port=0, data_dir=tmp_path / "switch", clock=PINNED_CLOCK, faults=faults)
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_correlation_counts_dropped_delayed_and_duplicated_replies(
    faulty_switch: SwitchServer,
) -> None:
    config = LoadConfig(
        "127.0.0.1",
        faulty_switch.port,
        TEN[:4],
        builtin("am-pairs", []),
        parse_rate("20"),
        duration_s=None,
        count=20,
        timeout_s=1.0,
        linger_s=2.5,
        warn=quiet,
    )
    result = await run_load(config)
    counts = result.summary["counts"]
    # AK0010000 -> AL0010000 (5): the dropped AM is sent again after the sequence gap closes
    # the link and the terminal logs on again; all arrive, the first 3 twice. AL -> AK (5).
    # AR0010000 -> AZ0010000 (5), sent within the first second: held past the 1 s timeout,
    # unanswered, then late. AZ -> AR (5).
    assert counts == counts | {
        "sent": 20,
        "acked": 20,
        "matched": 15,
        "unanswered": 5,
        "late": 5,
        "duplicated": 3,
        "stray": 0,
        "errors": 0,
        "unmatched": 5,
    }
    assert result.summary["reconnects"] == 1


async def test_the_iaq_profile_in_a_closed_loop_gets_every_expected_res(
    nlets_switch: SwitchServer, nlets_lesc: LescDaemon
) -> None:
    del nlets_lesc
    profile = builtin("iaq", read_identities(None, PINNED_CLOCK))
    config = LoadConfig(
        "127.0.0.1",
        nlets_switch.port,
        TEN[:3],
        profile,
        None,
        window=2,
        duration_s=None,
        count=60,
        warn=quiet,
        linger_s=0.2,
    )
    result = await run_load(config)
    summary = result.summary
    assert summary["counts"] == summary["counts"] | {
        "sent": 60,
        "matched": 60,
        "errors": 0,
        "replies": 120,
        "unmatched": 0,
    }
    codes = summary["codes"]
    assert codes["IAR ACK"] == 60
    assert sum(n for code, n in codes.items() if code.startswith("IAR RSP")) == 60
    assert not any(code.startswith("RES not") for code in codes)
    assert summary["latency"]["first"]["count"] == summary["latency"]["last"]["count"] == 60


def test_the_live_line_shows_rates_latency_and_errors() -> None:
    row = {
        "second": 3.0,
        "offered": 200.0,
        "completed": 198.0,
        "in_flight": 5.0,
        "p50_ms": 1.25,
        "p99_ms": 9.5,
        "errors": 0.0,
        "cpu_percent": 12.0,
    }
    assert live_line(row) == (
        "    3s  offered    200/s  completed    198/s  in flight      5  p50     1.2 ms  "
        "p99     9.5 ms  errors    0  cpu  12%"
    )


@pytest.fixture(scope="module")
def switch_port(tmp_path_factory: pytest.TempPathFactory) -> object:
    with running_switch(tmp_path_factory.mktemp("load")) as port:
        yield port


def load(port: object, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main,
        [
            "load",
            "--to",
            f"127.0.0.1:{port}",
            "--terminals",
            "4",
            "--rate",
            "40",
            "--count",
            "40",
            *extra,
        ],
    )
    return result.exit_code, result.stdout, result.stderr


def test_the_command_writes_a_csv_json_and_png_that_read_back(
    switch_port: object, tmp_path: Path
) -> None:
    from matplotlib import image  # noqa: PLC0415 - slow import, one test

    files = {name: tmp_path / f"run.{name}" for name in ("csv", "json", "png")}
    code, out, _ = load(
        switch_port,
        "--csv",
        str(files["csv"]),
        "--json",
        str(files["json"]),
        "--plot",
        str(files["png"]),
    )
    assert code == 0
    assert "profile am-pairs, 4 terminals" in out
    assert "requests  sent 40  acked 40  matched 40  errors 0  unanswered 0" in out
    summary = json.loads(files["json"].read_text())
    assert summary["counts"]["matched"] == 40
    assert summary["latency"]["last"]["count"] == 40
    with files["csv"].open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert sum(float(row["offered"]) for row in rows) == 40
    assert {"second", "offered", "completed", "p99_ms", "cpu_percent"} <= set(rows[0])
    pixels = image.imread(files["png"])
    assert pixels.shape[0] > 100
    assert pixels.shape[1] > 100


def test_fail_if_sets_the_exit_status_and_names_what_held(switch_port: object) -> None:
    assert load(switch_port, "--fail-if", "errors>0,unmatched>0,p99>5s")[0] == 0
    code, _, err = load(switch_port, "--fail-if", "p50>0us,errors>0")
    assert code == 1
    assert err.startswith("fail-if: p50>0us (measured ")
    assert "errors" not in err


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--fail-if", "p99>>5"], "cannot read the condition 'p99>>5'"),
        (["--rate", "fast"], "'fast' is not a rate"),
        (["--rate", "5", "--window", "2"], "not both"),
        (["--duration", "soon"], "is not a duration"),
        (["--profile", "sip"], "unknown profile 'sip'"),
    ],
)
def test_a_cli_mistake_is_one_sentence_and_exit_2(
    switch_port: object, args: list[str], sentence: str
) -> None:
    code, _, err = load(switch_port, *args)
    assert code == 2
    assert sentence in err
    assert "Traceback" not in err


def test_an_unreachable_switch_is_one_sentence_and_exit_1() -> None:
    code, _, err = load(1, "--count", "1")
    assert code == 1
    assert err.startswith("Error: 127.0.0.1:1: ")
    assert "Traceback" not in err


def test_lesc_year_from_the_command_line_sends_its_mix_on_a_compressed_clock(
    switch_port: object,
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "load",
            "--to",
            f"127.0.0.1:{switch_port}",
            "--profile",
            "lesc-year",
            "--clock",
            "2012-10-01T00:00",
            "--compress",
            "7d:3s",
            "--volume",
            "20000",
            "--timeout",
            "2s",
        ],
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"profile lesc-year, \d\d terminals", result.stdout)
    assert "sent by kind  iaqs " in result.stdout
    assert "SM .02." in result.stdout  # no LESC on this switch: the IAQs wait for it


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--profile", "lesc-year", "--rate", "5"], "lesc-year sets its own pace"),
        (["--compress", "7d"], "--compress is SIMULATED:REAL"),
        (["--clock", "someday"], "someday"),
    ],
)
def test_clock_mistakes_on_load_are_one_sentence(
    switch_port: object, args: list[str], sentence: str
) -> None:
    code, _, err = load(switch_port, *args)
    assert code == 2
    assert sentence in err


def test_a_clock_rate_without_a_clock_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--port", "0", "--data-dir", str(tmp_path), "--clock-rate", "60"]
    )
    assert result.exit_code == 2
    assert "a clock rate needs a clock to start from" in result.stderr
