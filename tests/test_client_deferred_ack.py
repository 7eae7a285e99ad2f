"""The terminal library for an application that stores before it acknowledges: with
``auto_ack=False`` nothing is acknowledged until ``ack()``; ``last_processed``/``acked`` and
``resume()`` carry a terminal's state across a restart (PROTOCOL §1.2)."""

from __future__ import annotations

from nlets_sim.link.terminal import Terminal
from nlets_sim.pytest_plugin import TerminalFactory


def am(text: str) -> bytes:
    return f"AM.NY0303000.NJNLETS00.TXT\r\n{text}".encode()


async def texts(terminal: Terminal, count: int) -> list[str]:
    return [(await terminal.receive(timeout=10)).message.text for _ in range(count)]


async def test_deliveries_are_acknowledged_only_when_the_application_says(
    nlets_terminal: TerminalFactory,
) -> None:
    sender = await nlets_terminal("NY0303000")
    receiver = await nlets_terminal("NJNLETS00", auto_ack=False)
    for text in ("ONE", "TWO", "THREE"):
        await sender.send(am(text))
    assert await texts(receiver, 3) == ["ONE", "TWO", "THREE"]
    await receiver.abort()  # nothing acknowledged: a new terminal gets all three again
    again = await nlets_terminal("NJNLETS00", auto_ack=False)
    assert await texts(again, 3) == ["ONE", "TWO", "THREE"]
    again.ack(2)
    await again.abort()
    third = await nlets_terminal("NJNLETS00", auto_ack=False)
    assert [d.seq for d in [await third.receive()]] == [3]
    await third.abort()
    # A terminal that stored through 3 before it stopped: 3 comes again, is dropped and
    # acknowledged by the library, so a fresh terminal after it gets only what is new.
    restarted = await nlets_terminal("NJNLETS00", auto_ack=False, window=64)
    await restarted.abort()
    resumed = Terminal(restarted.host, restarted.port, "NJNLETS00", restarted.key, auto_ack=False)
    resumed.last_processed = resumed.acked = 3
    await resumed.connect()
    await sender.send(am("FOUR"))
    assert [(d.seq, d.message.text) for d in [await resumed.receive()]] == [(4, "FOUR")]
    resumed.ack(4)
    await resumed.abort()
    last = await nlets_terminal("NJNLETS00")
    await sender.send(am("FIVE"))
    assert await texts(last, 1) == ["FIVE"]


async def test_resumed_messages_go_out_once_with_their_seqs(
    nlets_terminal: TerminalFactory,
) -> None:
    receiver = await nlets_terminal("NJNLETS00")
    first = await nlets_terminal("NY0303000")
    assert first.post(am("M1"), am("M2")) == range(1, 3)
    await first.drain()
    await first.abort()
    # Restarted with what it had stored as posted: the switch has 1 and 2 (LST 2); only the
    # rest go out, a window at a time, with the seqs they were stored with.
    pending = [(seq, am(f"M{seq}")) for seq in range(1, 41)]
    second = Terminal(first.host, first.port, "NY0303000", first.key, window=8)
    second.resume(pending)
    assert second.outgoing() == pending
    assert await second.connect() == 2
    assert second.next_post_seq == 41
    await second.drain()
    assert await texts(receiver, 40) == [f"M{seq}" for seq in range(1, 41)]
    assert second.switch_acked == 40
    await second.abort()


async def test_a_switch_that_lost_the_session_gets_the_messages_renumbered(
    nlets_terminal: TerminalFactory,
) -> None:
    receiver = await nlets_terminal("NJNLETS00")
    probe = await nlets_terminal("NY0303000")
    await probe.abort()
    terminal = Terminal(probe.host, probe.port, "NY0303000", probe.key)
    terminal.resume([(7, am("SEVEN")), (8, am("EIGHT"))])  # the switch's LST is 0
    await terminal.connect()
    assert [seq for seq, _ in terminal.outgoing()] == [1, 2]
    await terminal.drain()
    assert await texts(receiver, 2) == ["SEVEN", "EIGHT"]
    await terminal.abort()
