"""Operators' commands: ``status``, ``remove``, ``journal``, ``directory``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from nlets_sim.console.errors import MESSAGE_KEY, ORI_OR_LINE, SWITCH_TIME, UserError
from nlets_sim.switch.admin import AdminError, admin_request
from nlets_sim.switch.cluster.plan import ClusterFileError, load_plan
from nlets_sim.switch.config import Config, default_directory
from nlets_sim.switch.directory import check_directory, legacy_key_warnings
from nlets_sim.switch.journal import Journal, MessageRecord
from nlets_sim.switch.journal_faults import JournalDamaged, integrity_problems
from nlets_sim.switch.key_hash import hash_key
from nlets_sim.tools.cluster_status import cluster_status, describe_cluster, link_lines

DEFAULT_DATA_DIR = Path("data/switch")
UP_SWITCH = "switch"  # where `nlets-sim up --data-dir D` keeps its switch's data: D/switch


def switch_data_dir(
    _ctx: click.Context, _param: click.Parameter, data_dir: Path | None
) -> Path | None:
    """``data_dir``, or ``data_dir/switch`` when that is where the switch's files are (the data
    directory given to `nlets-sim up`)."""
    if data_dir is None:
        return None
    inner = data_dir / UP_SWITCH
    if not _holds_a_switch(data_dir) and _holds_a_switch(inner):
        return inner
    return data_dir


def _holds_a_switch(data_dir: Path) -> bool:
    config = Config(data_dir=data_dir)
    return config.journal_path.exists() or config.admin_path.exists()


def not_found(missing: str, path: Path) -> UserError:
    """``no journal at D/journal.sqlite3``, with where else it was looked for."""
    data_dir = path.parent
    also = ""
    if data_dir.name != UP_SWITCH:
        also = (
            f" (nor at {data_dir / UP_SWITCH / path.name}, where `nlets-sim up --data-dir"
            f" {data_dir}` keeps it)"
        )
    return UserError(f"{missing} {path}{also}: give --data-dir the switch's data directory")


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    callback=switch_data_dir,
    help="The switch's data directory (or the one given to `nlets-sim up`).",
)


def ask(data_dir: Path, request: dict[str, Any]) -> dict[str, Any]:
    path = Config(data_dir=data_dir).admin_path
    if not path.exists():
        raise not_found("no switch is running with admin socket", path)
    try:
        return asyncio.run(admin_request(path, request))
    except AdminError as error:
        raise UserError(str(error)) from None


@click.command("status")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    callback=switch_data_dir,
    help="The switch's data directory [default: data/switch]; with --cluster, the directory "
    "holding each node's as DIR/<node> [default: the cluster file's].",
)
@click.option(
    "--cluster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Every node of this cluster file, each asked at its own admin socket.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def status_command(data_dir: Path | None, cluster: Path | None, *, as_json: bool) -> None:
    """Logged-on ORIs, queue depths, counters and uptime of a running switch; with --cluster,
    every node, its link to the broker and the forwards waiting."""
    if cluster is not None:
        _cluster_status(cluster, data_dir or cluster.parent, as_json=as_json)
        return
    status = ask(data_dir or DEFAULT_DATA_DIR, {"command": "status"})
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    click.echo(f"uptime {status['uptime_s']} s")
    click.echo(_journal_line(status["journal"]))
    click.echo(f"logged on ({len(status['online'])}):")
    for ori, in_flight in status["online"].items():
        click.echo(f"  {ori}  in flight {in_flight}")
    click.echo("queued for delivery:")
    for ori, depth in status["queues"].items():
        click.echo(f"  {ori}  {depth}")
    dead_letters = status.get("dead_letters", {})
    click.echo(f"dead letters, refused for good ({sum(dead_letters.values())}):")
    for ori, count in dead_letters.items():
        click.echo(f"  {ori}  {count}")
    click.echo(_logons_line(status["logons"]))
    for kind in ("oris", "addresses"):
        for name, left in status["logons"][f"locked_{kind}"].items():
            click.echo(f"  locked out: {name}  {left} s left")
    click.echo("counters:")
    for name, value in status["counters"].items():
        click.echo(f"  {name}  {value:05d}")
    for line in link_lines(status):
        click.echo(line)


def _cluster_status(path: Path, base: Path, *, as_json: bool) -> None:
    try:
        plan = load_plan(path)
    except ClusterFileError as error:
        raise click.ClickException(str(error)) from None
    statuses = asyncio.run(cluster_status(plan, base))
    if as_json:
        click.echo(json.dumps(statuses, indent=2))
    else:
        for line in describe_cluster(path, statuses):
            click.echo(line)
    silent = [name for name, status in statuses.items() if "error" in status]
    if silent:
        raise click.ClickException(
            f"{len(silent)} of {len(statuses)} nodes did not answer: {', '.join(silent)}"
        )


def _logons_line(logons: dict[str, Any]) -> str:
    return (
        f"failed logons {logons['failures']}, refused while locked out "
        f"{logons['refused_while_locked']}"
    )


def _journal_line(health: dict[str, Any]) -> str:
    """``journal ok``, or what is wrong with it and since when."""
    if health["ok"]:
        line = "journal ok"
    else:
        line = (
            f"journal CANNOT STORE for {health['failing_for_s']} s: {health['error']}"
            f" ({health['refused_batches']} batches refused; traffic gets NK until it stores)"
        )
    for ori, reason in health.get("unreadable", {}).items():
        line += f"; damaged pages refuse {ori}: {reason}"
    if health.get("checkpoint_error"):
        line += f"; last checkpoint failed: {health['checkpoint_error']}"
    return line


@click.command("remove")
@data_dir_option
@click.option("--line", required=True, type=ORI_OR_LINE, help="The line code, e.g. NY.")
@click.option("--mke", required=True, type=MESSAGE_KEY, help="The message key, e.g. AM.")
@click.option("--clear", is_flag=True, help="Put the line back in service for the key.")
def remove_command(data_dir: Path, line: str, mke: str, *, clear: bool) -> None:
    """Put a line in "remove" status for a key: messages of that key to it get SM .04."""
    answer = ask(data_dir, {"command": "remove", "line": line, "mke": mke, "on": not clear})
    click.echo("removed: " + (", ".join("/".join(pair) for pair in answer["removed"]) or "none"))


@click.command("outage")
@data_dir_option
@click.option("--until", metavar="HHMM", help="24-hour time the switch is back, e.g. 1400.")
@click.option(
    "--tz",
    metavar="ZONE",
    help="Time zone shown: EST, or an IANA name such as America/Phoenix [default: the switch's].",
)
@click.option("--end", is_flag=True, help="Announce NLETS IN SERVICE instead.")
def outage_command(data_dir: Path, until: str | None, tz: str | None, *, end: bool) -> None:
    """Tell every line's control terminal: NLETS TEMPORARILY OUT OF SERVICE UNTIL HHMM ZZZ
    (--until), or NLETS IN SERVICE (--end). The SM goes ahead of anything queued."""
    if end == (until is not None):
        raise click.UsageError("give either --until HHMM or --end")
    if end and tz is not None:
        raise click.UsageError("--tz goes with --until, not with --end")
    request: dict[str, Any] = {"command": "outage", "end": end, "until": until, "tz": tz}
    answer = ask(data_dir, request)
    terminals = answer["control_terminals"]
    click.echo(f"sent to {len(terminals)} control terminals: {answer['text']}")


@click.group("journal")
def journal_group() -> None:
    """Search the switch's journal (works while the switch runs)."""


