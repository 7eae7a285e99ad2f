"""``lesc-daemon``: the LESC's command line."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import getpass
import signal
import sqlite3
import ssl
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import click
from click.core import ParameterSource

from formats.envelope import CRLF, InputMessage, parse_input
from formats.errors import MessageRejected
from formats.iaq import content_problems, parse_iaq
from lesc_daemon.daemon import LescDaemon, load_daemon_config
from lesc_daemon.lesc import Lesc
from lesc_daemon.ncic_desk import DeskError, DeskRecord, NcicDesk, hit_confirmations
from lesc_daemon.oris import LESC_KEY, LESC_ORI
from lesc_daemon.person_json import PersonJsonError, parse_person
from lesc_daemon.persons import NCIC_TYPES
from lesc_daemon.report import monthly_table, write_chart
from lesc_daemon.rules import Rules, RulesError, load_rules
from lesc_daemon.seed import catalogue, seed_store
from lesc_daemon.store import Store
from lesc_daemon.store_faults import (
    StoreDamaged,
    cannot_write_now,
    damaged_text,
    integrity_problems,
    is_damaged,
)
from lesc_daemon.totals import totals
from nlets_sim import __version__
from nlets_sim.bus.address import parse_broker_url
from nlets_sim.bus.events import check_node_name
from nlets_sim.console.errors import (
    HOST_PORT,
    ORI,
    OUTPUT_FILE,
    BadSetting,
    FriendlyGroup,
    UserError,
    ascii_value,
    existing_file,
    writable_directory,
)
from nlets_sim.console.logging_setup import configure_logging, log_options
from nlets_sim.console.message_file import prepare
from nlets_sim.console.tls import tls_path_options
from nlets_sim.link.terminal import LogonRejected, SessionTakenOver

DEFAULT_DB = Path("data/lesc.sqlite3")


def _remember_db(ctx: click.Context, _param: click.Parameter, value: Path) -> Path:
    ctx.meta["lesc_db"] = value  # for the damaged-store sentence of any command
    return value


_db = click.option(
    "--db",
    type=click.Path(path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="The LESC's SQLite store.",
    callback=_remember_db,
)
NO_STORE_HINT = "give the --db of a store made by lesc-daemon seed or import"


class _Commands(FriendlyGroup):
    """A damaged store is told in a paragraph naming the file, and a store that cannot be
    written in a sentence, whichever command met it."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except StoreDamaged as error:
            raise click.ClickException(str(error)) from None
        except sqlite3.Error as error:
            db = ctx.meta.get("lesc_db", DEFAULT_DB)
            if is_damaged(error):
                raise click.ClickException(damaged_text(db, str(error))) from None
            if cannot_write_now(error):
                raise click.ClickException(
                    f"cannot write the LESC store {db} ({error}); make room on its disk or"
                    " mend the device, then run the command again"
                ) from None
            raise


def open_store(db: Path, *, create: bool = False) -> Store:
    """The store at ``db``; read-only commands (``create`` false) never make an empty one."""
    if create:
        writable_directory(db.parent, "the store's directory")
    else:
        existing_file(db, "LESC store", NO_STORE_HINT)
    refuse_other_files(db)
    return Store(db)


SQLITE_HEADER_BYTES = 100  # a database file is never shorter than its header


def refuse_other_files(db: Path) -> None:
    """A file at ``db`` shorter than an SQLite header but not empty (a note given as --db by
    mistake) is refused: SQLite would take it for an empty database and write over it. A
    longer file that is not a database is the group's "damaged" paragraph."""
    if db.is_file() and 0 < db.stat().st_size < SQLITE_HEADER_BYTES:
        raise UserError(
            f"{db} is not a LESC store (a file of {db.stat().st_size} bytes, not an SQLite"
            f" database); {NO_STORE_HINT}"
        )  # a damaged store: the group's paragraph (_Commands)


def checked_rules(rules: Path | None) -> Rules:
    try:
        return load_rules(rules)
    except RulesError as error:
        raise BadSetting(f"{rules}: {error}") from None
    except UnicodeDecodeError:
        raise BadSetting(f"{rules}: not a TOML text file (not UTF-8)") from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lesc-daemon")
