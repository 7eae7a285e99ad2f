"""Journal retention: old messages leave the journal with their settled deliveries, by age
and by size, while a message with a delivery still queued or unacknowledged stays (and is
delivered). The WAL stays bounded under constant writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tests.switch_harness import Harness, Wire


def am(destination: str, number: int) -> bytes:
    return f"AM.NY0303000.{destination}.TXT\nKEEP {destination} {number}".encode()


def kept(harness: Harness) -> list[str]:
    return [r.raw.decode().split("\r\n")[1] for r in harness.journal.search(limit=1000)]


def settle_all(harness: Harness) -> None:
    for wire in harness.wires.values():
        seqs = [frame.seq for frame in wire.take() if frame.kind.value == "DT"]
        if seqs and not wire.closed:
            harness.ack(wire, max(seqs))


def logged_on(tmp_path: Path) -> tuple[Harness, Wire]:
    """A switch with NJNLETS00 and NY0303000 logged on; the NY wire."""
    harness = Harness(tmp_path)
    harness.logon("NJNLETS00")
    return harness, harness.logon("NY0303000")


def one_pass(harness: Harness, older_than: datetime, chunk: int) -> int:
    """Retention calls, each with a batch, until it has looked at the whole journal once;
    returns how many calls that took."""
    calls = 1
    harness.journal.prune(older_than, over_size=False, chunk=chunk)
    harness.flush()
    while harness.journal._prune_from != 0:  # back to the oldest: one pass done
        calls += 1
        harness.journal.prune(older_than, over_size=False, chunk=chunk)
        harness.flush()
    return calls


def test_retention_by_age_keeps_what_is_still_queued(tmp_path: Path) -> None:
    harness, ny = logged_on(tmp_path)
    for number in range(5):
        harness.send(ny, am("NJNLETS00", number))
        harness.send(ny, am("PA0010000", number))  # not logged on: stored
    settle_all(harness)
    harness.now += timedelta(days=8)
    harness.send(ny, am("NJNLETS00", 99))  # newer than the cutoff: stays
    settle_all(harness)
    cutoff = harness.now - timedelta(days=7)
    assert one_pass(harness, cutoff, chunk=3) == 4  # 10 old messages, 3 ids at a time
    assert kept(harness) == [f"KEEP PA0010000 {n}" for n in range(5)] + ["KEEP NJNLETS00 99"]

    pa = harness.logon("PA0010000")  # what retention kept is still delivered
    assert [m.text for _, m in pa.deliveries()] == [f"KEEP PA0010000 {n}" for n in range(5)]
    harness.ack(pa, 5)
    one_pass(harness, cutoff, chunk=10_000)
    assert kept(harness) == ["KEEP NJNLETS00 99"]


def test_retention_by_size_removes_the_oldest_settled_whatever_their_age(tmp_path: Path) -> None:
    harness, ny = logged_on(tmp_path)
    for number in range(6):
        harness.send(ny, am("NJNLETS00", number))
    settle_all(harness)
    harness.send(ny, am("NJNLETS00", 6))  # delivered, not yet acknowledged: stays
    harness.journal.prune(None, over_size=True, chunk=4)
    harness.flush()
    assert kept(harness) == [f"KEEP NJNLETS00 {n}" for n in range(4, 7)]


def test_the_wal_stays_bounded_under_constant_writes(tmp_path: Path) -> None:
    """Batch after batch with no pause: passive checkpoints alone let the WAL grow; above its
    limit the writer's own TRUNCATE checkpoint empties it."""
    harness, ny = logged_on(tmp_path)
    limit = 256 << 10
    harness.journal.checkpoint_in_background(wal_limit_bytes=limit, wal_check_every_s=0)
    wal = tmp_path / "journal.sqlite3-wal"
    largest = 0
    for number in range(1000):
        harness.send(ny, am("NJNLETS00", number) + b" " + b"W" * 2000)
        largest = max(largest, wal.stat().st_size)
    assert harness.journal.wal_truncations > 0
    assert largest < 2 * limit  # about 6 MB written
    harness.journal.close()
