"""A terminal that logs on and does not read holds at most ``held_per_ori`` deliveries in the
switch's memory: the rest wait in the journal and are read back, in order, as its window
frees; across a reconnect too. Every message counted: nothing lost, nothing twice."""

from __future__ import annotations

from tests.switch_harness import Harness, Wire

HELD, WINDOW, TOTAL = 10, 4, 100


def am(number: int) -> bytes:
    return f"AM.NY0303000.NJNLETS00.TXT\nAM {number:03d}".encode()


def read_all(harness: Harness, nj: Wire, limit: int) -> list[tuple[int, str]]:
    """Acknowledge what arrives, window by window, checking what the switch holds."""
    got: list[tuple[int, str]] = []
    while len(got) < limit:
        deliveries = nj.deliveries()
        assert deliveries, "the switch stopped delivering"
        got += [(seq, message.text) for seq, message in deliveries]
        assert len(harness.switch.sessions["NJNLETS00"].backlog) <= HELD
        harness.ack(nj, got[-1][0])
    return got


def test_a_terminal_that_does_not_read_holds_at_most_the_cap_in_memory() -> None:
    harness = Harness(window=WINDOW, held_per_ori=HELD)
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    for number in range(TOTAL):
        harness.send(ny, am(number))
        assert len(harness.switch.sessions["NJNLETS00"].backlog) <= HELD
    assert harness.switch.sessions["NJNLETS00"].spilled
    got = read_all(harness, nj, 30)
    harness.drop(nj)  # and again after a reconnect: the journal still has the rest in order
    nj = harness.logon("NJNLETS00")
    assert len(harness.switch.sessions["NJNLETS00"].backlog) <= HELD
    resent = read_all(harness, nj, TOTAL - got[-1][0])
    got = got[: got[-1][0]] + resent
    assert got == [(seq, f"AM {seq - 1:03d}") for seq in range(1, TOTAL + 1)]
    assert not harness.switch.sessions["NJNLETS00"].spilled
