"""Size limits that agree end to end: the largest text the switch accepts is delivered to a
terminal with the library's default limit; one byte more gets ER ``0``; a delivery a receiver
cannot take is refused by its seq with ``NK`` and dead-lettered, never handed again, and its
sender is told with ``SM`` .08."""

from __future__ import annotations

from datetime import datetime

from formats.frames import DEFAULT_MAX_PAYLOAD
from nlets_sim.link.terminal import Terminal
from nlets_sim.pytest_plugin import TerminalFactory
from nlets_sim.switch.admin import admin_request
from nlets_sim.switch.config import Config
from nlets_sim.switch.journal import Journal
from nlets_sim.switch.journal_port import QueuedRow
from nlets_sim.switch.limits import MAX_TEXT_BYTES
from nlets_sim.switch.server import SwitchServer


def am(text: str, mke: str = "AM", control: str = "C123456789") -> bytes:
    """The longest header the output can carry: a 10-character control field."""
    return f"{mke}.NY0303000.NJNLETS00.*{control}.TXT\r\n{text}".encode()


async def test_largest_text_is_delivered_and_one_byte_more_gets_er_0(
    nlets_terminal: TerminalFactory,
) -> None:
    receiver = await nlets_terminal("NJNLETS00")
    sender = await nlets_terminal("NY0303000")
    largest = "A" * (MAX_TEXT_BYTES - 4) + "LAST"
    for mke in ("AM", "AML"):  # AML also carries the caveat line
        await sender.send(am(largest, mke))
        delivery = await receiver.receive()
        assert len(delivery.raw) <= DEFAULT_MAX_PAYLOAD
        assert delivery.message.text.endswith("LAST")

    await sender.send(am(largest + "X", control="TOOLONG"))
    error = await sender.receive(lambda d: d.message.control == "TOOLONG")
    assert error.message.mke == "ER"
    assert error.message.text.startswith(
        "0 MESSAGE FORMAT/STRUCTURE ERROR\r\n"
        f"MESSAGE TOO LONG: TEXT OF {MAX_TEXT_BYTES + 1} BYTES, AT MOST {MAX_TEXT_BYTES}\r\n"
    )
    # the case: a DT payload of the full 65,536 bytes is refused, not delivered
    whole = am("", control="WHOLE")
    await sender.send(whole + b"B" * (DEFAULT_MAX_PAYLOAD - len(whole)))
    error = await sender.receive(lambda d: d.message.control == "WHOLE")
    assert error.message.mke == "ER"
    await sender.send(am("AFTER", control="AFTER"))
    assert (await receiver.receive()).message.text == "AFTER"


async def test_a_receiver_refuses_a_delivery_it_cannot_take_and_never_gets_it_again(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory
) -> None:
    receiver = await nlets_terminal("NJNLETS00", max_payload=2000)
    sender = await nlets_terminal("NY0303000")
    await sender.send(am("BIG " + "B" * 5000, control="BIG"))
    await sender.send(am("SMALL 1", control="S1"))
    await sender.drain()
    reason = await receiver.wait_closed()
    assert "FRAME TOO LONG" in reason
    await receiver.abort()
    notice = await sender.receive(lambda d: d.message.mke == "SM")  # the sender is told
    assert notice.raw.split(b"\r\n", 1)[0] == b"SM.NL0000000.*BIG"
    assert notice.message.text == (
        ".08. MESSAGE REFUSED BY DESTINATION, NLETS WILL NOT FORWARD\r\n"
        "DESTINATION NJNLETS00\r\nORIGINAL MESSAGE\r\n"
        "AM.NY0303000.NJNLETS00.*BIG.TXT\r\nBIG " + "B" * 63
    )
    for number in (2, 3):  # the refused delivery is not handed again, reconnect after reconnect
        await receiver.connect()
        if number == 3:
            await sender.send(am("SMALL 2", control="S2"))
        delivery = await receiver.receive()
        assert delivery.message.text == f"SMALL {number - 1}"
        await receiver.abort()
    status = await admin_request(nlets_switch.config.admin_path, {"command": "status"})
    assert status["dead_letters"] == {"NJNLETS00": 1}
    big = nlets_switch.journal.search(text="BIG ")[0]
    assert [d[4] for d in nlets_switch.journal.deliveries_of(big.id)] == ["refused"]


async def test_a_stored_delivery_too_long_for_any_receiver_is_dead_lettered(
    nlets_config: Config,
) -> None:
    """A journal from before the limits agreed may hold one: the switch never sends it."""
    journal = Journal(nlets_config.journal_path)
    at = datetime(2026, 1, 1, 7, 0)
    for seq, text in ((1, "X" * 70_000), (2, "AFTER THE BIG ONE")):
        row = QueuedRow(
            0, "NJNLETS00", seq, "NJNLETS00", "AM", "NY0303000", None, at, seq, text, None
        )
        journal.enqueue(None, row)
    journal.save_peer("NJNLETS00", 0, 2, 0)
    journal.close()
    server = SwitchServer(nlets_config)
    await server.start()
    try:
        receiver = Terminal("127.0.0.1", server.port, "NJNLETS00", "K-NJNLETS00")
        await receiver.connect()
        delivery = await receiver.receive()
        assert (delivery.seq, delivery.message.text) == (2, "AFTER THE BIG ONE")
        await receiver.close()
        assert server.journal.dead_letters() == {"NJNLETS00": 1}
    finally:
        await server.stop()