def main() -> None:
    """The automated ICE Law Enforcement Support Center: answers IAQ, YQ and AM over the
    simulated Nlets switch."""


@main.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML file of the settings below (top level or under [lesc]); flags given win.",
)
@click.option(
    "--switch", type=HOST_PORT, default="127.0.0.1:7700", show_default=True, help="HOST:PORT."
)
@click.option("--ori", type=ORI, default=LESC_ORI, show_default=True)
@click.option(
    "--key",
    default=LESC_KEY,
    show_default=True,
    callback=ascii_value,
    help="The ORI's logon key.",
)
@_db
@click.option("--rules", type=click.Path(exists=True, path_type=Path), help="Rules TOML.")
@click.option(
    "--delay",
    default="0-2",
    show_default=True,
    help="IAQ response delay in seconds: SECONDS, MIN-MAX (uniform) or lognormal:MU,SIGMA.",
)
@click.option("--clock", help="Start the LESC's clock here, e.g. 2012-10-01T00:00 [default: now].")
@click.option(
    "--clock-rate",
    type=float,
    default=1.0,
    show_default=True,
    help="Simulated seconds per second of the clock started by --clock.",
)
@click.option(
    "--clock-origin",
    type=float,
    help="The Unix time at which the clock reads --clock [default: when the daemon starts].",
)
@tls_path_options
@click.option("--mqtt", help="Publish events to this broker, e.g. mqtt://127.0.0.1:1883.")
@click.option("--mqtt-ca", type=click.Path(exists=True, path_type=Path), help="CA for mqtts://.")
@click.option("--node", default="lesc", show_default=True, help="The LESC's name on the bus.")
@click.option("--events-with-text", is_flag=True, help="Names, DOBs and identifiers in events.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@log_options
def run(
    *,
    config_file: Path | None,
    switch: tuple[str, int],
    verbose: bool,
    log_format: str | None,
    log_with_text: bool,
    quiet: bool,
    **flags: object,
) -> None:
    """Log on to the switch and answer until Ctrl-C; reconnects by itself."""
    ctx = click.get_current_context()
    given = {
        name: value
        for name, value in flags.items()
        if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT
    }
    if ctx.get_parameter_source("switch") is not ParameterSource.DEFAULT:
        given["host"], given["port"] = switch
    try:
        config = load_daemon_config(config_file, given)
        check_node_name(config.node)
        if config.mqtt is not None:
            parse_broker_url(config.mqtt, config.mqtt_ca)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    try:
        config.tls_context()
    except (OSError, ssl.SSLError) as error:
        raise click.UsageError(f"TLS: {error}") from None
    ctx.meta["lesc_db"] = config.db
    rules, db = config.rules, config.db
    checked_rules(rules)
    open_store(db, create=True).close()
    configure_logging(verbose=verbose, quiet=quiet, log_format=log_format, with_text=log_with_text)
    asyncio.run(_run_until_signal(LescDaemon(config)))


async def _run_until_signal(daemon: LescDaemon) -> None:
    """Serve until SIGINT or SIGTERM; a rejected logon or a session another terminal took
    over ends the daemon with that sentence."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    task = asyncio.create_task(daemon.run())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    while not task.done():  # cancel until it ends: one cancel can be swallowed mid-reconnect
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    if task.cancelled():
        return
    try:
        task.result()
    except LogonRejected as rejected:
        raise UserError(
            f"the switch refused the logon as {daemon.config.ori}: {rejected.reason}"
            " (check --ori and --key)"
        ) from None
    except SessionTakenOver as taken:
        raise UserError(str(taken)) from None


@main.command()
@_db
def check(db: Path) -> None:
    """Run SQLite's integrity check on the store; exit 1 when it is damaged."""
    if not db.is_file():
        raise click.ClickException(f"no LESC store at {db}")
    refuse_other_files(db)
    problems = integrity_problems(db)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(damaged_text(db, problems[0]))
    click.echo(f"{db}: integrity check passed")


@main.command("import")
@_db
@click.option("--strict", is_flag=True, help="Any bad line is fatal; nothing is loaded.")
@click.argument("source", type=click.File("rb"))
def import_command(db: Path, source: BinaryIO, *, strict: bool) -> None:
    """Load persons from a JSON-lines file (UTF-8, one object per line); bad lines are
    reported with their number."""
    data = source.read()
    if b"\0" in data[:8192]:
        raise UserError(f"{source.name} is a binary file: the import takes JSON lines")
    persons, problems = [], []
    lines_of: dict[str, int] = {}  # person id -> the line it came from
    for number, line in enumerate(data.removeprefix(codecs.BOM_UTF8).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            person = parse_person(line.decode("utf-8"))
        except UnicodeDecodeError as error:
            problems.append(f"line {number}: not UTF-8 text (byte {line[error.start]:#04x})")
            continue
        except PersonJsonError as error:
            problems.append(f"line {number}: {error}")
            continue
        if person.id in lines_of:
            problems.append(f"line {number}: id {person.id} already on line {lines_of[person.id]}")
            continue
        lines_of[person.id] = number
        persons.append(person)
    if not persons and not problems:
        raise UserError(
            f"{source.name} holds no persons (one JSON object per line): nothing loaded"
        )
    store = open_store(db, create=True)
    for known in sorted(store.known_person_ids(lines_of)):
        problems.append(f"line {lines_of[known]}: id {known} is already in {db}")
        persons = [person for person in persons if person.id != known]
    for problem in problems:
        click.echo(problem, err=True)
    if problems and strict:
        raise UserError(f"{len(problems)} bad line(s); nothing loaded (--strict)")
    try:
        loaded = store.add_persons(persons)
    except sqlite3.IntegrityError as error:  # a NIC already in the store
        raise UserError(f"not loaded: {error}") from None
    click.echo(f"loaded {loaded} person(s), skipped {len(problems)} bad line(s)")
    sys.exit(1 if problems else 0)


@main.command()
@_db
@click.option("--persons", type=click.IntRange(min=0), default=10_000, show_default=True)
@click.option("--seed", default=1, show_default=True)
def seed(db: Path, persons: int, seed: int) -> None:
    """Generate a synthetic population plus the catalogue of test identities."""
    store = open_store(db, create=True)
    if store.count_persons():
        raise UserError(f"{db} already holds persons; use a new --db")
    today = datetime.now().astimezone().date()
    with click.progressbar(
        length=persons, label="seeding", file=sys.stderr, show_pos=True, show_eta=True
    ) as bar:
        loaded = seed_store(store, persons, seed, today, progress=bar.update)
    click.echo(f"seeded {loaded} synthetic persons and {len(catalogue())} test identities")


@main.group()
def inbox() -> None:
    """The operator inbox: administrative messages sent to the LESC."""


@inbox.command("list")
@_db
def inbox_list(db: Path) -> None:
    for item in open_store(db).inbox():
        first = item.text.split(CRLF, 1)[0][:50]
        state = "replied" if item.replied_at else "open"
        click.echo(f"{item.number:06d} {item.received_at} {item.sender} {state:<7} {first}")


@inbox.command("show")
@_db
@click.argument("number", type=int)
def inbox_show(db: Path, number: int) -> None:
    item = open_store(db).inbox_item(number)
    if item is None:
        raise click.ClickException(f"no inbox message {number}")
    click.echo(f"{item.number:06d} from {item.sender} at {item.received_at}")
    click.echo(item.text.replace(CRLF, "\n"))
    if item.reply:
        click.echo(f"-- replied at {item.replied_at}:\n{item.reply}")


@inbox.command("reply")
@_db
@click.option("--ori", type=ORI, default=LESC_ORI, show_default=True, help="The LESC ORI replying.")
@click.argument("number", type=int)
@click.argument("text", callback=ascii_value)
def inbox_reply(db: Path, ori: str, number: int, text: str) -> None:
    """Reply by AM; the running daemon sends it within a second."""
    store = open_store(db)
    item = store.inbox_item(number)
    if item is None:
        raise click.ClickException(f"no inbox message {number}")
    message = InputMessage("AM", ori, (item.sender,), text.replace("\n", CRLF), item.control)
    now = datetime.now().astimezone().replace(tzinfo=None)
    store.schedule(now, message.build())
    store.mark_replied(number, now, text)
    click.echo(f"reply to {item.sender} queued")


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Rows under a header line, in columns as wide as their widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _seconds(stamp: object) -> str:
    """A stored ISO time to the second, for people."""
    return str(stamp)[:19].replace("T", " ")


@main.command()
@_db
def detainers(db: Path) -> None:
    """Detainers lodged: number, person, query, requesting ORI, when, basis."""
    rows = [
        (f"D{number:08d}", str(person), str(qrn), str(requester), _seconds(lodged), str(basis))
        for number, person, qrn, requester, lodged, basis in open_store(db).detainers()
    ]
    _table(("DETAINER", "PERSON", "QRN", "REQUESTER", "LODGED", "BASIS"), rows)


@main.command()
@_db
def leads(db: Path) -> None:
    """Leads referred to ICE field offices."""
    rows = [
        (f"{number:08d}", str(person), str(qrn), str(requester), _seconds(created), str(reason))
        for number, person, qrn, requester, created, reason in open_store(db).leads()
    ]
    _table(("LEAD", "PERSON", "QRN", "REQUESTER", "CREATED", "REASON"), rows)


@main.command()
@_db
@click.option("--rules", type=click.Path(exists=True, path_type=Path))
@click.argument("source", type=click.File("rb"), default="-")
def query(db: Path, rules: Path | None, source: BinaryIO) -> None:
    """Run an IAQ (a message, as sent to the switch) through matching and rules locally and
    print the IAR text it would get. Stores nothing."""
    store = open_store(db)
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
    responder = Lesc(store, checked_rules(rules), frozenset({LESC_ORI}))
    qrn = f"L{now:%y%m%d}000000"
    click.echo(
        responder.respond(iaq, qrn, message.sender, now, act=False).build().replace(CRLF, "\n")
    )


@main.command()
@_db
@click.option("--png", type=OUTPUT_FILE, help="Also draw the chart here.")
@click.option(
    "--month",
    type=click.DateTime(["%Y-%m"]),
    help="The chart's last month, YYYY-MM [default: this month].",
)
def report(db: Path, png: Path | None, month: datetime | None) -> None:
    """IAQs per month by purpose and by requesting state; with --png, a chart of the past 12
    months by purpose and by state."""
    store = open_store(db)
    rows = list(store.queries_by_month())
    click.echo(monthly_table(rows))
    for line in totals(store).lines():
        click.echo(line)
    yq = hit_confirmations(store)
    click.echo(
        f"hit confirmations (YQ): {yq.answered} answered, {yq.late_urgent + yq.late_routine} late"
        f" ({yq.late_urgent} urgent past 10 minutes, {yq.late_routine} routine past 1 hour)"
    )
    if png is not None:
        last = month.date() if month is not None else datetime.now().astimezone().date()
        try:
            write_chart(rows, png, last)
        except OSError as error:
            raise UserError(f"cannot write the chart to {png}: {error.strerror}") from None
        click.echo(f"chart written to {png}")


# The NCIC record desk (ncic_desk.py) ------------------------------------------------------

_operator = click.option(
    "--operator",
    "--by",
    default=getpass.getuser,
    show_default="your login name",
    help="Who makes the change (audited with the time).",
)


def _desk_now() -> datetime:
    return datetime.now().astimezone().replace(tzinfo=None)


def _desk_line(desk: DeskRecord) -> str:
    record = desk.record
    due = desk.validation_due.isoformat() if desk.validation_due else "-"
    return (
        f"{record.nic} {record.type:<14} ORI/{record.ori} {desk.state:<9} {desk.person_id}"
        f" OCA/{record.oca or '-'} VALIDATE-BY {due}"
    )


@main.group()
def ncic() -> None:
    """The NCIC record desk: ICE's records in NCIC (warrants, deported-felon and absconder
    lookouts). Each change is audited with the operator and the time; the running daemon
    answers the next YQ from the changed record."""


@ncic.command("enter")
@_db
@_operator
@click.option("--person", "person_id", required=True, help="The person's id in the store.")
@click.option(
    "--type", "kind", required=True, type=click.Choice(sorted(NCIC_TYPES), case_sensitive=False)
)
@click.option("--ori", default=LESC_ORI, show_default=True, help="Originating agency.")
@click.option("--oca", callback=ascii_value, help="Originating agency case number.")
@click.option("--nic", help="The NIC (a letter and 9 digits); default: the next I-number.")
def ncic_enter(
    *,
    db: Path,
    operator: str,
    person_id: str,
    kind: str,
    ori: str,
    oca: str | None,
    nic: str | None,
) -> None:
    """Enter a new active record."""
    with _desk(db) as desk:
        record = desk.enter(
            person_id,
            kind=kind,
            ori=ori.upper(),
            oca=oca,
            operator=operator,
            at=_desk_now(),
            nic=nic,
        )
    click.echo(f"entered {record.nic} {record.type} ORI/{record.ori} on {person_id}")


@ncic.command("modify")
@_db
@_operator
@click.argument("nic")
@click.option("--type", "kind", type=click.Choice(sorted(NCIC_TYPES), case_sensitive=False))
@click.option("--ori")
@click.option("--oca", callback=ascii_value)
def ncic_modify(
    *, db: Path, operator: str, nic: str, kind: str | None, ori: str | None, oca: str | None
) -> None:
    """Change the type, ORI or OCA of an active record."""
    with _desk(db) as desk:
        desk.modify(nic, operator, _desk_now(), kind=kind, ori=ori and ori.upper(), oca=oca)
        click.echo(f"modified {_desk_line(desk.show(nic))}")


def _ending_command(action: str, done: str, example: str, doc: str) -> click.Command:
    """``ncic clear`` or ``ncic cancel``: the record stops being active."""

    @_db
    @_operator
    @click.argument("nic")
    @click.option("--reason", default="", help=f"E.g. {example}.")
    def command(db: Path, operator: str, nic: str, reason: str) -> None:
        with _desk(db) as desk:
            desk.deactivate(nic, action, operator, _desk_now(), reason.upper())
        click.echo(f"{done} {nic}")

    return click.command(action.lower(), help=doc)(command)


ncic.add_command(
    _ending_command(
        "CLEAR",
        "cleared",
        "SUBJECT LOCATED AND DETAINED",
        "Clear a record (the subject was located); YQs on it then get CON/N.",
    )
)
ncic.add_command(
    _ending_command(
        "CANCEL",
        "cancelled",
        "ENTERED IN ERROR",
        "Cancel a record (it should not have been entered); YQs on it then get CON/N.",
    )
)


@ncic.command("show")
@_db
@click.argument("nic")
def ncic_show(db: Path, nic: str) -> None:
    """A record, its state, its validation date and every change made to it."""
    with _desk(db) as desk:
        found = desk.show(nic)
    click.echo(_desk_line(found))
    for change in found.history:
        click.echo(
            f"  {change.at} {change.action:<8} by {change.operator} {change.detail}".rstrip()
        )


@ncic.command("list")
@_db
@click.option("--state", type=click.Choice(["ACTIVE", "CLEARED", "CANCELLED", "INACTIVE"]))
@click.option("--person", "person_id", help="Only this person's records.")
def ncic_list(db: Path, state: str | None, person_id: str | None) -> None:
    """ICE's records, by NIC."""
    with _desk(db) as desk:
        for found in desk.records(state, person_id):
            click.echo(_desk_line(found))


@ncic.command("validate")
@_db
@_operator
@click.argument("nics", nargs=-1)
def ncic_validate(db: Path, operator: str, nics: tuple[str, ...]) -> None:
    """Without NICs: list the active records past their validation date (one year after
    entry or the last validation). With NICs: record that each was validated."""
    with _desk(db) as desk:
        if nics:
            for nic in nics:
                click.echo(f"validated {_desk_line(desk.validate(nic, operator, _desk_now()))}")
            return
        overdue = desk.overdue(_desk_now().date())
        for found in overdue:
            click.echo(_desk_line(found))
    click.echo(f"{len(overdue)} record(s) past their validation date", err=True)


@contextlib.contextmanager
def _desk(db: Path) -> Iterator[NcicDesk]:
    store = open_store(db)
    try:
        yield NcicDesk(store)
    except DeskError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.close()
