"""Fault and latency injection: each rule kind, from the core, the server, a config file and
the CLI."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from formats.frames import Frame, FrameKind
from nlets_sim.pytest_plugin import TerminalFactory
from nlets_sim.switch.admin import admin_request
from nlets_sim.switch.config import Config, load_config
from nlets_sim.switch.faults import FaultError, make_fault
from nlets_sim.switch.server import SwitchServer
from nlets_sim.switch.state import Write
from nlets_sim.tools.cli import main
from tests.switch_harness import Harness
from tests.switch_process import running_switch

AM = b"AM.NY0303000.NJNLETS00.*F1.TXT\nHELLO"


def test_drop_discards_the_message_before_it_is_stored_or_acked(harness: Harness) -> None:
    harness.switch.faults.add(make_fault({"kind": "drop", "mke": "AM", "count": 1}))
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    ny.take()
    harness.send(ny, AM, seq=1)
    assert ny.take() == [Frame(FrameKind.AK, 0)]  # LST stays 0: the terminal must resend
    assert nj.deliveries() == []
    harness.send(ny, AM, seq=1)  # the resend goes through: the rule fired once
    assert ny.take()[0] == Frame(FrameKind.AK, 1)
    assert len(nj.deliveries()) == 1


def test_close_ends_the_senders_link_without_taking_the_message(harness: Harness) -> None:
    harness.switch.faults.add(make_fault({"kind": "close", "sender": "NY0303000"}))
    ny = harness.logon("NY0303000")
    harness.send(ny, AM)
    assert ny.closed
    assert harness.logon("NY0303000").take()[0].payload == b"LST/00000000.HBI/30"


@pytest.mark.parametrize(
    ("code", "first_line"),
    [
        (".19.", ".19. INVALID DESTINATION ORIs"),
        ("SM.04.", ".04. USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL NOT FORWARD"),
    ],
)
def test_reply_answers_with_the_given_er_or_sm(
    harness: Harness, code: str, first_line: str
) -> None:
    harness.switch.faults.add(
        make_fault({"kind": "reply", "destination": "NJNLETS00", "code": code})
    )
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    harness.send(ny, AM)
    ((_, reply),) = ny.deliveries()
    assert reply.control == "F1"
    assert reply.text.split("\r\n")[0] == first_line
    assert nj.deliveries() == []


def test_duplicate_writes_the_delivery_twice_with_one_seq(harness: Harness) -> None:
    harness.switch.faults.add(make_fault({"kind": "duplicate", "mke": "AM"}))
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    nj.take()
    harness.send(ny, AM)
    assert [seq for seq, _ in nj.deliveries()] == [1, 1]


def test_delay_holds_the_delivery_and_what_follows(harness: Harness) -> None:
    harness.switch.faults.add(make_fault({"kind": "delay", "delay_s": 2.5, "count": 1}))
    harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    harness.switch.receive(ny.conn, 1, AM.replace(b"\n", b"\r\n"), harness.now)
    harness.switch.receive(ny.conn, 2, AM.replace(b"\n", b"\r\n"), harness.now)
    sends = [c for c in harness.switch.flush() if isinstance(c, Write) and c.conn == 1]
    assert [s.delay_s for s in sends] == [2.5]
    assert sends[0].data.count(b"NL1DT") == 2


def test_probability_and_count_select_matches() -> None:
    harness = Harness()
    rule = make_fault({"kind": "duplicate", "probability": 0.5})
    harness.switch.faults.add(rule)
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    for _ in range(40):
        harness.send(ny, AM)
    seqs = [seq for seq, _ in nj.deliveries()]
    assert len(seqs) == 40 + rule.applied
    assert 5 < rule.applied < 35


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"kind": "explode"}, "kind must be one of"),
        ({"kind": "delay"}, "a delay needs delay_s"),
        ({"kind": "reply", "code": ".99."}, "unknown reply code"),
        ({"kind": "drop", "count": 1, "probability": 0.5}, "not both"),
        ({"kind": "drop", "when": "now"}, "unknown fault fields: when"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(rule: dict[str, object], message: str) -> None:
    with pytest.raises(FaultError, match=message):
        make_fault(rule)


def test_rules_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "switch.toml"
    path.write_text('heartbeat_s = 5\n[[fault]]\nkind = "delay"\nmu = 0.0\nsigma = 0.5\n')
    config = load_config(path, {})
    assert config.heartbeat_s == 5
    assert config.faults == ({"kind": "delay", "mu": 0.0, "sigma": 0.5},)


@pytest.fixture
def nlets_config(switch_config: Callable[..., Config]) -> Config:
    return switch_config(clock=None, faults=({"kind": "delay", "delay_s": 0.4, "mke": "AM"},))


async def test_delay_over_tcp(nlets_switch: SwitchServer, nlets_terminal: TerminalFactory) -> None:
    nj = await nlets_terminal("NJNLETS00")
    ny = await nlets_terminal("NY0303000")
    started = time.monotonic()
    await ny.send(AM.replace(b"\n", b"\r\n"))
    await nj.receive()
    assert time.monotonic() - started >= 0.4
    status = await admin_request(nlets_switch.config.admin_path, {"command": "fault-list"})
    assert status["faults"] == [
        {"kind": "delay", "mke": "AM", "delay_s": 0.4, "applied": 1, "id": 1}
    ]


def test_fault_cli_add_list_clear(tmp_path: Path) -> None:
    runner = CliRunner()
    with running_switch(tmp_path):
        data = ["--data-dir", str(tmp_path)]
        added = runner.invoke(
            main, ["fault", "add", *data, "reply", "--mke", "AM", "--code", ".02.", "--count", "2"]
        )
        assert added.output == "1. reply mke=AM count=2 code=.02. applied=0\n"
        bad = runner.invoke(main, ["fault", "add", *data, "delay"])
        assert bad.exit_code == 1
        assert "a delay needs delay_s" in bad.output
        assert runner.invoke(main, ["fault", "list", *data]).output.startswith("1. reply")
        assert runner.invoke(main, ["fault", "clear", *data]).output == "no fault rules\n"
        assert runner.invoke(main, ["fault", "list", *data]).output == "no fault rules\n"


async def test_terminal_survives_a_dropped_message_by_resending(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory
) -> None:
    """Drop, then the next message is a gap: the switch closes; the terminal logs on again
    and resends both, and both arrive once."""
    nlets_switch.switch.faults.add(make_fault({"kind": "drop", "count": 1}))
    nj = await nlets_terminal("NJNLETS00")
    ny = await nlets_terminal("NY0303000")
    await ny.send(AM.replace(b"\n", b"\r\n"))
    await ny.send(AM.replace(b"HELLO", b"AGAIN").replace(b"\n", b"\r\n"))
    assert await ny.wait_closed() == "switch sent NK SEQUENCE GAP EXPECTED 1"
    await ny.abort()
    await ny.connect()
    await ny.drain()
    texts = [(await nj.receive()).message.text for _ in range(2)]
    assert texts == ["HELLO", "AGAIN"]
    await asyncio.sleep(0)
