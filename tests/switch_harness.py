"""Conversations with the switch core, in memory: no sockets, no event loop.

``Harness`` owns a ``Switch`` over a journal in memory (``MemoryJournal``), or over a real
SQLite journal file when given a directory for it. Each simulated connection is a
``Wire`` that turns the core's commands back into frames, so a test reads like a message's
route: log on, send, flush, look at what each terminal received.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from formats.envelope import OutputMessage, parse_output
from formats.frames import EMPTY_KINDS_FROM_SWITCH, Frame, FrameKind, FrameReader
from nlets_sim.link.protocol import LogonRequested
from nlets_sim.switch.config import default_directory
from nlets_sim.switch.core import Switch
from nlets_sim.switch.directory import Directory, demo_key, load_directory
from nlets_sim.switch.journal import Journal
from nlets_sim.switch.journal_port import CoreJournal
from nlets_sim.switch.state import Close, Write
from tests.memory_journal import MemoryJournal

NOW = datetime(2026, 1, 1, 8, 0)


@dataclass
class Wire:
    """What one connection received from the switch."""

    conn: int
    ori: str
    frames: list[Frame] = field(default_factory=list)
    closed: bool = False
    next_seq: int = 1
    _reader: FrameReader = field(
        default_factory=lambda: FrameReader(empty_kinds=EMPTY_KINDS_FROM_SWITCH)
    )

    def take(self) -> list[Frame]:
        frames, self.frames = self.frames, []
        return frames

    def deliveries(self) -> list[tuple[int, OutputMessage]]:
        """The DT frames received since the last take, parsed; other frames are dropped."""
        return [(f.seq, parse_output(f.payload)) for f in self.take() if f.kind is FrameKind.DT]

    def kinds(self) -> list[str]:
        return [frame.kind.value for frame in self.frames]


class Harness:
    def __init__(
        self,
        journal_dir: Path | None = None,
        *,
        directory: Directory | None = None,
        **options: object,
    ) -> None:
        """A switch on a journal in memory; with ``journal_dir``, on a SQLite journal file in
        that directory."""
        self.journal_dir = journal_dir
        self.directory = directory or load_directory(default_directory())
        self.options = options
        self.journal = self._open()
        self.switch = Switch(self.directory, self.journal, **options)  # type: ignore[arg-type]
        self.wires: dict[int, Wire] = {}
        self._next_conn = 1
        self.now = NOW

    def _open(self) -> CoreJournal:
        if self.journal_dir is None:
            return MemoryJournal()
        return Journal(self.journal_dir / "journal.sqlite3")

    @property
    def memory(self) -> MemoryJournal:
        """The journal in memory (a harness made without ``journal_dir``)."""
        assert isinstance(self.journal, MemoryJournal)
        return self.journal

    @property
    def sqlite(self) -> Journal:
        """The SQLite journal (a harness made with ``journal_dir``)."""
        assert isinstance(self.journal, Journal)
        return self.journal

    def restart(self) -> None:
        """A new switch over the same journal (as after a crash at a batch boundary)."""
        if isinstance(self.journal, MemoryJournal):
            self.journal.crash()
        else:
            self.sqlite.close()
            self.journal = self._open()
        self.switch = Switch(self.directory, self.journal, **self.options)  # type: ignore[arg-type]
        for wire in self.wires.values():
            wire.closed = True

    def flush(self) -> None:
        for command in self.switch.flush():
            wire = self.wires[command.conn]
            match command:
                case Write(_, data):
                    wire.frames.extend(wire._reader.feed(data))
                case Close(_):
                    wire.closed = True
                    self.switch.disconnected(wire.conn)

    def logon(self, ori: str, key: str | None = None, *, reset: bool = False) -> Wire:
        conn = self._next_conn
        self._next_conn += 1
        wire = self.wires[conn] = Wire(conn, ori)
        self.switch.logon(conn, LogonRequested(ori, key or demo_key(ori), reset), self.now)
        self.flush()
        la = wire.frames[0] if wire.frames else None
        if la is not None and la.kind is FrameKind.LA:
            wire.next_seq = int(la.payload[4:12]) + 1
        return wire

    def send(self, wire: Wire, raw: bytes, seq: int | None = None, *, flush: bool = True) -> int:
        seq = wire.next_seq if seq is None else seq
        wire.next_seq = max(wire.next_seq, seq + 1)
        self.switch.receive(
            wire.conn, seq, raw.replace(b"\n", b"\r\n").replace(b"\r\r", b"\r"), self.now
        )
        if flush:
            self.flush()
        return seq

    def ack(self, wire: Wire, seq: int) -> None:
        self.switch.acknowledged(wire.conn, seq)
        self.flush()

    def drop(self, wire: Wire) -> None:
        self.switch.disconnected(wire.conn)
        wire.closed = True
        self.flush()
