"""``kill -9`` of a real ``lesc-daemon`` at seeded random moments during a burst of thousands of
queries, several times a run: every IAQ still gets exactly one ACK and one RSP, every YQ exactly
one YR (the LESC commits before it acknowledges; ``lesc_daemon/ledger.py``).

``LESC_CRASH_QUERIES``, ``LESC_CRASH_KILLS`` and ``LESC_CRASH_SEED`` make longer runs."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path

from formats.iar import parse_iar
from lesc_daemon.ledger import Ledger
from lesc_daemon.store import Store
from nlets_sim.link.terminal import Delivery, Terminal
from tests.lesc_fixtures import catalogue_store
from tests.switch_process import start_switch

QUERIES = int(os.environ.get("LESC_CRASH_QUERIES", "2000"))
KILLS = int(os.environ.get("LESC_CRASH_KILLS", "3"))
SEED = int(os.environ.get("LESC_CRASH_SEED", "13"))
YQ_EVERY = 5  # one query in five is a YQ
QUIET_S = 30.0  # no delivery for this long: what has not come is lost

IAQ_TEXT = (
    b"PUR/F.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A."
    b"DOB/19800115.SEX/M.POB/MX.CUS/Y.OFF/0399.ARN/012345678"
)
YQ_TEXT = (
    b"RTY/WP.RNO/1.PRI/U.OCA/NY-1.NIC/W000000001."
    b"NAM/WANTED, WALTER.DOB/19700707.RNA/J SMITH.RAG/ALBANY PD"
)


def query(number: int) -> bytes:
    if number % YQ_EVERY == 0:
        return b"YQ.NY0303000.VTINS07S0.*Y%05d.TXT\r\n" % number + YQ_TEXT
    return b"IAQ.NY0303000.AX.*Q%05d.TXT\r\n" % number + IAQ_TEXT


def expected() -> Counter[tuple[str, str]]:
    """(control, what) once each: ACK and RSP for an IAQ, YR for a YQ."""
    wanted: Counter[tuple[str, str]] = Counter()
    for number in range(QUERIES):
        if number % YQ_EVERY == 0:
            wanted[(f"Y{number:05d}", "YR")] += 1
        else:
            wanted.update({(f"Q{number:05d}", "ACK"): 1, (f"Q{number:05d}", "RSP"): 1})
    return wanted


def kind(delivery: Delivery) -> tuple[str, str]:
    message = delivery.message
    if message.mke == "IAR":
        return (message.control or "", parse_iar(message.text).typ.value)
    return (message.control or "", message.mke)


async def start_daemon(
    port: int, db: Path, log: Path, delay: str = "0-0.5"
) -> asyncio.subprocess.Process:
    with log.open("ab") as stderr:
        return await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "lesc_daemon", "run", "--switch", f"127.0.0.1:{port}"),
            *("--db", str(db), "--delay", delay),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )


def describe(received: Counter[tuple[str, str]]) -> str:
    wanted = expected()
    lost = wanted - received
    extra = received - wanted
    return f"lost {sum(lost.values())} {sorted(lost)[:5]}, twice {sum(extra.values())} " + str(
        sorted(extra)[:5]
    )


async def test_kill_9_of_the_lesc_loses_and_repeats_no_answer(tmp_path: Path) -> None:
    db = tmp_path / "lesc.sqlite3"
    catalogue_store(db).close()
    rng = random.Random(SEED)  # kill moments, not secrets
    total = sum(expected().values())
    kill_at = sorted(rng.sample(range(total // 20, total * 9 // 10), KILLS))
    switch, port = await start_switch(tmp_path / "switch")
    police = Terminal("127.0.0.1", port, "NY0303000", "S3CRET", window=64)
    daemon = await start_daemon(port, db, tmp_path / "lesc.log")
    received: Counter[tuple[str, str]] = Counter()
    try:
        await police.connect()
        police.post(*(query(number) for number in range(QUERIES)))
        count = 0
        while count < total:
            try:
                delivery = await police.receive(timeout=QUIET_S)
            except TimeoutError:
                break
            if delivery.message.mke == "SM":  # the switch's notice that the LESC is away
                continue
            received[kind(delivery)] += 1
            count += 1
            if kill_at and count == kill_at[0]:
                kill_at.pop(0)
                daemon.send_signal(signal.SIGKILL)
                await daemon.wait()
                daemon = await start_daemon(port, db, tmp_path / "lesc.log")
        assert not kill_at, f"only {count} of {total} answers came: {describe(received)}"
        # Answers are sent in order: a copy of one would come before the reply to this.
        await police.send(b"AM.NY0303000.VTINS07S0.*END.TXT\r\nEND OF TEST")
        while (delivery := await police.receive(timeout=QUIET_S)).message.control != "END":
            if delivery.message.mke != "SM":
                received[kind(delivery)] += 1
        assert received == expected(), describe(received)
        await police.close()
    finally:
        daemon.kill()
        await daemon.wait()
        switch.terminate()
        await switch.wait()


async def test_a_switch_that_lost_the_lesc_session_gets_fresh_answers_only(
    tmp_path: Path,
) -> None:
    """The store remembers a session the new switch never had (deliveries to 40, answers
    acknowledged to 50, two answers waiting): the new switch's deliveries 1, 2, ... are
    answered, not dropped as repeats, and the waiting answers of the lost session are not
    sent into the new one."""
    db = tmp_path / "lesc.sqlite3"
    store = catalogue_store(db)
    ledger = Ledger(store.db, "VTINS07S0")
    with store.transaction():
        stale = [b"AM.VTINS07S0.NY0303000.*STALE%d.TXT\r\nOLD" % n for n in (51, 52)]
        ledger.record_posted(51, stale)
        ledger.set_delivered(40)
        ledger.settle(50)
    store.close()
    switch, port = await start_switch(tmp_path / "switch")
    daemon = await start_daemon(port, db, tmp_path / "lesc.log", delay="0")
    try:
        async with Terminal("127.0.0.1", port, "NY0303000", "S3CRET") as police:
            await police.send(query(1))
            await police.send(b"AM.NY0303000.VTINS07S0.*END.TXT\r\nEND OF TEST")
            seen: list[tuple[str, str]] = []
            while not seen or seen[-1] != ("END", "AM"):
                delivery = await police.receive(lambda d: d.message.mke != "SM", timeout=30)
                seen.append(kind(delivery))
        assert seen == [("Q00001", "ACK"), ("Q00001", "RSP"), ("END", "AM")]
        assert "the switch lost this LESC's session" in (tmp_path / "lesc.log").read_text()
    finally:
        daemon.kill()
        await daemon.wait()
        switch.terminate()
        await switch.wait()


def test_two_lesc_oris_on_one_store_keep_their_own_link_state(tmp_path: Path) -> None:
    store = Store(tmp_path / "lesc.sqlite3")
    first, second = Ledger(store.db, "VTINS07S0"), Ledger(store.db, "VTICE0900")
    with store.transaction():
        first.record_posted(1, [b"A1", b"A2"])
        first.set_delivered(7)
        second.record_posted(1, [b"B1"])
        first.settle(1)
    assert (first.pending(), first.delivered(), first.sent_through()) == ([(2, b"A2")], 7, 1)
    assert (second.pending(), second.delivered(), second.sent_through()) == ([(1, b"B1")], 0, 0)
    store.close()