def journal_path(data_dir: Path) -> Path:
    """The journal of the switch in ``data_dir``; a sentence when there is none."""
    path = Config(data_dir=data_dir).journal_path
    if not path.exists():
        raise not_found("no journal at", path)
    return path


def open_journal(data_dir: Path) -> Journal:
    try:
        return Journal(journal_path(data_dir))
    except JournalDamaged as error:
        raise UserError(str(error)) from None


def _summary(record: MessageRecord) -> str:
    outcome = record.error or f"-> {record.destinations}"
    sender = record.sender_ori or record.logon_ori
    return f"{record.id:>7} {record.received_at} {record.mke or '?':<3} {sender} {outcome}"


@journal_group.command("search")
@data_dir_option
@click.option("--ori", type=ORI_OR_LINE, help="Sent by, logged on as, or addressed to this ORI.")
@click.option("--mke", type=MESSAGE_KEY, help="Message key, e.g. AM.")
@click.option("--since", type=SWITCH_TIME, help="Received at or after, ISO 8601 (switch-local).")
@click.option("--until", type=SWITCH_TIME, help="Received before, ISO 8601 (switch-local).")
@click.option("--text", help="Text contained in the message.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=100, show_default=True, help="At most so many."
)
@click.option("--oldest-first", is_flag=True, help="From the first message on.")
def journal_search(
    *,
    data_dir: Path,
    limit: int,
    oldest_first: bool,
    **filters: str | None,
) -> None:
    """List received messages, newest first: number, time, key, sender, destinations or
    error. When more match than --limit, a last line (on standard error) says how many."""
    journal = open_journal(data_dir)
    found = journal.search(**filters, limit=limit, newest_first=not oldest_first)
    for record in found:
        click.echo(_summary(record))
    if not found:
        click.echo("no messages found", err=True)
    elif len(found) == limit and (more := journal.count(**filters) - limit) > 0:
        click.echo(f"... and {more} more (--limit {limit + more} shows them all)", err=True)


@journal_group.command("check")
@data_dir_option
def journal_check(data_dir: Path) -> None:
    """SQLite's integrity check of the journal: OK, or each problem found (exit status 1)."""
    path = journal_path(data_dir)
    problems = integrity_problems(path)
    for problem in problems:
        click.echo(f"{path}: {problem}")
    if problems:
        click.echo(
            f"{path}: damaged. Stop the switch, keep a copy, and recover what can be read with"
            f" `sqlite3 {path} .recover | sqlite3 {path}.recovered`.",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"{path}: OK")


