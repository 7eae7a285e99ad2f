"""``nlets-sim screen``: one IAQ per row of a CSV list of persons, a bounded number in flight,
results as CSV (``screen.py`` says which columns), resumable after an interruption."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import stat
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TextIO

import click

from formats.envelope import CRLF
from nlets_sim.console.errors import OUTPUT_FILE, UserError
from nlets_sim.link.terminal import Delivery, LinkClosed, Terminal
from nlets_sim.switch.keys import LESC_LINE
from nlets_sim.tools.cli_traffic import Link, link_options
from nlets_sim.tools.screen import (
    BAD_ROW,
    DUPLICATE,
    REJECTED,
    Answer,
    BadRow,
    Defaults,
    Row,
    ScreenError,
    Summary,
    answer_from_iar,
    answered_lines,
    header_line,
    read_rows,
    result_line,
)


class Screening:
    """One run over the rows still to answer: sends their IAQs, at most ``in_flight`` waiting
    for an answer at a time, and writes each result row (flushed) as its answer arrives."""

    def __init__(
        self,
        terminal: Terminal,
        output: IO[str],
        *,
        summary: Summary,
        in_flight: int,
        timeout_s: float,
        tick: Callable[[], None],
    ) -> None:
        self.terminal = terminal
        self.output = output
        self.summary = summary
        self.room = asyncio.Semaphore(in_flight)
        self.timeout_s = timeout_s
        self.tick = tick
        self.waiting: dict[str, asyncio.Future[Answer]] = {}  # by control field
        self.copies: dict[int, list[Row]] = {}  # duplicate rows, by the line they copy
        self.written: set[int] = set()

    def write(self, line: int, ident: str, row: Row | None, answer: Answer) -> None:
        self.written.add(line)
        self.output.write(result_line(line, ident, row, answer))
        self.output.flush()
        self.summary.add(answer)
        self.tick()

    async def run(self, rows: list[Row]) -> None:
        await self.terminal.connect()
        try:
            async with asyncio.TaskGroup() as group:
                reader = group.create_task(self._dispatch())
                await asyncio.gather(*(self._ask(row) for row in rows))
                reader.cancel()
        finally:
            await self.terminal.close()

    async def _ask(self, row: Row) -> None:
        async with self.room:
            control = f"S{row.line}"
            answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
            self.waiting[control] = answer
            message = f"IAQ.{self.terminal.ori}.{LESC_LINE}.*{control}.TXT{CRLF}{row.iaq.build()}"
            await self.terminal.send(message.encode("ascii"))
            try:
                async with asyncio.timeout(self.timeout_s):
                    result = await answer
            except TimeoutError:
                copies = self.copies.pop(row.line, [])
                self.summary.unanswered += [row.line, *(copy.line for copy in copies)]
                return
            finally:
                self.waiting.pop(control, None)
        self.write(row.line, row.ident, row, result)
        for copy in self.copies.pop(row.line, []):
            self.write(copy.line, copy.ident, copy, _copied(result, row.line))

    async def _dispatch(self) -> None:
        while True:
            delivery = await self.terminal.receive(timeout=None)
            answer = _answer(delivery)
            waiting = self.waiting.get(delivery.message.control or "")
            if answer is not None and waiting is not None and not waiting.done():
                waiting.set_result(answer)


def _answer(delivery: Delivery) -> Answer | None:
    message = delivery.message
    if message.mke == "IAR":
        return answer_from_iar(message.text)
    if message.mke == "ER":
        return Answer(REJECTED, detail=message.text.split(CRLF, 1)[0])
    return None  # SM .02. (the LESC is away: the switch forwards later) and the like


def _copied(answer: Answer, line: int) -> Answer:
    return Answer(
        DUPLICATE, answer.qrn, answer.res, answer.fap, answer.a_number, answer.fbi, answer.nic,
        f"DUPLICATE OF LINE {line}",
    )  # fmt: skip


@contextlib.contextmanager
def _progress(total: int) -> Any:
    """A progress bar on standard error when it is a terminal; else nothing."""
    if not sys.stderr.isatty() or not total:
        yield lambda: None
        return
    with click.progressbar(length=total, label="screening", file=sys.stderr) as bar:
        yield lambda: bar.update(1)


@click.command("screen")
@link_options
@click.option("--pur", default="C", show_default=True, type=click.Choice(["C", "F"]))
@click.option("--atn", default="SCREENING", show_default=True, help="Attention, for every row.")
@click.option("--phn", default="2025550100", show_default=True, help="Phone, for every row.")
@click.option("--cus", default="N", show_default=True, type=click.Choice(["Y", "N"]))
@click.option("--off", default="0399", show_default=True, help="NCIC offense code.")
@click.option("--in-flight", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--timeout", default=120.0, show_default=True, help="Seconds to wait for each answer."
)
@click.option(
    "-o",
    "--output",
    type=OUTPUT_FILE,
    help="Write the results here instead of standard output (needed for --resume).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Skip the rows already answered in --output (or in the file standard output is"
    " appended to: >> results.csv) and add the others.",
)
@click.argument("persons", type=click.File("r", encoding="utf-8-sig"))
def screen_command(
    *,
    link: Link,
    pur: str,
    atn: str,
    phn: str,
    cus: str,
    off: str,
    in_flight: int,
    timeout: float,
    output: Path | None,
    resume: bool,
    persons: TextIO,
) -> None:
    """Screen a CSV list of persons: one IAQ to AX per row, the results as CSV.

    PERSONS has a header row naming its columns: NAM (or LAST, FIRST, MIDDLE), DOB, SEX, POB,
    optionally ARN FBI SID OLN SOC REM, ID (your reference) and per-row PUR ATN PHN CUS OFF.
    Bad rows are reported by line number and skipped; a summary goes to standard error.
    """
    today = datetime.now().astimezone().date()
    try:
        rows = list(read_rows(persons, Defaults(pur, atn, phn, cus, off), today))
    except ScreenError as error:
        raise click.ClickException(f"{persons.name}: {error}") from None
    except csv.Error as error:
        raise click.ClickException(f"{persons.name}: not CSV: {error}") from None
    except UnicodeDecodeError:
        raise UserError(f"{persons.name}: not UTF-8 text: save the list as UTF-8 CSV") from None
    results = output or (_stdout_file() if resume else None)
    if resume and results is None:
        raise click.UsageError(
            "--resume needs the results so far: --output FILE, or standard output appended to"
            " the file (>> results.csv)"
        )
    existing = _whole_rows(results) if resume and results is not None else ""
    done = answered_lines(existing)
    target: IO[str] = (
        output.open("a" if existing else "w", encoding="utf-8", newline="")
        if output
        else sys.stdout
    )
    summary = Summary(rows=sum(1 for r in rows if r.line > 1))
    summary.unanswered.sort()
    try:
        if not existing:
            target.write(header_line())
        _screen(
            link,
            rows,
            done=done,
            target=target,
            summary=summary,
            in_flight=in_flight,
            timeout=timeout,
        )
    finally:
        if target is not sys.stdout:
            target.close()
    click.echo(summary.text(), err=True)
    if summary.unanswered:
        sys.exit(1)


def _stdout_file() -> Path | None:
    """The regular file standard output goes to (``>> results.csv``), if it does."""
    try:
        number = sys.stdout.fileno()
        if stat.S_ISREG(os.fstat(number).st_mode):
            return Path(f"/proc/self/fd/{number}")
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
    return None


def _whole_rows(results: Path) -> str:
    """The results file's text up to its last line end; a last line cut short by an
    interruption is removed from the file, so that the rows appended next start a line."""
    try:
        data = results.read_bytes()
    except FileNotFoundError:
        return ""
    whole = data[: data.rfind(b"\n") + 1]
    if len(whole) != len(data):
        os.truncate(results, len(whole))
    return whole.decode("utf-8")


def _screen(
    link: Link,
    rows: list[Row | BadRow],
    *,
    done: dict[int, Answer],
    target: IO[str],
    summary: Summary,
    in_flight: int,
    timeout: float,
) -> None:
    terminal = link.terminal()
    to_ask: list[Row] = []
    first_of: dict[tuple[str | None, ...], Row] = {}
    pending = sum(1 for r in rows if r.line > 1 and r.line not in done)
    with _progress(pending) as tick:
        screening = Screening(
            terminal, target, summary=summary, in_flight=in_flight, timeout_s=timeout, tick=tick
        )
        for row in rows:
            if isinstance(row, BadRow):
                click.echo(f"line {row.line}: {row.reason}", err=True)
                if row.line > 1 and row.line not in done:
                    screening.write(row.line, row.ident, None, Answer(BAD_ROW, detail=row.reason))
                continue
            if row.line in done:
                summary.resumed += 1
                first_of.setdefault(row.person_key, row)
                continue
            first = first_of.setdefault(row.person_key, row)
            if first is row:
                to_ask.append(row)
            elif first.line in done:
                screening.write(row.line, row.ident, row, _copied(done[first.line], first.line))
            else:
                screening.copies.setdefault(first.line, []).append(row)
        try:
            asyncio.run(screening.run(to_ask))
        except* (LinkClosed, OSError) as failed:
            error = failed.exceptions[0]
            asked = {r.line for r in to_ask} | {
                c.line for cs in screening.copies.values() for c in cs
            }
            summary.unanswered = sorted(asked - screening.written)
            click.echo(summary.text(), err=True)
            raise click.ClickException(f"{link.address}: {error}") from None
