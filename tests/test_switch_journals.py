"""The switch core on its two journals: the SQLite file it runs on and the journal in memory its
tests run on give the same frames, byte for byte, for the same traffic; and a batch the journal
refuses is answered the same way from the memory journal as from a full disk."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from formats.frames import Frame, FrameKind
from nlets_sim.switch.core import cannot_store
from nlets_sim.switch.state import Deadlines
from tests.switch_harness import NOW, Harness


def conversation(harness: Harness) -> list[tuple[str, list[Frame]]]:
    """Traffic that takes every path through the journal: delivery and acknowledgement,
    store-and-forward with its SM .02., an SM that jumps stored messages (``make_room``),
    a backlog spilled to the journal and read back, NK of a delivery, a restart, ``RST/Y``
    renumbering, HELP files, a removed key and expiry with SM .07.; what each wire got."""
    heard: list[tuple[str, list[Frame]]] = []

    def take() -> None:
        heard.extend(
            (wire.ori, frames) for wire in harness.wires.values() if (frames := wire.take())
        )

    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    for number in range(12):  # window 4, held 6: the rest spill to the journal
        harness.send(ny, f"AM.NY0303000.NJNLETS00.*N{number}.TXT\nAM {number}".encode())
    take()
    harness.switch.refused(nj.conn, 2, harness.now)
    harness.ack(nj, 4)
    take()
    for number in range(3):  # stored for a control terminal away, then an SM jumps them
        harness.send(ny, f"AM.NY0303000.PANLETS00.TXT\nSTORED {number}".encode())
    harness.switch.operator_status("NLETS IN SERVICE", harness.now)
    harness.send(ny, b"AM.NY0303000.MA0010000.*X1.TXT\nNEVER READ")
    harness.switch.set_removed("CT", "AM", removed=True)
    harness.send(ny, b"AM.NY0303000.CT0010000.TXT\nREMOVED")
    harness.send(ny, b"AM.NY0303000.AXADMUPDT.TXT\nNOT ALLOWED")
    vt = harness.logon("VTINS07S0")
    harness.send(vt, b"AM.VTINS07S0.AXADMUPDT.TXT\nHELP TEXT")
    take()
    harness.restart()
    harness.now = NOW + timedelta(minutes=30)
    pa = harness.logon("PANLETS00", reset=True)
    harness.ack(pa, 2)
    nj = harness.logon("NJNLETS00")
    harness.ack(nj, 12)
    harness.ack(nj, 13)
    take()
    assert harness.switch.next_deadline() == NOW + timedelta(hours=1)
    harness.switch.tick(NOW + timedelta(hours=1))
    harness.flush()
    ny = harness.logon("NY0303000")
    for seq in range(1, 9):  # what waited behind its window: SM .04., ER .02., SM .07.
        harness.ack(ny, seq)
    vt = harness.logon("VTINS07S0")
    harness.send(vt, b"AM.VTINS07S0.AXADMHELP.TXT\n")
    take()
    assert harness.switch.next_deadline() is None
    return heard


def test_the_core_gives_the_same_bytes_on_the_sqlite_and_the_memory_journal(
    tmp_path: Path,
) -> None:
    expiry = timedelta(hours=1)
    in_memory = conversation(Harness(window=4, held_per_ori=6, store_expiry=expiry))
    on_sqlite = conversation(Harness(tmp_path, window=4, held_per_ori=6, store_expiry=expiry))
    assert on_sqlite == in_memory
    kinds = {frame.kind for _, frames in on_sqlite for frame in frames}
    assert kinds == {FrameKind.LA, FrameKind.AK, FrameKind.DT}
    texts = b"".join(frame.payload for _, frames in on_sqlite for frame in frames)
    for seen in (
        b".07. MESSAGE EXPIRED",
        b".02. USER OUT OF SERVICE",
        b".04. USER OUT OF SERVICE",
        b"ONLY LINE AX OR A CONTROL TERMINAL",
        b"HELP TEXT",
        b"AM 11",
    ):
        assert seen in texts


def test_a_refused_batch_is_neither_acknowledged_nor_delivered_then_sent_again() -> None:
    harness = Harness()
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    nj.take()
    ny.take()
    harness.memory.refuse_commits = "disk full"
    harness.send(ny, b"AM.NY0303000.NJNLETS00.TXT\nFIRST TRY")
    assert ny.take() == [Frame(FrameKind.NK, 1, cannot_store("disk full").encode())]
    assert ny.closed
    assert nj.take() == []
    assert harness.memory.pending("NJNLETS00", 0) == []
    harness.memory.refuse_commits = None
    again = harness.logon("NY0303000")
    assert again.take() == [Frame(FrameKind.LA, 0, b"LST/00000000.HBI/30")]
    harness.send(again, b"AM.NY0303000.NJNLETS00.TXT\nFIRST TRY")
    assert again.take() == [Frame(FrameKind.AK, 1)]
    assert [message.text for _, message in nj.deliveries()] == ["FIRST TRY"]


def test_the_next_deadline_follows_what_is_stored_and_survives_a_restart() -> None:
    """The first expiry of the deliveries stored unbuilt: set by a store, gone when the
    delivery is read back and sent, read from the journal again at start."""
    harness = Harness(store_expiry=timedelta(hours=1))
    ny = harness.logon("NY0303000")
    harness.send(ny, b"AM.NY0303000.NJ0010000.TXT\nFIRST")
    harness.now = NOW + timedelta(minutes=10)
    harness.send(ny, b"AM.NY0303000.PA0010000.TXT\nSECOND")
    assert harness.switch.next_deadline() == NOW + timedelta(hours=1)
    harness.restart()
    assert harness.switch.next_deadline() == NOW + timedelta(hours=1)
    harness.logon("NJ0010000")
    assert harness.switch.next_deadline() == NOW + timedelta(hours=1, minutes=10)
    harness.switch.tick(NOW + timedelta(hours=1, minutes=9))
    harness.flush()
    assert harness.memory.depths()["PA0010000"] == 1  # not expired before its time
    harness.logon("PA0010000")
    assert harness.switch.next_deadline() is None


def test_deadlines_and_ticks_before_them_read_nothing_from_the_sqlite_journal(
    tmp_path: Path,
) -> None:
    harness = Harness(tmp_path, store_expiry=timedelta(hours=1))
    ny = harness.logon("NY0303000")
    harness.send(ny, b"AM.NY0303000.NJ0010000.TXT\nSTORED")
    statements: list[str] = []
    harness.sqlite._db.set_trace_callback(statements.append)
    for minute in range(60):
        assert harness.switch.next_deadline() == NOW + timedelta(hours=1)
        harness.switch.tick(NOW + timedelta(minutes=minute))
    assert statements == []
    harness.switch.tick(NOW + timedelta(hours=1))
    harness.flush()
    assert any("expires_at <=" in statement for statement in statements)
    assert harness.switch.next_deadline() is None
    assert [message.text.split("\r\n")[0] for _, message in ny.deliveries()] == [
        ".02. USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL FORWARD",
        ".07. MESSAGE EXPIRED UNDELIVERED",
    ]


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(1, 8), st.integers(0, 50)), min_size=1, max_size=40
    )
)
def test_deadlines_give_the_earliest_expiry_of_the_rows_still_waiting(
    steps: list[tuple[bool, int, int]],
) -> None:
    """Against a dict of row id -> time: rows added (again: a new time), rows discarded."""
    deadlines, model = Deadlines([(NOW, 1)]), {1: NOW}
    for add, row_id, minutes in steps:
        if add:
            deadlines.add(row_id, NOW + timedelta(minutes=minutes))
            model[row_id] = NOW + timedelta(minutes=minutes)
        else:
            deadlines.discard(row_id)
            model.pop(row_id, None)
        assert deadlines.first() == min(model.values(), default=None)