@journal_group.command("show")
@data_dir_option
@click.argument("number", type=int)
def journal_show(data_dir: Path, number: int) -> None:
    """One message as received, and each of its deliveries."""
    journal = open_journal(data_dir)
    record = journal.message(number)
    if record is None:
        raise UserError(f"no message {number} in {journal_path(data_dir)}")
    click.echo(_summary(record))
    click.echo(
        f"logon {record.logon_ori} seq {record.in_seq} input number {record.input_number:05d}"
    )
    click.echo(record.raw.decode("ascii", "replace").replace("\r\n", "\n"))
    for ori, addressed, seq, sent_at, state in journal.deliveries_of(number):
        click.echo(f"  delivery to {addressed} via {ori} seq {seq} sent {sent_at or '-'} {state}")


@click.group("directory")
def directory_group() -> None:
    """Directory tools."""


@directory_group.command("hash-key")
@click.argument("secret")
def directory_hash_key(secret: str) -> None:
    """Print the key_hash value for a logon key (salted scrypt, N=2**14 r=8 p=1)."""
    if not secret.strip():
        raise UserError("the key is empty: give the logon key to hash")
    click.echo(hash_key(secret))


@directory_group.command("check")
@click.argument(
    "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
def directory_check(path: Path | None) -> None:
    """Validate a directory file (default: the shipped one); print every problem."""
    path = path or default_directory()
    problems = check_directory(path)
    for problem in problems:
        click.echo(f"{path}: {problem}")
    if problems:
        raise SystemExit(1)
    for warning in legacy_key_warnings(path):
        click.echo(f"{path}: warning: {warning}", err=True)
    click.echo(f"{path}: OK")


@click.group("fault")
def fault_group() -> None:
    """Fault and latency injection on a running switch (see nlets_sim/switch/faults.py)."""


@fault_group.command("add")
@data_dir_option
@click.argument("kind", type=click.Choice(["drop", "close", "reply", "delay", "duplicate"]))
@click.option("--mke", type=MESSAGE_KEY, help="Only messages with this key.")
@click.option("--sender", type=ORI_OR_LINE, help="Only messages from this ORI.")
@click.option("--destination", type=ORI_OR_LINE, help="Only messages to this ORI or line code.")
@click.option("--count", type=click.IntRange(min=1), help="Apply to this many matching messages.")
@click.option("--probability", type=float, help="Apply to each match with this chance.")
@click.option("--delay-s", type=click.FloatRange(min=0), help="delay: seconds.")
@click.option(
    "--lognormal",
    callback=lambda _ctx, _param, value: _lognormal(value),
    metavar="MU,SIGMA",
    help="delay: the log of the seconds is normal with mean MU and deviation SIGMA.",
)
@click.option("--code", help="reply: an ER number (.02., 0) or SM.02. / SM.04. ...")
def fault_add(
    data_dir: Path, kind: str, lognormal: tuple[float, float] | None, **filters: Any
) -> None:
    """Add a rule: KIND is drop, close, reply, delay or duplicate."""
    rule = {key: value for key, value in filters.items() if value is not None}
    if lognormal:
        rule.update(mu=lognormal[0], sigma=lognormal[1])
    answer = ask(data_dir, {"command": "fault-add", "fault": {"kind": kind, **rule}})
    _print_faults(answer["faults"])


@fault_group.command("list")
@data_dir_option
def fault_list(data_dir: Path) -> None:
    """The rules in force, with how often each has fired."""
    _print_faults(ask(data_dir, {"command": "fault-list"})["faults"])


@fault_group.command("remove")
@data_dir_option
@click.argument("fault_id", metavar="ID", type=click.IntRange(min=1))
def fault_remove(data_dir: Path, fault_id: int) -> None:
    """Remove the rule with this ID (the number `fault list` shows); print the rest."""
    _print_faults(ask(data_dir, {"command": "fault-remove", "id": fault_id})["faults"])


@fault_group.command("clear")
@data_dir_option
def fault_clear(data_dir: Path) -> None:
    """Remove every rule."""
    ask(data_dir, {"command": "fault-clear"})
    click.echo("no fault rules")


def _lognormal(text: str | None) -> tuple[float, float] | None:
    """``MU,SIGMA`` as two numbers, SIGMA not negative; a ``BadParameter`` that says so."""
    if text is None:
        return None
    mu, comma, sigma = text.partition(",")
    try:
        if comma and float(sigma) >= 0:
            return float(mu), float(sigma)
    except ValueError:
        pass
    raise click.BadParameter(f"{text!r}: write MU,SIGMA, two numbers, SIGMA 0 or more, e.g. 0,0.5")


def _print_faults(faults: list[dict[str, Any]]) -> None:
    if not faults:
        click.echo("no fault rules")
    for fault in faults:
        fields = " ".join(
            f"{key}={value}" for key, value in fault.items() if key not in ("kind", "id")
        )
        click.echo(f"{fault['id']}. {fault['kind']} {fields}")
