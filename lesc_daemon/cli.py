"""``lesc-daemon``: the LESC's command line."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import ssl
import sys
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TextIO

import click

from formats.envelope import CRLF, InputMessage, parse_input
from formats.errors import MessageRejected
from formats.iaq import content_problems, parse_iaq
from lesc_daemon.daemon import DaemonConfig, LescDaemon
from lesc_daemon.delays import parse_delay
from lesc_daemon.records import RecordError, parse_person
from lesc_daemon.report import monthly_table, write_chart
from lesc_daemon.responder import Responder
from lesc_daemon.rules import RulesError, load_rules
from lesc_daemon.seed import catalogue, seed_store
from lesc_daemon.store import Store
from nlets_sim import __version__
from nlets_sim.cli_traffic import tls_options
from nlets_sim.client import parse_address
from nlets_sim.lint import prepare
from nlets_sim.logging_setup import configure_logging

DEFAULT_DB = Path("data/lesc.sqlite3")
_db = click.option(
    "--db",
    type=click.Path(path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="The LESC's SQLite store (created if missing).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lesc-daemon")
def main() -> None:
    """The automated ICE Law Enforcement Support Center: answers IAQ, YQ and AM over the
    simulated Nlets switch."""


@main.command()
@click.option("--switch", "address", default="127.0.0.1:7700", show_default=True)
@click.option("--ori", default="VTINS07S0", show_default=True)
@click.option("--key", default="K-VTINS07S0", show_default=True, help="The ORI's logon key.")
@_db
@click.option("--rules", type=click.Path(exists=True, path_type=Path), help="Rules TOML.")
@click.option(
    "--delay",
    default="0-2",
    show_default=True,
    help="IAQ response delay in seconds: SECONDS, MIN-MAX (uniform) or lognormal:MU,SIGMA.",
)
@tls_options
@click.option("-v", "--verbose", is_flag=True)
def run(
    *,
    address: str,
    ori: str,
    key: str,
    db: Path,
    rules: Path | None,
    delay: str,
    tls: ssl.SSLContext | None,
    verbose: bool,
) -> None:
    """Log on to the switch and answer until Ctrl-C; reconnects by itself."""
    host, port = parse_address(address)
    try:
        config = DaemonConfig(host, port, ori, key, db, rules, parse_delay(delay), tls=tls)
        load_rules(rules)
    except (ValueError, RulesError, ssl.SSLError) as error:
        raise click.UsageError(str(error)) from None
    configure_logging(verbose=verbose)
    asyncio.run(_run_until_signal(LescDaemon(config)))


async def _run_until_signal(daemon: LescDaemon) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await daemon.run()


@main.command("import")
@_db
@click.option("--strict", is_flag=True, help="Any bad line is fatal; nothing is loaded.")
@click.argument("source", type=click.File("r"))
def import_command(db: Path, source: TextIO, *, strict: bool) -> None:
    """Load persons from a JSON-lines file; bad lines are reported with their number."""
    persons, problems = [], []
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            persons.append(parse_person(line))
        except RecordError as error:
            problems.append(f"line {number}: {error}")
    for problem in problems:
        click.echo(problem, err=True)
    if problems and strict:
        raise click.ClickException(f"{len(problems)} bad line(s); nothing loaded (--strict)")
    store = Store(db)
    try:
        loaded = store.add_persons(persons)
    except sqlite3.IntegrityError as error:  # an id or NIC already in the store
        raise click.ClickException(f"not loaded: {error}") from None
    click.echo(f"loaded {loaded} person(s), skipped {len(problems)} bad line(s)")
    sys.exit(1 if problems else 0)


@main.command()
@_db
@click.option("--persons", default=10_000, show_default=True)
@click.option("--seed", default=1, show_default=True)
def seed(db: Path, persons: int, seed: int) -> None:
    """Generate a synthetic population plus the catalogue of test identities."""
    store = Store(db)
    if store.count_persons():
        raise click.ClickException(f"{db} already holds persons; use a new --db")
    loaded = seed_store(store, persons, seed, datetime.now().astimezone().date())
    click.echo(f"seeded {loaded} synthetic persons and {len(catalogue())} test identities")


@main.group()
def inbox() -> None:
    """The operator inbox: administrative messages sent to the LESC."""


@inbox.command("list")
@_db
def inbox_list(db: Path) -> None:
    for item in Store(db).inbox():
        first = item.text.split(CRLF, 1)[0][:50]
        state = "replied" if item.replied_at else "open"
        click.echo(f"{item.number:06d} {item.received_at} {item.sender} {state:<7} {first}")


@inbox.command("show")
@_db
@click.argument("number", type=int)
def inbox_show(db: Path, number: int) -> None:
    item = Store(db).inbox_item(number)
    if item is None:
        raise click.ClickException(f"no inbox message {number}")
    click.echo(f"{item.number:06d} from {item.sender} at {item.received_at}")
    click.echo(item.text.replace(CRLF, "\n"))
    if item.reply:
        click.echo(f"-- replied at {item.replied_at}:\n{item.reply}")


@inbox.command("reply")
@_db
@click.option("--ori", default="VTINS07S0", show_default=True, help="The LESC ORI replying.")
@click.argument("number", type=int)
@click.argument("text")
def inbox_reply(db: Path, ori: str, number: int, text: str) -> None:
    """Reply by AM; the running daemon sends it within a second."""
    store = Store(db)
    item = store.inbox_item(number)
    if item is None:
        raise click.ClickException(f"no inbox message {number}")
    message = InputMessage("AM", ori, (item.sender,), text.replace("\n", CRLF), item.control)
    now = datetime.now().astimezone().replace(tzinfo=None)
    store.schedule(now, message.build())
    store.mark_replied(number, now, text)
    click.echo(f"reply to {item.sender} queued")


@main.command()
@_db
def detainers(db: Path) -> None:
    """Detainers lodged: number, person, query, requesting ORI, when, basis."""
    for number, person, qrn, requester, lodged_at, basis in Store(db).detainers():
        click.echo(f"D{number:08d} {person} {qrn} {requester} {lodged_at} {basis}")


@main.command()
@_db
def leads(db: Path) -> None:
    """Leads referred to ICE field offices."""
    for number, person, qrn, requester, created_at, reason in Store(db).leads():
        click.echo(f"{number:08d} {person} {qrn} {requester} {created_at} {reason}")


@main.command()
@_db
@click.option("--rules", type=click.Path(exists=True, path_type=Path))
@click.argument("source", type=click.File("rb"), default="-")
def query(db: Path, rules: Path | None, source: BinaryIO) -> None:
    """Run an IAQ (a message, as sent to the switch) through matching and rules locally and
    print the IAR text it would get. Stores nothing."""
    raw = prepare(source.read())
    now = datetime.now().astimezone().replace(tzinfo=None)
    try:
        message = parse_input(raw)
        iaq = parse_iaq(message.text, now.date())
    except MessageRejected as rejected:
        details = " ".join((rejected.code.line("IAQ"), *rejected.details))
        raise click.ClickException(details) from None
    problems = content_problems(iaq)
    if problems:
        raise click.ClickException("TYP/REJ: " + "; ".join(problems))
    responder = Responder(Store(db), load_rules(rules), frozenset({"VTINS07S0"}))
    qrn = f"L{now:%y%m%d}000000"
    click.echo(
        responder.respond(iaq, qrn, message.sender, now, act=False).build().replace(CRLF, "\n")
    )


@main.command()
@_db
@click.option("--png", type=click.Path(path_type=Path), help="Also draw the chart here.")
def report(db: Path, png: Path | None) -> None:
    """IAQs per month by purpose and by requesting state."""
    rows = list(Store(db).queries_by_month())
    click.echo(monthly_table(rows))
    if png is not None:
        write_chart(rows, png)
        click.echo(f"chart written to {png}")
