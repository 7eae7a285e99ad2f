"""``nlets-sim load``: load a switch that speaks ``shared/PROTOCOL.md`` (ours or anyone's)
from many terminals, and report what came back."""

from __future__ import annotations

import asyncio
import csv
import ssl
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from formats.notices import SWITCH_ORI
from nlets_sim.console.errors import HOST_PORT, OUTPUT_FILE, UserError, link_failure, text_lines
from nlets_sim.console.tls import tls_options
from nlets_sim.link.terminal import LinkClosed
from nlets_sim.switch.config import default_directory
from nlets_sim.switch.directory import DirectoryError, demo_key, load_directory
from nlets_sim.switch.keys import LESC_LINE
from nlets_sim.tools.load.cpu import process_cpu_s
from nlets_sim.tools.load.failif import Condition, FailIfError, broken, parse_fail_if
from nlets_sim.tools.load.identities import IdentitiesError, read_identities
from nlets_sim.tools.load.profiles import (
    Profile,
    ProfileError,
    Sampler,
    builtin,
    read_profile,
    read_scenario,
)
from nlets_sim.tools.load.report import summary_table, write_csv, write_json, write_plot
from nlets_sim.tools.load.runner import LoadConfig, run_load
from nlets_sim.tools.load.schedule import (
    RateError,
    Schedule,
    parse_compress,
    parse_duration,
    parse_rate,
)
from nlets_sim.tools.load.year import FY2013, USSS_ORI, YearProfile, year_schedule

INPUT_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
NOT_TERMINALS = frozenset({SWITCH_ORI[:2], LESC_LINE})  # the switch's own line and the LESC's


def year_terminals(path: Path) -> list[tuple[str, str]]:
    """lesc-year's senders: every state's police (``<SS>0010000``) and the Secret Service."""
    directory = load_directory(path)
    oris = sorted(
        ori
        for ori, agency in directory.agencies.items()
        if "C" in agency.access
        and agency.line not in NOT_TERMINALS
        and (ori.endswith("0010000") or ori == USSS_ORI)
    )
    return [(ori, demo_key(ori)) for ori in oris]


def directory_terminals(path: Path, count: int) -> list[tuple[str, str]]:
    """``count`` ORIs of the directory that may send IAQs (category C), spread over the
    states (every state's police first, then its sheriff ...), with the demo keys."""
    directory = load_directory(path)
    oris = sorted(
        (
            agency.ori
            for agency in directory.agencies.values()
            if "C" in agency.access and agency.line not in NOT_TERMINALS
        ),
        key=lambda ori: (ori[2:], ori),
    )
    if count > len(oris):
        raise click.UsageError(f"the directory {path} has only {len(oris)} terminals")
    return [(ori, demo_key(ori)) for ori in oris[:count]]


def csv_terminals(path: Path, count: int | None) -> list[tuple[str, str]]:
    """``ori,key`` rows (a header row ``ori,key`` is skipped)."""
    rows = []
    for number, row in enumerate(csv.reader(text_lines(path)), start=1):
        if not row or row == ["ori", "key"]:
            continue
        if len(row) != 2 or len(row[0]) != 9:
            raise click.UsageError(f"{path} line {number}: expected ORI,KEY (a 9-character ORI)")
        rows.append((row[0].strip(), row[1].strip()))
    if not rows:
        raise click.UsageError(f"{path} lists no terminals")
    return rows[:count] if count else rows


def choose_profile(
    name: str, scenario: Path | None, identities: Path | None, now: datetime
) -> Profile:
    if scenario is not None:
        return read_scenario(scenario)
    people = read_identities(identities, now) if name != "am-pairs" or identities else []
    if name.endswith(".toml"):
        return read_profile(Path(name), people)
    return builtin(name, people)


