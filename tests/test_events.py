"""The live event stream on a real Mosquitto broker: each kind of event, with and without the
private fields, and what the switch does when the broker goes away."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from lesc_daemon.daemon import DaemonConfig, running
from nlets_sim.bus.broker import LocalBroker
from nlets_sim.bus.events import LESC_KINDS, SWITCH_KINDS
from nlets_sim.link.terminal import Terminal
from nlets_sim.switch.admin import admin_request
from nlets_sim.switch.config import PINNED_CLOCK, Config
from nlets_sim.switch.directory import demo_key
from nlets_sim.switch.server import SwitchServer
from tests.bus_events import collecting, gapless

AM_TO_NJ = b"AM.NY0303000.NJNLETS00.*A1.TXT\r\nMEET AT NOON"


def bus_config(tmp_path: Path, url: str, node: str, **options: Any) -> Config:
    return Config(
        port=0, data_dir=tmp_path / node, clock=PINNED_CLOCK, mqtt=url, node=node, **options
    )


async def terminal(server: SwitchServer, ori: str) -> Terminal:
    connected = Terminal("127.0.0.1", server.port, ori, demo_key(ori))
    await connected.connect()
    return connected


def kinds(events: list[dict[str, Any]]) -> set[str]:
    return {event["kind"] for event in events}


async def test_every_switch_event_kind_arrives_without_private_fields(
    tmp_path: Path, nlets_broker: LocalBroker
) -> None:
    server = SwitchServer(bus_config(tmp_path, nlets_broker.url, "kinds"))
    await server.start()
    try:
        async with collecting(nlets_broker.url, "nlets/v2/kinds/#") as bus:
            ny = await terminal(server, "NY0303000")
            await ny.request(AM_TO_NJ)  # NJ is not logged on: stored, SM .02. delivered
            await ny.request(b"XX.NY0303000.NJNLETS00.*A2.TXT\r\nHI")  # ER .01.
            await ny.send(b"AM.NY0303000.NJNLETS00.*A3.TXT\r\nLATE")
            await ny.drain()
            server.switch.tick(PINNED_CLOCK + timedelta(hours=73))  # both stored ones expire
            server.schedule_flush()
            await ny.receive()
            await ny.receive()
            await ny.send(AM_TO_NJ)
            await ny.drain()
            nj = await terminal(server, "NJNLETS00")  # logs on: the stored AM is forwarded
            await nj.receive()
            again = await terminal(server, "NJNLETS00")  # takes over from the first
            admin = server.config.admin_path
            await admin_request(admin, {"command": "remove", "line": "NJ", "mke": "AM", "on": True})
            await admin_request(
                admin, {"command": "remove", "line": "NJ", "mke": "AM", "on": False}
            )
            await ny.close()
            await again.close()
            await nj.abort()
            events = await bus.wait_for(
                lambda seen: (
                    len(bus.of("closed")) == 3 and "restored" in kinds(seen) and gapless(seen)
                )
            )
    finally:
        await server.stop()
    assert kinds(events) == set(SWITCH_KINDS)
    assert all("text" not in event for event in events)
    numbers = sorted(event["n"] for event in events)  # in order within a topic only
    assert numbers == list(range(1, len(events) + 1))
    (rejected,) = bus.of("rejected")
    assert (rejected["ori"], rejected["code"], rejected["answer"]) == ("NY0303000", ".01.", "ER")
    (accepted, *_) = bus.of("accepted")
    assert {k: accepted[k] for k in ("line", "ori", "mke", "dest", "msg")} == {
        "line": "NY",
        "ori": "NY0303000",
        "mke": "AM",
        "dest": ["NJNLETS00"],
        "msg": 1,
    }
    assert accepted["at"] == "2026-01-01T08:00:00"
    stored = bus.of("stored")[0]
    assert (stored["line"], stored["ori"], stored["to"], stored["seq"]) == (
        "NJ",
        "NJNLETS00",
        "NJNLETS00",
        1,
    )
    assert [e["to"] for e in bus.of("expired")] == ["NJNLETS00", "NJNLETS00"]
    assert bus.of("forwarded")[0]["ori"] == "NJNLETS00"
    assert [e["mke"] for e in bus.of("removed") + bus.of("restored")] == ["AM", "AM"]
    reasons = {(e["ori"], e["reason"]) for e in bus.of("closed")}
    assert reasons == {
        ("NJNLETS00", "displaced by a new logon"),
        ("NY0303000", "logoff"),
        ("NJNLETS00", "logoff"),
    }


async def test_events_with_text_carry_the_message_text(
    tmp_path: Path, nlets_broker: LocalBroker
) -> None:
    server = SwitchServer(bus_config(tmp_path, nlets_broker.url, "texts", events_with_text=True))
    await server.start()
    try:
        async with collecting(nlets_broker.url, "nlets/v2/texts/accepted/#") as bus:
            ny = await terminal(server, "NY0303000")
            await ny.request(AM_TO_NJ)
            (accepted,) = await bus.wait_for(lambda seen: len(seen) == 1)
            await ny.close()
    finally:
        await server.stop()
    assert accepted["text"] == "MEET AT NOON"


IAQ = (
    b"IAQ.NY0303000.AX.*Q77.TXT\r\nPUR/F.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A."
    b"DOB/19800115.SEX/M.POB/MX.CUS/Y.OFF/0399.ARN/012345678"
)
YQ = (
    b"YQ.NY0303000.VTINS07S0.*H1.TXT\r\nRTY/WP.RNO/1.PRI/U.OCA/NY-1.NIC/W000000001."
    b"NAM/WANTED, WALTER.DOB/19700707.RNA/J SMITH.RAG/ALBANY PD"
)


async def test_lesc_events(
    tmp_path: Path, nlets_broker: LocalBroker, lesc_config: Callable[..., DaemonConfig]
) -> None:
    server = SwitchServer(Config(port=0, data_dir=tmp_path / "switch", clock=PINNED_CLOCK))
    await server.start()
    lesc = lesc_config(port=server.port, mqtt=nlets_broker.url, node="lesc-test")
    try:
        async with collecting(nlets_broker.url, "nlets/v2/lesc-test/#") as bus, running(lesc):
            ny = await terminal(server, "NY0303000")
            await ny.request(IAQ, count=2)
            await ny.request(IAQ.replace(b"*Q77", b"*Q78").replace(b"OFF/0399", b"OFF/X"), count=2)
            await ny.request(YQ)
            try:
                events = await bus.wait_for(lambda seen: len(seen) == 5)
            except TimeoutError:
                raise AssertionError(bus.events) from None
            await ny.close()
    finally:
        await server.stop()
    assert kinds(events) == set(LESC_KINDS)
    answered = [
        {k: e.get(k) for k in ("res", "fap", "purpose", "state")} for e in bus.of("query-answered")
    ]
    assert answered[0] == {"res": "RM", "fap": "P1", "purpose": "F", "state": "NY"}
    assert answered[1]["res"] == "REJ"
    assert bus.of("query-answered")[0]["elapsed_ms"] == 0
    assert bus.of("detainer-lodged")[0]["detainer"] == "D00000001"
    assert bus.of("lead-referred")[0]["lead"] == "00000001"
    (confirmed,) = bus.of("hit-confirmation-answered")
    assert (confirmed["con"], confirmed["on_time"], confirmed["line"]) == ("Y", True, "NY")
    assert all("subject" not in e and "dob" not in e and "nic" not in e for e in events)
