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

from fixtures.make_directory import demo_key
from nlets_sim.cli_traffic import tls_options
from nlets_sim.client import LinkClosed, parse_address
from nlets_sim.config import default_directory
from nlets_sim.directory import DirectoryError, load_directory
from nlets_sim.load.failif import FailIfError, broken, parse_fail_if
from nlets_sim.load.identities import IdentitiesError, read_identities
from nlets_sim.load.profiles import Profile, ProfileError, builtin, read_profile, read_scenario
from nlets_sim.load.report import summary_table, write_csv, write_json, write_plot
from nlets_sim.load.runner import LoadConfig, run_load
from nlets_sim.load.schedule import RateError, parse_duration, parse_rate

INPUT_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
NOT_TERMINALS = frozenset({"NL", "AX"})  # the switch's own line and the LESC's


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
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or row == ["ori", "key"]:
                continue
            if len(row) != 2 or len(row[0]) != 9:
                raise click.UsageError(
                    f"{path} line {number}: expected ORI,KEY (a 9-character ORI)"
                )
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
    "--to", "address", default="127.0.0.1:7700", show_default=True, help="The switch, HOST:PORT."
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
    help="am-pairs, iaq, or a profile FILE.toml.",
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
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the profile's draws.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write per-second figures here.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the summary here.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw rate and latency over time to this PNG.",
)
@click.option(
    "--fail-if", "fail_if", help='Exit 1 when any holds, e.g. "p99>50ms,errors>0,unmatched>0".'
)
def load_command(
    *,
    address: str,
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
    try:
        schedule = None if window is not None else parse_rate(rate or "100")
        conditions = parse_fail_if(fail_if) if fail_if is not None else ()
    except (RateError, FailIfError) as error:
        raise click.UsageError(str(error)) from None
    now = datetime.now().astimezone().replace(tzinfo=None)
    try:
        chosen = choose_profile(profile, scenario, identities, now)
        if credentials is not None:
            logons = csv_terminals(credentials, terminals)
        else:
            logons = directory_terminals(directory or default_directory(), terminals or 10)
    except (ProfileError, IdentitiesError, DirectoryError) as error:
        raise click.UsageError(str(error)) from None
    host, port = parse_address(address)
    config = LoadConfig(
        host,
        port,
        logons,
        chosen,
        schedule,
        window=window,
        duration_s=duration if duration is not None or count is not None else 10.0,
        count=count,
        warmup_s=warmup or 0.0,
        timeout_s=timeout if timeout is not None else 10.0,
        seed=seed,
        tls=tls,
        live=_stderr_line if sys.stderr.isatty() else None,
        warn=_stderr_line,
    )
    try:
        result = asyncio.run(run_load(config))
    except (LinkClosed, OSError, TimeoutError) as error:
        raise click.ClickException(f"{address}: {error or 'timed out'}") from None
    report(result.summary, result.seconds, csv_path, json_path, plot)
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
    if csv_path is not None:
        write_csv(csv_path, seconds)
    if json_path is not None:
        write_json(json_path, summary)
    if plot is not None:
        write_plot(plot, seconds, f"nlets-sim load: profile {summary['profile']}")
