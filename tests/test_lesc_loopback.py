"""From a terminal through the switch to the LESC daemon and back, over TCP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from formats.envelope import OutputMessage
from formats.iar import parse_iar
from lesc_daemon.batch import post_due
from lesc_daemon.daemon import DaemonConfig, LescDaemon
from lesc_daemon.delays import NO_DELAY
from lesc_daemon.ledger import Ledger
from lesc_daemon.oris import LESC_ORI
from lesc_daemon.store import Store
from nlets_sim.link.terminal import Delivery, LinkClosed, Terminal
from nlets_sim.pytest_plugin import TerminalFactory
from nlets_sim.switch.config import PINNED_CLOCK, Config
from nlets_sim.switch.server import SwitchServer
from tests.lesc_fixtures import catalogue_store

IAQ = (
    b"IAQ.NY0303000.AX.*Q77.TXT\r\nPUR/F.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A."
    b"DOB/19800115.SEX/M.POB/MX.CUS/Y.OFF/0399.ARN/012345678"
)


async def test_iaq_gets_ack_then_response_with_the_control_field(
    nlets_lesc: LescDaemon, nlets_terminal: TerminalFactory
) -> None:
    terminal = await nlets_terminal("NY0303000")
    ack, response = await terminal.request(IAQ, count=2)
    assert ack.raw.startswith(b"IAR.VTINS07S0.*Q77\r\n08:00 01/01/2026 ")
    first, second = parse_iar(ack.message.text), parse_iar(response.message.text)
    assert (first.typ.value, second.typ.value) == ("ACK", "RSP")
    assert first.qrn == second.qrn
    assert (second.res and second.res.value, second.fap and second.fap.value) == ("RM", "P1")
    assert nlets_lesc.store.detainers()[0][3] == "NY0303000"


@pytest.mark.usefixtures("nlets_lesc")
async def test_yq_gets_yr_and_am_gets_inbox_reply(nlets_terminal: TerminalFactory) -> None:
    terminal = await nlets_terminal("NY0303000")
    (yr,) = await terminal.request(
        b"YQ.NY0303000.VTINS07S0.*H1.TXT\r\nRTY/WP.RNO/1.PRI/U.OCA/NY-1.NIC/W000000001."
        b"NAM/WANTED, WALTER.DOB/19700707.RNA/J SMITH.RAG/ALBANY PD"
    )
    assert yr.message.mke == "YR"
    assert ".CON/Y." in yr.message.text
    (reply,) = await terminal.request(b"AM.NY0303000.VTINS07S0.*M1.TXT\r\nCALL ME")
    assert reply.message.text.startswith("ICE LESC RECEIVED YOUR MESSAGE. INBOX NUMBER 000001.")
    (help_reply,) = await terminal.request(b"AM.NY0303000.AXADMHELP.*H2.TXT\r\n")
    assert help_reply.message.text.startswith("ICE LAW ENFORCEMENT SUPPORT CENTER (SIMULATED)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_daemon_reconnects_and_loses_no_query_across_a_switch_restart(
    tmp_path: Path,
) -> None:
    config = Config(port=free_port(), data_dir=tmp_path / "switch", clock=PINNED_CLOCK)
    catalogue_store(tmp_path / "lesc.db").close()
    switch = SwitchServer(config)
    await switch.start()
    daemon = LescDaemon(
        DaemonConfig(port=config.port, db=tmp_path / "lesc.db", delay=NO_DELAY, reconnect_max_s=0.2)
    )
    running = asyncio.create_task(daemon.run())
    try:
        await asyncio.wait_for(daemon.connected.wait(), 10)
        await switch.stop()
        switch = SwitchServer(config)
        await switch.start()
        async with Terminal("127.0.0.1", config.port, "NY0303000", "S3CRET") as terminal:
            await terminal.send(IAQ)
            iars = [
                await terminal.receive(lambda d: d.message.mke == "IAR", timeout=20)
                for _ in range(2)
            ]
        assert [parse_iar(d.message.text).typ.value for d in iars] == ["ACK", "RSP"]
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await switch.stop()


async def test_answers_that_cannot_be_sent_wait_for_the_next_logon(
    lesc_config: Callable[..., DaemonConfig],
) -> None:
    """The link drops between a query's arrival and its answers: they wait, in order, in the
    terminal's backlog, which goes out after the next logon."""
    config = lesc_config()
    catalogue_store(config.db).close()
    daemon = LescDaemon(config)
    text = IAQ.split(b"\r\n", 1)[1].decode()
    message = OutputMessage(
        "IAQ", "NY0303000", PINNED_CLOCK, 1, PINNED_CLOCK, 1, "VTINS07S0", text, "Q77"
    )
    daemon.terminal.inbox.append(Delivery(1, message.build(), message))
    daemon.terminal.closed_reason = "switch closed the connection"
    with pytest.raises(LinkClosed):
        await daemon._receive()
    waiting = list(daemon.terminal.backlog)
    assert [parse_iar(raw.split(b"TXT\r\n", 1)[1].decode()).typ.value for raw in waiting] == [
        "ACK",
        "RSP",
    ]
    daemon.store.close()


def test_answers_coming_due_queue_behind_those_waiting_for_the_window(tmp_path: Path) -> None:
    store = Store(tmp_path / "lesc.db")
    ledger = Ledger(store.db, LESC_ORI)
    terminal = Terminal("127.0.0.1", 1, LESC_ORI, "K", auto_ack=False)
    terminal.post(b"ANSWERED AT ONCE")  # no link: it waits in the terminal
    store.schedule(PINNED_CLOCK - timedelta(minutes=1), b"DUE NOW")
    store.schedule(PINNED_CLOCK + timedelta(hours=1), b"DUE LATER")
    terminal.post(*post_due(store, ledger, PINNED_CLOCK, terminal.next_post_seq))
    assert list(terminal.backlog) == [b"ANSWERED AT ONCE", b"DUE NOW"]
    assert ledger.pending() == [(2, b"DUE NOW")]
    assert [raw for _, raw in store.due(PINNED_CLOCK + timedelta(hours=2))] == [b"DUE LATER"]
    assert post_due(store, ledger, PINNED_CLOCK, terminal.next_post_seq) == []  # sent once
    store.close()


async def test_a_message_the_lesc_fails_to_answer_does_not_stop_the_others(
    lesc_config: Callable[..., DaemonConfig],
) -> None:
    """With the query-number table gone, IAQs fail inside the store; the AM behind them is
    still answered."""
    daemon = LescDaemon(lesc_config())
    daemon.store.db.execute("DROP TABLE query_numbers")
    iaq_text = IAQ.split(b"\r\n", 1)[1].decode()
    for mke, text in (("IAQ", iaq_text), ("AM", "CALL ME")):
        message = OutputMessage(
            mke, "NY0303000", PINNED_CLOCK, 1, PINNED_CLOCK, 1, "VTINS07S0", text, "C1"
        )
        daemon.terminal.inbox.append(Delivery(1, message.build(), message))
    daemon.terminal.closed_reason = "switch closed the connection"
    with pytest.raises(LinkClosed):
        await daemon._receive()
    (waiting,) = daemon.terminal.backlog
    assert waiting.startswith(b"AM.VTINS07S0.NY0303000.*C1.TXT\r\nICE LESC RECEIVED")
    daemon.store.close()
