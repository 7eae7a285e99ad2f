"""The switch core alone (no sockets, no event loop), journal on: messages routed per CPU
second by ``Switch.receive`` + ``flush`` in batches of 64, the receiver acknowledging each
batch. CPU time (``time.process_time``) rather than wall time, because this machine's neighbours
move wall-clock figures by a third. Median of 5 runs of 20,000 messages.

``iaq_run`` is the LESC's traffic through the same core (``bench.instructions`` counts it):
IAQs from a terminal to the LESC, and the LESC's two IARs for each back to the terminal."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_switch import am
from formats.envelope import InputMessage
from formats.iaq import Iaq
from formats.iar import Iar, IarType, Result
from nlets_sim.bus.address import DEFAULT_URL, parse_broker_url
from nlets_sim.bus.publisher import EventPublisher
from nlets_sim.link.protocol import LogonRequested
from nlets_sim.switch.config import PINNED_CLOCK, default_directory
from nlets_sim.switch.core import Switch
from nlets_sim.switch.directory import demo_key, load_directory
from nlets_sim.switch.journal import Journal
from nlets_sim.switch.server import log_events

COUNT, BATCH = 20_000, 64
IAQ_BATCH = 32  # IAQs per flush (the terminal then gets a window of 64 IARs per flush)
TERMINAL, LESC = "NY0010000", "VTINS07S0"


def logged_on(journal: Journal, *oris: str) -> Switch:
    """A switch core with ``oris`` logged on as connections 1, 2, ..."""
    switch = Switch(load_directory(default_directory()), journal)
    for conn, ori in enumerate(oris, start=1):
        switch.logon(conn, LogonRequested(ori, demo_key(ori), reset=False), PINNED_CLOCK)
    switch.flush()
    return switch


def one_run(count: int = COUNT, *, events: bool = False, logger: Any = None) -> float:
    """Messages routed per CPU second; with ``events``, the event stream's work too: the
    core's events, the publisher's numbering and buffering of them after each flush, and their
    publishes' JSON (all but the sockets); with a ``logger``, the core's events logged after
    each flush as the server logs them."""
    with tempfile.TemporaryDirectory() as scratch:
        journal = Journal(Path(scratch) / "journal.sqlite3")
        switch = logged_on(journal, "NJ0020000", "NY0010000")
        publisher = offline_publisher(switch) if events else None
        message = am("NY0010000", "NJ0020000", 0)
        if logger is not None:
            switch.events = []
        started = time.process_time()
        seq = 0
        for _ in range(count // BATCH):
            for _ in range(BATCH):
                seq += 1
                switch.receive(2, seq, message, PINNED_CLOCK)
            switch.flush()
            if publisher is not None:
                publish_offline(switch, publisher)
            switch.acknowledged(1, seq)
            switch.flush()
            if logger is not None and switch.events:
                log_events(logger, switch.events)
                switch.events.clear()
        elapsed = time.process_time() - started
        journal.close()
    return seq / elapsed


def offline_publisher(switch: Switch) -> EventPublisher:
    """A publisher that is never started; the switch's events collected for it."""
    switch.events = []
    return EventPublisher(parse_broker_url(DEFAULT_URL), "bench", client_id="bench")


def publish_offline(switch: Switch, publisher: EventPublisher) -> int:
    """What the server and the publisher do with a flush's events, but the sockets: offer,
    then the publishes' payloads; returns their bytes."""
    assert switch.events is not None
    publisher.offer(switch.events, PINNED_CLOCK.isoformat())
    switch.events.clear()
    taken = publisher.take()
    size = sum(len(data) for _, data in publisher.publishes(taken))
    publisher.settled(taken)
    return size


def iaq_run(count: int) -> None:
    """``count`` IAQ round trips through the switch core in batches of ``IAQ_BATCH``: the
    terminal's IAQs, flush; the LESC acknowledges their delivery and sends an ACK and a RSP
    IAR for each, flush; the terminal acknowledges the IARs, flush. As in ``one_run``, the WAL
    is checkpointed inside the commits (SQLite's automatic checkpoint), not by the server's
    background thread, so that every instruction is counted in this thread."""
    with tempfile.TemporaryDirectory() as scratch:
        journal = Journal(Path(scratch) / "journal.sqlite3")
        switch = logged_on(journal, TERMINAL, LESC)
        iaq, ack, response = iaq_messages()
        terminal_seq = lesc_seq = 0
        for _ in range(count // IAQ_BATCH):
            for _ in range(IAQ_BATCH):
                terminal_seq += 1
                switch.receive(1, terminal_seq, iaq, PINNED_CLOCK)
            switch.flush()
            switch.acknowledged(2, terminal_seq)
            for _ in range(IAQ_BATCH):
                switch.receive(2, lesc_seq + 1, ack, PINNED_CLOCK)
                switch.receive(2, lesc_seq + 2, response, PINNED_CLOCK)
                lesc_seq += 2
            switch.flush()
            switch.acknowledged(1, lesc_seq)
            switch.flush()
        journal.close()


def iaq_messages() -> tuple[bytes, bytes, bytes]:
    """An IAQ for a test identity, and the ACK and RSP IARs the LESC answers it with."""
    query = Iaq("C", "BENCH", "5185551212", "DOE, JOHN", "19800115", "M", "MX", "N", "0399")
    qrn = "L261123000001"
    ack = Iar(qrn, IarType.ACK, ("QUERY RECEIVED. A RESPONSE WILL FOLLOW.",))
    response = Iar(
        qrn,
        IarType.RSP,
        ("SUBJECT IDENTIFIED: DOE, JOHN A", "DOB 1980-01-15 POB MX", "NO LAWFUL STATUS FOUND"),
        res=Result.RM,
    )
    return (
        InputMessage("IAQ", TERMINAL, ("AX",), query.build(), "B1").build(),
        InputMessage("IAR", LESC, (TERMINAL,), ack.build(), "B1").build(),
        InputMessage("IAR", LESC, (TERMINAL,), response.build(), "B1").build(),
    )


def main() -> None:
    rates = [one_run() for _ in range(5)]
    median = statistics.median(rates)
    print(f"switch core, journal on, batches of {BATCH}, median of 5 runs of {COUNT:,}:")
    print(f"  {median:,.0f} messages per CPU-second routed ({1e6 / median:.0f} us per message)")


if __name__ == "__main__":
    main()
