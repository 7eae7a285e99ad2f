"""Journal retention: old messages leave the journal with their settled deliveries, by age
and by size, while a message with a delivery still queued or unacknowledged stays (and is
delivered). The WAL stays bounded under constant writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from nlets_sim.switch.retention import Retention
from tests.switch_harness import Harness, Wire


def am(destination: str, number: int) -> bytes:
    return f"AM.NY0303000.{destination}.TXT\nKEEP {destination} {number}".encode()


def kept(harness: Harness) -> list[str]:
    return [r.raw.decode().split("\r\n")[1] for r in harness.sqlite.search(limit=1000)]


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
    """Retention turns, each with a batch, until it has looked at the whole journal once;
    returns how many turns that took."""
    retention = Retention(harness.sqlite)
    turns = 1
    retention.turn(older_than, over_size=False, chunk=chunk)
    harness.flush()
    while retention.next_id != 0:  # back to the oldest: one pass done
        turns += 1
        retention.turn(older_than, over_size=False, chunk=chunk)
        harness.flush()
    return turns


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
    Retention(harness.sqlite).turn(None, over_size=True, chunk=4)
    harness.flush()
    assert kept(harness) == [f"KEEP NJNLETS00 {n}" for n in range(4, 7)]


def test_the_wal_stays_bounded_under_constant_writes(tmp_path: Path) -> None:
    """Batch after batch with no pause: passive checkpoints alone let the WAL grow; above its
    limit the writer's own TRUNCATE checkpoint empties it. (The thread's passive checkpoints
    are set an hour apart so that none runs in the test: while one runs, the writer's TRUNCATE
    is put off to the next commit, and how long one takes depends on the machine's load.)"""
    harness, ny = logged_on(tmp_path)
    limit = 256 << 10
    harness.sqlite.checkpoint_in_background(
        every_s=3600, wal_limit_bytes=limit, wal_check_every_s=0
    )
    wal = tmp_path / "journal.sqlite3-wal"
    largest = 0
    for number in range(1000):
        harness.send(ny, am("NJNLETS00", number) + b" " + b"W" * 2000)
        largest = max(largest, wal.stat().st_size)
    assert harness.sqlite.wal_truncations > 0
    assert largest < 2 * limit  # about 6 MB written
    harness.sqlite.close()


SIZE_LIMIT = 256 << 10
TURN_IDS = 20  # messages a turn looks at: far fewer than the 101 written between turns


def drive_at_full_rate(
    tmp_path: Path, *, with_batches: bool
) -> tuple[Harness, list[int], list[str]]:
    """30 turns of retention by size; between two turns, 1 AM to PA0010000 (not logged on: it
    stays queued) and 10 batches of 10 AMs of about 2 KB to NJNLETS00, each acknowledged.
    With ``with_batches``, each batch runs its share of retention before it commits, as the
    server does. Returns the harness, the pages in use (bytes) after each turn's writes, and
    the first line of each delivery NJNLETS00 received."""
    harness, ny = logged_on(tmp_path)
    nj = harness.wires[1]
    retention = Retention(harness.sqlite)
    sizes: list[int] = []
    received: list[str] = []
    number = 0
    for turn in range(30):
        over = harness.sqlite.used_bytes() > SIZE_LIMIT
        retention.turn(None, over_size=over, chunk=TURN_IDS)
        harness.send(ny, am("PA0010000", turn))
        for _batch in range(10):
            for _ in range(10):
                harness.send(ny, am("NJNLETS00", number) + b" " + b"B" * 2000, flush=False)
                number += 1
            if with_batches:
                retention.with_batch()
            harness.flush()
            delivered = nj.deliveries()
            received += [message.text.split(" B")[0] for _, message in delivered]
            harness.ack(nj, delivered[-1][0])
        sizes.append(harness.sqlite.used_bytes())
    return harness, sizes, received


def test_retention_keeps_pace_with_more_writes_per_turn_than_a_turn_looks_at(
    tmp_path: Path,
) -> None:
    """Each batch looks at two messages per message it wrote, so the pages in use stay
    within the size limit plus one turn's writes however few messages a turn looks at (with
    turns alone they grow without bound); messages still queued for an ORI are never
    removed, and are delivered."""
    behind, grown, _ = drive_at_full_rate(tmp_path / "turns-only", with_batches=False)
    harness, sizes, received = drive_at_full_rate(tmp_path / "with-batches", with_batches=True)
    assert received == [f"KEEP NJNLETS00 {number}" for number in range(3000)]  # once each
    empty = Harness(tmp_path / "empty").sqlite.used_bytes()
    one_turn_of_writes = sizes[0] - empty  # turn 0 is under the limit: nothing removed
    assert one_turn_of_writes > 2 * SIZE_LIMIT
    bound = SIZE_LIMIT + one_turn_of_writes  # under the limit at a turn, then a turn's writes
    assert max(sizes) < bound * 1.05  # 5% for freed pages reused less tightly than new ones
    assert grown[-1] > 10 * bound
    stored = [text for text in kept(harness) if text.startswith("KEEP PA0010000")]
    assert stored == [f"KEEP PA0010000 {turn}" for turn in range(30)]
    pa = harness.logon("PA0010000")
    assert [m.text for _, m in pa.deliveries()] == stored
    behind.sqlite.close()
    harness.sqlite.close()