def _duration(_ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except RateError as error:
        raise click.BadParameter(str(error), param=param) from None


def _stderr_line(text: str) -> None:
    click.echo(text, err=True)


@click.command("load")
@click.option(
    "--to",
    "address",
    type=HOST_PORT,
    default="127.0.0.1:7700",
    show_default=True,
    help="The switch, HOST:PORT.",
)
@tls_options
@click.option(
    "--terminals", type=click.IntRange(min=1), help="How many terminals log on [default: 10]."
)
@click.option(
    "--directory",
    type=INPUT_FILE,
    help="Take ORIs from this directory TOML (demo keys) [default: ours].",
)
@click.option(
    "--credentials",
    type=INPUT_FILE,
    help="A CSV of ori,key for another switch's terminals.",
)
@click.option(
    "--profile",
    default="am-pairs",
    show_default=True,
    help="am-pairs, iaq, lesc-year, or a profile FILE.toml.",
)
@click.option(
    "--scenario",
    type=INPUT_FILE,
    help="A transcript each terminal sends in a loop (instead of --profile).",
)
@click.option(
    "--identities",
    type=INPUT_FILE,
    help="Persons (JSONL, the LESC import format) to ask about [default: the test identities].",
)
@click.option(
    "--rate", help="Open loop: requests/s, a ramp FROM:TO:TIME or steps R@TIME,... [default: 100]."
)
@click.option(
    "--window", type=click.IntRange(min=1), help="Closed loop: requests in flight per terminal."
)
@click.option(
    "--duration",
    callback=_duration,
    help="How long to send, e.g. 60s [default: 10s unless --count].",
)
@click.option("--count", type=click.IntRange(min=1), help="Send this many requests.")
@click.option("--warmup", callback=_duration, help="Leave the first TIME out of the figures.")
@click.option(
    "--timeout",
    callback=_duration,
    help="A request without its replies by then is unanswered [default: 10s].",
)
@click.option(
    "--clock", help="The simulated clock's start (dates in the traffic; lesc-year's day one)."
)
@click.option(
    "--compress",
    help="Run the simulated clock fast, SIMULATED:REAL, e.g. 365d:10m (the default --duration).",
)
@click.option(
    "--clock-origin",
    type=float,
    help="The Unix time at which the clock reads --clock (give the switch and LESC the same).",
)
@click.option(
    "--volume",
    type=click.FloatRange(min=1),
    help="lesc-year: requests a year [default: 1,400,000].",
)
@click.option(
    "--switch-pid", type=int, help="Print this process's CPU per exchange too (the switch)."
)
@click.option("--lesc-pid", type=int, help="And this one's (the LESC daemon).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the profile's draws.")
@click.option(
    "--csv",
    "csv_path",
    type=OUTPUT_FILE,
    help="Write per-second figures here.",
)
@click.option(
    "--json",
    "json_path",
    type=OUTPUT_FILE,
    help="Write the summary here.",
)
@click.option(
    "--plot",
    type=OUTPUT_FILE,
    help="Draw rate and latency over time to this PNG.",
)
@click.option(
    "--fail-if", "fail_if", help='Exit 1 when any holds, e.g. "p99>50ms,errors>0,unmatched>0".'
)
def load_command(
    *,
    address: tuple[str, int],
    tls: ssl.SSLContext | None,
    terminals: int | None,
    directory: Path | None,
    credentials: Path | None,
    profile: str,
    scenario: Path | None,
    identities: Path | None,
    rate: str | None,
    window: int | None,
    duration: float | None,
    count: int | None,
    warmup: float | None,
    timeout: float | None,
    clock: str | None,
    compress: str | None,
    clock_origin: float | None,
    volume: float | None,
    switch_pid: int | None,
    lesc_pid: int | None,
    seed: int,
    csv_path: Path | None,
    json_path: Path | None,
    plot: Path | None,
    fail_if: str | None,
) -> None:
    """Load a switch from many terminals and report rate, latency and what came back.

    Every request carries its own control field; every AK and delivery is matched to its
    request by it. Exit status 0, or 1 when a --fail-if condition holds.
    """
    if rate is not None and window is not None:
        raise click.UsageError("give --rate (open loop) or --window (closed loop), not both")
    if profile == "lesc-year" and (rate is not None or window is not None or scenario):
        raise click.UsageError("lesc-year sets its own pace: no --rate, --window or --scenario")
    try:
        start = datetime.fromisoformat(clock) if clock is not None else None
        span, wall = parse_compress(compress) if compress is not None else (1.0, 1.0)
        conditions = parse_fail_if(fail_if) if fail_if is not None else ()
    except (RateError, FailIfError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    clock_rate = span / wall
    now = start or datetime.now().astimezone().replace(tzinfo=None)
    try:
        if credentials is not None:
            logons = csv_terminals(credentials, terminals)
        elif profile == "lesc-year":
            logons = year_terminals(directory or default_directory())
        else:
            logons = directory_terminals(directory or default_directory(), terminals or 10)
        if profile == "lesc-year":
            people = read_identities(identities, now)
            chosen: Sampler = YearProfile(people, [ori for ori, _ in logons])
            schedule: Schedule | None = year_schedule(now, clock_rate, volume or FY2013["requests"])
        else:
            chosen = choose_profile(profile, scenario, identities, now)
            schedule = None if window is not None else parse_rate(rate or "100")
    except (ProfileError, IdentitiesError, DirectoryError, RateError) as error:
        raise click.UsageError(str(error)) from None
    if duration is None and count is None:
        duration = wall if compress is not None else 10.0
    host, port = address
    pids = {"switch": switch_pid, "lesc": lesc_pid}
    config = LoadConfig(
        host,
        port,
        logons,
        chosen,
        schedule,
        window=window,
        duration_s=duration,
        count=count,
        warmup_s=warmup or 0.0,
        timeout_s=timeout if timeout is not None else 10.0,
        seed=seed,
        clock=start,
        clock_rate=clock_rate,
        clock_origin=clock_origin,
        tls=tls,
        live=_stderr_line if sys.stderr.isatty() else None,
        warn=_stderr_line,
        watch_pids={name: pid for name, pid in pids.items() if pid is not None},
    )
    run_and_report(config, conditions, (csv_path, json_path, plot))


def run_and_report(
    config: LoadConfig,
    conditions: tuple[Condition, ...],
    files: tuple[Path | None, Path | None, Path | None],
) -> None:
    for name, pid in config.watch_pids.items():
        try:
            process_cpu_s(pid)
        except OSError:
            raise click.UsageError(f"no process {pid} to watch as the {name}") from None
    try:
        result = asyncio.run(run_load(config))
    except (LinkClosed, OSError, TimeoutError) as error:
        address = f"{config.host}:{config.port}"
        raise UserError(f"{address}: {link_failure(error)}") from None
    report(result.summary, result.seconds, *files)
    failures = broken(conditions, result.summary)
    for failure in failures:
        click.echo(f"fail-if: {failure}", err=True)
    sys.exit(1 if failures else 0)


def report(
    summary: dict[str, Any],
    seconds: list[dict[str, float]],
    csv_path: Path | None,
    json_path: Path | None,
    plot: Path | None,
) -> None:
    click.echo(summary_table(summary))
    if "profile_sent" in summary:
        sent = summary["profile_sent"]
        click.echo("sent by kind  " + "  ".join(f"{k} {v:,}" for k, v in sent.items()))
    if csv_path is not None:
        write_csv(csv_path, seconds)
    if json_path is not None:
        write_json(json_path, summary)
    if plot is not None:
        write_plot(plot, seconds, f"nlets-sim load: profile {summary['profile']}")
