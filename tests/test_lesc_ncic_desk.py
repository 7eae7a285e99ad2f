"""The NCIC record desk (``lesc-daemon ncic ...``): each command on the store of a running LESC,
with a YQ through the real switch before and after it; the daemon is never restarted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from lesc_daemon.cli import main
from lesc_daemon.daemon import DaemonConfig, LescDaemon, running
from lesc_daemon.delays import NO_DELAY
from lesc_daemon.ncic_desk import VALIDATION_PERIOD, DeskError, NcicDesk
from lesc_daemon.store import Store
from nlets_sim.link.terminal import Terminal
from nlets_sim.pytest_plugin import TerminalFactory
from nlets_sim.switch.config import PINNED_CLOCK, Config
from nlets_sim.switch.server import SwitchServer
from tests.lesc_fixtures import catalogue_store


def desk(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["ncic", args[0], "--db", str(db), *args[1:]])
    return result.exit_code, result.output


async def yq(terminal: Terminal, nic: str, pri: str = "U") -> str:
    """The YR text for a wanted-person YQ on ``nic`` (the final answer when one is pending)."""
    query = (
        f"YQ.NY0303000.VTINS07S0.*H1.TXT\r\nRTY/WP.RNO/1.PRI/{pri}.OCA/NY-1.NIC/{nic}."
        "NAM/WANTED, WALTER.DOB/19700707.RNA/J SMITH.RAG/ALBANY PD"
    ).encode()
    (answer,) = await terminal.request(query)
    assert answer.message.mke == "YR"
    return answer.message.text


@pytest.fixture
def db(nlets_lesc: LescDaemon) -> Path:
    return nlets_lesc.config.db


async def test_enter_a_record_and_the_next_yq_confirms_it(
    db: Path, nlets_terminal: TerminalFactory
) -> None:
    terminal = await nlets_terminal("NY0303000")
    assert "CON/N." in await yq(terminal, "I000000001")
    code, output = desk(
        db, "enter", "--person", "T000002", "--type", "crim_warrant", "--oca", "NY-77",
        "--by", "jones",
    )  # fmt: skip
    assert (code, output) == (0, "entered I000000001 CRIM_WARRANT ORI/VTINS07S0 on T000002\n")
    after = await yq(terminal, "I000000001")
    assert ".CON/Y." in after
    assert "REM/CONFIRMED: CRIMINAL WARRANT ORI/VTINS07S0" in after
    (change,) = NcicDesk(Store(db)).show("I000000001").history
    assert (change.action, change.operator) == ("ENTER", "JONES")
    assert change.detail == "PERSON T000002 TYPE CRIM_WARRANT ORI VTINS07S0 OCA NY-77"


async def test_modify_changes_what_the_next_yr_says(
    db: Path, nlets_terminal: TerminalFactory
) -> None:
    terminal = await nlets_terminal("NY0303000")
    assert "REM/CONFIRMED: ADMINISTRATIVE WARRANT ORI/VTINS07S0" in await yq(terminal, "W000000001")
    code, output = desk(
        db, "modify", "W000000001", "--type", "DEPORTED_FELON", "--ori", "vtice0900",
        "--operator", "LEE",
    )  # fmt: skip
    assert code == 0, output
    assert output.startswith("modified W000000001 DEPORTED_FELON ORI/VTICE0900 ACTIVE")
    assert "REM/CONFIRMED: DEPORTED FELON ORI/VTICE0900" in await yq(terminal, "W000000001")
    history = NcicDesk(Store(db)).show("W000000001").history
    assert [(c.action, c.detail) for c in history] == [
        ("MODIFY", "TYPE DEPORTED_FELON ORI VTICE0900")
    ]


async def test_clear_then_a_yq_is_not_confirmed(db: Path, nlets_terminal: TerminalFactory) -> None:
    terminal = await nlets_terminal("NY0303000")
    assert ".CON/Y." in await yq(terminal, "W000000001")
    code, output = desk(db, "clear", "W000000001", "--reason", "located", "--operator", "LEE")
    assert (code, output) == (0, "cleared W000000001\n")
    after = await yq(terminal, "W000000001")
    assert ".CON/N." in after
    assert "REM/NOT CONFIRMED: RECORD CLEARED" in after
    code, output = desk(db, "clear", "W000000001", "--operator", "LEE")
    assert (code, output) == (1, "Error: cannot clear W000000001: the record is cleared\n")


async def test_cancel_then_a_yq_is_not_confirmed(db: Path, nlets_terminal: TerminalFactory) -> None:
    terminal = await nlets_terminal("NY0303000")
    assert ".CON/P." in await yq(terminal, "W000000002", "R")  # absconder: file review first
    code, output = desk(db, "cancel", "W000000002", "--reason", "entered in error")
    assert (code, output) == (0, "cancelled W000000002\n")
    after = await yq(terminal, "W000000002", "R")
    assert ".CON/N." in after
    assert "REM/NOT CONFIRMED: RECORD CANCELLED" in after
    (change,) = NcicDesk(Store(db)).show("W000000002").history
    assert (change.action, change.detail) == ("CANCEL", "ENTERED IN ERROR")


async def test_show_list_and_validate_change_no_answer(
    db: Path, nlets_terminal: TerminalFactory
) -> None:
    terminal = await nlets_terminal("NY0303000")
    before = await yq(terminal, "W000000001")
    code, output = desk(db, "list")
    assert code == 0
    assert [line.split()[:4] for line in output.splitlines()] == [
        ["W000000001", "ADMIN_WARRANT", "ORI/VTINS07S0", "ACTIVE"],
        ["W000000002", "ABSCONDER", "ORI/VTICE0900", "ACTIVE"],
        ["W000000003", "CRIM_WARRANT", "ORI/VTINS07S0", "INACTIVE"],
    ]
    assert desk(db, "list", "--state", "INACTIVE")[1].startswith("W000000003 ")
    code, output = desk(db, "show", "W000000001")
    assert output == (
        "W000000001 ADMIN_WARRANT  ORI/VTINS07S0 ACTIVE    T000007 OCA/ICE-0001"
        " VALIDATE-BY 2021-03-01\n"
    )
    # both active catalogue records were entered years ago: past their validation date
    code, output = desk(db, "validate")
    assert [line.split()[0] for line in output.splitlines()[:2]] == ["W000000001", "W000000002"]
    assert output.splitlines()[2] == "2 record(s) past their validation date"
    code, output = desk(db, "validate", "W000000001", "--operator", "KIM")
    assert code == 0, output
    code, output = desk(db, "validate")
    assert [line.split()[0] for line in output.splitlines()[:1]] == ["W000000002"]
    shown = desk(db, "show", "W000000001")[1].splitlines()
    assert shown[1].split()[1:4] == ["VALIDATE", "by", "KIM"]
    assert await yq(terminal, "W000000001") == before


def test_desk_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    store = catalogue_store(tmp_path / "lesc.db")
    the_desk = NcicDesk(store)
    at = PINNED_CLOCK
    with pytest.raises(DeskError, match="no person P404 in the store"):
        the_desk.enter("P404", kind="ADMIN_WARRANT", ori="VTINS07S0", oca=None, operator="A", at=at)
    with pytest.raises(DeskError, match="NIC W000000001 is already in use"):
        the_desk.enter(
            "T000001", kind="ADMIN_WARRANT", ori="VTINS07S0", oca=None, operator="A", at=at,
            nic="W000000001",
        )  # fmt: skip
    with pytest.raises(DeskError, match="nothing to change on W000000001"):
        the_desk.modify("W000000001", "A", at, ori="VTINS07S0")
    with pytest.raises(DeskError, match="cannot modify W000000003: the record is inactive"):
        the_desk.modify("W000000003", "A", at, oca="X")
    with pytest.raises(DeskError, match="needs an operator"):
        the_desk.clear("W000000001", " ", at)
    assert the_desk.show("W000000001").history == ()  # the refused clear left nothing
    entered = the_desk.enter(
        "T000001", kind="NSEERS", ori="VTINS07S0", oca=None, operator="A", at=at
    )
    assert entered.nic == "I000000001"
    assert the_desk.show("I000000001").validation_due == at.date() + VALIDATION_PERIOD
    assert the_desk.overdue(at.date() + VALIDATION_PERIOD) == the_desk.overdue(at.date())
    assert "I000000001" in [r.record.nic for r in the_desk.overdue(at.date() + timedelta(366))]
    code, output = desk(tmp_path / "missing.db", "list")
    assert (code, output) == (
        1,
        f"Error: no LESC store at {tmp_path / 'missing.db'}; give the --db of a store made by"
        " lesc-daemon seed or import\n",
    )
    code, output = desk(tmp_path / "lesc.db", "show", "W999999999")
    assert (code, output) == (1, "Error: no ICE record with NIC W999999999\n")


async def test_late_hit_confirmations_are_counted_by_the_report(
    nlets_switch: SwitchServer, nlets_config: Config, nlets_terminal: TerminalFactory
) -> None:
    """The LESC's clock is 20 minutes past the switch's receive time: an urgent YQ is answered
    late (past 10 minutes), a routine one is not (within the hour)."""
    config = DaemonConfig(
        nlets_config.host,
        nlets_switch.port,
        db=nlets_config.data_dir / "lesc.sqlite3",
        delay=NO_DELAY,
        clock=PINNED_CLOCK + timedelta(minutes=20),
    )
    async with running(config):
        terminal = await nlets_terminal("NY0303000")
        await yq(terminal, "W000000001", "U")
        await yq(terminal, "W000000001", "R")
        await yq(terminal, "W000000003", "U")
    result = CliRunner().invoke(main, ["report", "--db", str(config.db)])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == (
        "hit confirmations (YQ): 3 answered, 2 late (2 urgent past 10 minutes, 0 routine past"
        " 1 hour)"
    )
