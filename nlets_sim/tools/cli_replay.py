"""``nlets-sim replay`` and ``nlets-sim record``."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import click

from nlets_sim.console.errors import (
    HOST_PORT,
    ORI_OR_LINE,
    OUTPUT_FILE,
    SWITCH_TIME,
    UserError,
)
from nlets_sim.console.logging_setup import configure_logging
from nlets_sim.switch.cluster.plan import ClusterFileError, load_plan
from nlets_sim.switch.config import Config, default_directory
from nlets_sim.switch.directory import DirectoryError, load_directory
from nlets_sim.tools.cli_admin import data_dir_option, journal_path, open_journal
from nlets_sim.tools.cluster_run import PlanMap
from nlets_sim.tools.record import record
from nlets_sim.tools.replay import TranscriptResult, replay
from nlets_sim.tools.transcript import Send, Transcript, TranscriptError, decode_transcript, render


def junit(results: list[tuple[TranscriptResult, float]]) -> bytes:
    """A JUnit XML report: one test case per transcript, the failure text with its diff."""
    suite = ET.Element(
        "testsuite",
        name="nlets-sim replay",
        tests=str(len(results)),
        failures=str(sum(not r.passed for r, _ in results)),
    )
    for result, seconds in results:
        case = ET.SubElement(
            suite, "testcase", classname="transcripts", name=result.name, time=f"{seconds:.3f}"
        )
        if not result.passed:
            failure = ET.SubElement(case, "failure", message="transcript did not replay")
            failure.text = result.report()
    return bytes(ET.tostring(suite, encoding="utf-8", xml_declaration=True))


def transcript_files(paths: tuple[Path, ...]) -> list[Path]:
    """The files to replay: each file given, and each directory's ``*.txt`` in name order; a
    ``UserError`` for a directory that holds none."""
    files = []
    for path in paths:
        found = sorted(path.glob("*.txt")) if path.is_dir() else [path]
        if not found:
            raise UserError(f"{path} holds no transcripts (*.txt files): nothing to replay")
        files += found
    return files


def read(file: Path) -> Transcript | TranscriptResult:
    """The transcript in ``file``, or a failed result saying why it cannot be read."""
    try:
        return decode_transcript(file.read_bytes(), str(file))
    except TranscriptError as error:
        return TranscriptResult(str(file), unreadable=str(error))
    except OSError as error:
        return TranscriptResult(str(file), unreadable=f"{file}: {error.strerror or error}")


@click.command("replay")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--to", "target", type=HOST_PORT, help="A running switch, HOST:PORT. Default: embedded."
)
@click.option("--embedded", is_flag=True, help="A fresh switch + LESC per transcript (default).")
@click.option("--junit", "junit_path", type=OUTPUT_FILE, help="JUnit XML here.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="With --to: the switch's data directory, for operator steps.",
)
@click.option(
    "--cluster",
    "cluster_file",
    type=click.Path(exists=True, path_type=Path),
    help="Running switch nodes: each terminal logs on at its own node (--data-dir: their "
    "data directories' parent, DIR/<node>, for operator steps).",
)
@click.option("-q", "--quiet", is_flag=True, help="Only failures.")
def replay_command(
    paths: tuple[Path, ...],
    target: tuple[str, int] | None,
    junit_path: Path | None,
    data_dir: Path | None,
    cluster_file: Path | None,
    *,
    embedded: bool,
    quiet: bool,
) -> None:
    """Replay transcripts (files, or directories of *.txt); report each step, with a diff of
    expected against received on failure. Exit status: the number of failed transcripts."""
    if target and embedded:
        raise click.UsageError("--to and --embedded exclude each other")
    configure_logging(quiet=True)
    files = transcript_files(paths)
    cluster = None
    if cluster_file is not None:
        if target or embedded:
            raise click.UsageError("--cluster excludes --to and --embedded")
        try:
            plan = load_plan(cluster_file)
            directory = load_directory(default_directory())
            data_dirs = {name: data_dir / name for name in plan.nodes} if data_dir else {}
            cluster = PlanMap(plan, directory, data_dirs)
        except ClusterFileError as error:
            raise click.ClickException(str(error)) from None
    admin = Config(data_dir=data_dir).admin_path if data_dir else None
    results: list[tuple[TranscriptResult, float]] = []
    for file in files:  # each result printed as its transcript finishes
        started = time.monotonic()
        transcript = read(file)
        if isinstance(transcript, Transcript):
            result = asyncio.run(replay(transcript, target, admin, cluster))
        else:
            result = transcript
        results.append((result, time.monotonic() - started))
        if not quiet or not result.passed:
            click.echo(result.report())
    failed = sum(not result.passed for result, _ in results)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if junit_path is not None:
        junit_path.write_bytes(junit(results))
    sys.exit(failed)


@click.command("record")
@click.option("--ori", required=True, type=ORI_OR_LINE, help="The ORI whose traffic to record.")
@click.option("--since", type=SWITCH_TIME, help="From this time on, ISO 8601 (switch-local).")
@data_dir_option
@click.option(
    "--directory",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The switch's directory file [default: the shipped one].",
)
def record_command(ori: str, since: str | None, data_dir: Path, directory: Path | None) -> None:
    """Print the ORI's journaled traffic as a transcript, ready to replay."""
    directory_path = directory or default_directory()
    try:
        agencies = load_directory(directory_path).agencies
    except DirectoryError as error:
        raise UserError(str(error)) from None
    if ori not in agencies:
        raise UserError(f"{ori} is not an ORI of the directory {directory_path}")
    path = journal_path(data_dir)
    transcript = record(open_journal(data_dir), ori, since)
    if not any(isinstance(step, Send) for step in transcript.steps):
        after = f" since {since}" if since else ""
        raise UserError(f"{path} holds no message sent by {ori}{after}: nothing to record")
    click.echo(f"# recorded from {path}\n" + render(transcript), nl=False)
