"""The simulated clock shared by the switch, the LESC and the load generator, and the
``lesc-year`` profile: its shape and mix, and a compressed week whose LESC report matches what
the generator sent."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from lesc_daemon.cli import main as lesc_main
from lesc_daemon.daemon import DaemonConfig, running
from lesc_daemon.delays import NO_DELAY
from lesc_daemon.ncic_desk import hit_confirmations
from lesc_daemon.store import Store
from lesc_daemon.totals import totals
from nlets_sim.link.simclock import SimulatedClock
from nlets_sim.switch.config import Config, default_directory, load_config
from nlets_sim.switch.server import SwitchServer
from nlets_sim.tools.cli_load import year_terminals
from nlets_sim.tools.load.identities import read_identities
from nlets_sim.tools.load.profiles import Draw
from nlets_sim.tools.load.runner import LoadConfig, run_load
from nlets_sim.tools.load.schedule import parse_compress
from nlets_sim.tools.load.year import FY2013, KINDS, YearProfile, factor, year_schedule

START = datetime(2012, 10, 1)  # FY 2013's first day, a Monday
IDENTITIES = read_identities(None, START)
ORIS = [ori for ori, _ in year_terminals(default_directory())]


def test_the_simulated_clock_runs_rate_times_faster_from_its_origin() -> None:
    clock = SimulatedClock(START, 52_560, origin=1000.0)
    assert clock.at(1000.0) == START
    assert clock.at(1600.0) == START + timedelta(days=365)  # a year in ten minutes
    assert clock.real_seconds(timedelta(minutes=10)) == 600 / 52_560
    assert parse_compress("365d:10m") == (365 * 86400, 600)


def test_the_switch_clock_runs_with_a_rate_and_stays_pinned_without() -> None:
    origin = time.time() - 10  # ten real seconds ago
    running_clock = Config(clock=START, clock_rate=3600, clock_origin=origin).now()
    assert START + timedelta(hours=10) <= running_clock <= START + timedelta(hours=10, minutes=5)
    assert Config(clock=START).now() == START
    config = load_config(None, {"clock": "2012-10-01T00:00", "clock_rate": 60.0})
    assert config.clock_origin is not None
    assert abs(config.clock_origin - time.time()) < 60


def test_a_year_carries_its_volume_in_its_shape() -> None:
    rate = 52_560.0
    schedule = year_schedule(START, rate, 1_400_000)
    year_s = 365 * 86400 / rate
    assert abs(schedule.due(year_s) - 1_400_000) < 1
    # a weekday noon is busier than a Sunday at 4 in the morning, by the documented factors
    noon, night = datetime(2012, 10, 3, 12), datetime(2012, 10, 7, 4)
    ratio = schedule.rate_at((noon - START).total_seconds() / rate) / schedule.rate_at(
        (night - START).total_seconds() / rate
    )
    assert abs(ratio - factor(noon) / factor(night)) < 1e-9
    assert factor(noon) / factor(night) > 4


def test_the_mix_keeps_each_kind_s_quota_at_any_point() -> None:
    import random  # noqa: PLC0415

    profile = YearProfile(IDENTITIES, ORIS)
    rng = random.Random(3)
    for number in range(30_000):
        request = profile.request(Draw(rng, ORIS, 0, f"C{number}", number, START))
        if number in {999, 9_999, 29_999}:
            for kind in KINDS:
                share = FY2013[kind] / FY2013["requests"]
                assert abs(profile.counts[kind] - (number + 1) * share) <= 1.5
        assert request.sender is not None
        text = request.message.decode()
        if profile.counts["secret_service"] and text.startswith("IAQ.DCUSSS000"):
            assert ".CUS/N." in text
    assert ORIS.count("DCUSSS000") == 1
    assert len(ORIS) > 50


async def test_a_compressed_week_leaves_a_report_that_matches_what_was_sent(
    tmp_path: Path,
) -> None:
    rate = 7 * 86400 / 14  # a week in 14 seconds
    origin = time.time() + 3  # the switch, the LESC and the terminals are up by then
    switch = SwitchServer(
        Config(
            port=0, data_dir=tmp_path / "switch", clock=START, clock_rate=rate, clock_origin=origin
        )
    )
    await switch.start()
    db = tmp_path / "lesc.sqlite3"
    lesc = DaemonConfig(
        port=switch.port,
        db=db,
        delay=NO_DELAY,
        seed=1,
        clock=START,
        clock_rate=rate,
        clock_origin=origin,
    )
    profile = YearProfile(IDENTITIES, ORIS)
    try:
        async with running(lesc):
            result = await run_load(
                LoadConfig(
                    "127.0.0.1",
                    switch.port,
                    year_terminals(default_directory()),
                    profile,
                    year_schedule(START, rate, 31_200),  # about 600 requests in the week
                    duration_s=14,
                    clock=START,
                    clock_rate=rate,
                    clock_origin=origin,
                    warn=lambda _line: None,
                    linger_s=0.5,
                )
            )
    finally:
        await switch.stop()
    summary = result.summary
    sent = summary["profile_sent"]
    assert summary["counts"] == summary["counts"] | {"errors": 0, "unmatched": 0, "late": 0}
    assert 500 < summary["counts"]["sent"] < 700
    assert sent["hit_confirmations"] >= 1
    assert sent["detainers"] >= 3
    for kind in KINDS:
        share = FY2013[kind] / FY2013["requests"]
        assert abs(sent[kind] - summary["counts"]["sent"] * share) <= 1.5
    store = Store(db)
    try:
        figures = totals(store)
        assert (figures.iaqs, figures.brady, figures.secret_service, figures.detainers) == (
            sent["iaqs"],
            sent["brady"],
            sent["secret_service"],
            sent["detainers"],
        )
        confirmations = hit_confirmations(store)
        assert (confirmations.answered, confirmations.late_urgent) == (sent["hit_confirmations"], 0)
        assert confirmations.late_routine == 0
        months = {row[0] for row in store.queries_by_month()}
        audit = store.audit_rows()
    finally:
        store.close()
    assert months == {"2012-10"}  # the simulated week, not today
    days = {str(row[3])[:10] for row in audit if row[1] == "IAQ"}
    assert days <= {f"2012-10-0{d}" for d in range(1, 9)}
    assert len(days) >= 6
    report = CliRunner().invoke(lesc_main, ["report", "--db", str(db)])
    assert report.exit_code == 0
    assert f"total IAQs: {sent['iaqs']:,}" in report.stdout
    assert f"detainers lodged: {sent['detainers']:,}" in report.stdout


def test_the_lesc_refuses_a_clock_rate_that_is_not_positive(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        lesc_main,
        [
            "run",
            "--db",
            str(tmp_path / "l.sqlite3"),
            "--clock",
            "2012-10-01T00:00",
            "--clock-rate",
            "0",
        ],
    )
    assert result.exit_code == 2
    assert "a clock rate is a positive number" in result.stderr
