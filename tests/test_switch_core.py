"""The switch core's rules (PROTOCOL §1.2, §2), as in-memory conversations."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from formats.frames import Frame, FrameKind
from tests.switch_harness import NOW, Harness, Wire

AM_NJ = b"AM.NY0303000.NJNLETS00.*B1234.TXT\nHELLO FROM ALBANY"


def test_logon_accepted_with_lst_and_heartbeat_interval(harness: Harness) -> None:
    wire = harness.logon("NY0303000")
    assert wire.take() == [Frame(FrameKind.LA, 0, b"LST/00000000.HBI/30")]
    assert not wire.closed


@pytest.mark.parametrize(
    ("ori", "key", "reason"),
    [
        ("ZZ0000000", "X", b"UNKNOWN ORI"),
        ("NY0303000", "WRONG", b"BAD KEY"),
        ("NL0000000", "K-NL0000000", b"ORI NOT ALLOWED ON THIS LINK"),
    ],
)
def test_logon_rejected_with_reason_then_closed(
    harness: Harness, ori: str, key: str, reason: bytes
) -> None:
    wire = harness.logon(ori, key)
    assert wire.take() == [Frame(FrameKind.LJ, 0, reason)]
    assert wire.closed


def test_message_delivered_with_exact_output_header_then_acked(harness: Harness) -> None:
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    nj.take()
    ny.take()
    harness.send(ny, AM_NJ)
    assert ny.take() == [Frame(FrameKind.AK, 1)]
    assert nj.take() == [
        Frame(
            FrameKind.DT,
            1,
            b"AM.NY0303000.*B1234\r\n08:00 01/01/2026 00001\r\n"
            b"08:00 01/01/2026 00001 NJNLETS00\r\nTXT\r\nHELLO FROM ALBANY",
        )
    ]


def test_accepted_message_is_committed_before_its_ack(tmp_path: Path) -> None:
    """AK promises durability: at the moment flush returns the AK, another connection to the
    journal file already sees the message."""
    harness = Harness(tmp_path)
    ny = harness.logon("NY0303000")
    harness.send(ny, AM_NJ, flush=False)
    outside = sqlite3.connect(tmp_path / "journal.sqlite3")
    assert outside.execute("SELECT COUNT(*) FROM messages").fetchone() == (0,)
    harness.flush()
    assert outside.execute("SELECT COUNT(*) FROM messages").fetchone() == (1,)
    assert Frame(FrameKind.AK, 1) in ny.take()


def test_counters_per_sending_and_receiving_line(harness: Harness) -> None:
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    pa = harness.logon("PA0010000")
    harness.send(ny, AM_NJ)
    harness.send(ny, AM_NJ)
    harness.send(pa, b"AM.PA0010000.NJ.TXT\nFROM PA")
    stamps = [(m.input_number, m.output_number) for _, m in nj.deliveries()]
    assert stamps == [(1, 1), (2, 2), (1, 3)]


def test_counters_wrap_from_99999_to_00001(harness: Harness) -> None:
    harness.journal.save_counter("NY", "input", 99_999)
    harness.journal.save_counter("NJ", "output", 99_998)
    harness.journal.commit()
    harness.restart()
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    harness.send(ny, AM_NJ)
    harness.send(ny, AM_NJ)
    stamps = [(m.input_number, m.output_number) for _, m in nj.deliveries()]
    assert stamps == [(1, 99_999), (2, 1)]


def test_duplicate_seq_is_acked_again_and_not_routed_twice(harness: Harness) -> None:
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    ny.take()
    harness.send(ny, AM_NJ, seq=1)
    harness.send(ny, AM_NJ, seq=1)
    assert ny.take() == [Frame(FrameKind.AK, 1), Frame(FrameKind.AK, 1)]
    assert len(nj.deliveries()) == 1


def test_sequence_gap_gets_nk_and_close(harness: Harness) -> None:
    harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    ny.take()
    harness.send(ny, AM_NJ, seq=1)
    harness.send(ny, AM_NJ, seq=3)
    assert ny.take() == [
        Frame(FrameKind.AK, 1),
        Frame(FrameKind.NK, 3, b"SEQUENCE GAP EXPECTED 2"),  # no AK before it: nothing stored
    ]
    assert ny.closed


def test_lst_survives_reconnect_and_restart(harness: Harness) -> None:
    ny = harness.logon("NY0303000")
    harness.send(ny, AM_NJ)
    harness.send(ny, AM_NJ)
    harness.restart()
    again = harness.logon("NY0303000")
    assert again.take()[0] == Frame(FrameKind.LA, 0, b"LST/00000002.HBI/30")


def test_rejected_message_gets_er_with_echo_and_link_stays_up(harness: Harness) -> None:
    ny = harness.logon("NY0303000")
    ny.take()
    harness.send(ny, b"IAQ.NY0303000.NY.*Q1.TXT\nPUR/C")
    frames = ny.take()
    assert frames[0] == Frame(FrameKind.AK, 1)
    assert frames[1].payload == (
        b"ER.NL0000000.*Q1\r\n08:00 01/01/2026 00001\r\n08:00 01/01/2026 00001 NY0303000\r\n"
        b"TXT\r\n"
        b".02. MESSAGE TYPE NOT ALLOWED TO DESTINATION\r\nIAQ GOES TO AX ONLY\r\n"
        b"ORIGINAL MESSAGE\r\nIAQ.NY0303000.NY.*Q1.TXT\r\nPUR/C"
    )
    assert not ny.closed
    harness.send(ny, AM_NJ)
    assert ny.take()[0] == Frame(FrameKind.AK, 2)


def _error_lines(wire: Wire) -> list[str]:
    (_, message), *_ = wire.deliveries()
    assert message.mke == "ER"
    return message.text.split("\r\n")[:2]


@pytest.mark.parametrize(
    ("logon", "raw", "lines"),
    [
        (
            "NY0303000",
            b"AM.NY0010000.NJ.TXT\nX",
            [
                ".01. INVALID HEADER INFORMATION",
                "SENDER ORI NY0010000 NOT ALLOWED FOR LOGON NY0303000",
            ],
        ),
        (
            "NY0303000",
            b"AM.ZZ9999999.NJ.TXT\nX",
            [".01. INVALID HEADER INFORMATION", "SENDER ORI ZZ9999999 NOT IN DIRECTORY"],
        ),
        (
            "NY0303000",
            b"AM.NY0303000.QQ.TXT\nX",
            [".19. INVALID DESTINATION ORIs", "UNKNOWN DESTINATION QQ"],
        ),
        (
            "NY0303000",
            b"AM.NY0303000.NY9999999.TXT\nX",
            [".19. INVALID DESTINATION ORIs", "UNKNOWN DESTINATION NY9999999"],
        ),
        (
            "NY0030000",
            b"YQ.NY0030000.VTINS07S0.TXT\nRTY/WP",
            [".01. INVALID HEADER INFORMATION", "ORI NOT AUTHORIZED FOR YQ"],
        ),
        (  # IAR is the LESC's response key: restricted to its ORIs by the directory
            "NY0303000",
            b"IAR.NY0303000.NJ0010000.TXT\nQRN/L260101000001.TYP/RSP.RES/US.",
            [".01. INVALID HEADER INFORMATION", "ORI NOT AUTHORIZED FOR IAR"],
        ),
        (  # a control terminal sending for an ORI of its line is no exception
            "NYNLETS00",
            b"IAR.NY0303000.NJ0010000.TXT\nQRN/L260101000001.TYP/RSP.RES/US.",
            [".01. INVALID HEADER INFORMATION", "ORI NOT AUTHORIZED FOR IAR"],
        ),
        (
            "NY0303000",
            b"RQ.NY0303000.B1.TXT\nLIC/ABC123.LIY/2026.LIT/PC",
            [
                ".02. MESSAGE TYPE NOT ALLOWED TO DESTINATION",
                "RQ DOES NOT GO TO REGION CODES, NOT B1",
            ],
        ),
    ],
)
def test_directory_checks_give_the_right_er(
    harness: Harness, logon: str, raw: bytes, lines: list[str]
) -> None:
    wire = harness.logon(logon)
    wire.take()
    harness.send(wire, raw)
    assert _error_lines(wire) == lines


def test_the_lesc_may_send_iar(harness: Harness) -> None:
    """Both LESC ORIs originate IAR; VTINS07S0 controls line AX, so it may send as VTICE0900."""
    ny = harness.logon("NY0303000")
    lesc = harness.logon("VTINS07S0")
    for sender in ("VTINS07S0", "VTICE0900"):
        harness.send(lesc, f"IAR.{sender}.NY0303000.TXT\nRES/US.".encode())
    assert [(m.mke, m.originator) for _, m in ny.deliveries()] == [
        ("IAR", "VTINS07S0"),
        ("IAR", "VTICE0900"),
    ]


def test_control_terminal_may_send_for_any_ori_of_its_line(harness: Harness) -> None:
    nj = harness.logon("NJNLETS00")
    control = harness.logon("NYNLETS00")
    control.take()
    harness.send(control, b"AM.NY0303000.NJ.*C1.TXT\nFOR ALBANY")
    ((_, message),) = nj.deliveries()
    assert (message.originator, message.control) == ("NY0303000", "C1")
    assert control.take() == [Frame(FrameKind.AK, 1)]


def test_region_goes_to_every_state_control_terminal_of_the_region(harness: Harness) -> None:
    members = harness.directory.regions["B1"]
    wires = [harness.logon(harness.directory.lines[code].control_ori) for code in members]
    ny = harness.logon("NY0303000")
    harness.send(ny, b"AM.NY0303000.B1.TXT\nREGIONAL NOTICE")
    for wire in wires:
        deliveries = wire.deliveries()
        if wire.ori == ny.ori:
            continue
        assert [m.text for _, m in deliveries] == ["REGIONAL NOTICE"]


def test_aml_gets_the_caveat_as_first_line(harness: Harness) -> None:
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    harness.send(ny, b"AML.NY0303000.NJ.TXT\nSENSITIVE")
    ((_, message),) = nj.deliveries()
    assert message.text == "FOR LAW ENFORCEMENT DISSEMINATION ONLY\r\nSENSITIVE"


def test_ori_not_logged_on_goes_to_its_line_control_terminal(harness: Harness) -> None:
    nj_control = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    harness.send(ny, b"AM.NY0303000.NJ0010000.TXT\nFOR NEWARK")
    ((_, message),) = nj_control.deliveries()
    assert message.destination == "NJ0010000"


def test_store_and_forward_with_sm_then_delivery_on_logon_with_original_stamp(
    harness: Harness,
) -> None:
    ny = harness.logon("NY0303000")
    ny.take()
    harness.send(ny, b"AM.NY0303000.NJ0010000.TXT\nSTORED")
    ((_, notice),) = ny.deliveries()
    assert notice.mke == "SM"
    assert notice.text == (
        ".02. USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL FORWARD\r\nDESTINATION NJ0010000\r\n"
        "ORIGINAL MESSAGE\r\nAM.NY0303000.NJ0010000.TXT\r\nSTORED"
    )
    harness.now = NOW + timedelta(hours=2, minutes=5)
    newark = harness.logon("NJ0010000")
    ((seq, message),) = newark.deliveries()
    assert seq == 1
    assert message.build() == (
        b"AM.NY0303000\r\n08:00 01/01/2026 00001\r\n10:05 01/01/2026 00001 NJ0010000\r\n"
        b"TXT\r\nSTORED"
    )


def test_stored_message_expires_with_sm_07() -> None:
    harness = Harness(store_expiry=timedelta(hours=1))
    ny = harness.logon("NY0303000")
    harness.send(ny, b"AM.NY0303000.NJ0010000.TXT\nNEVER READ")
    ny.take()
    assert harness.switch.next_deadline() == NOW + timedelta(hours=1)
    harness.switch.tick(NOW + timedelta(minutes=59))
    harness.flush()
    assert ny.take() == []
    harness.switch.tick(NOW + timedelta(hours=1))
    harness.flush()
    ((_, notice),) = ny.deliveries()
    assert notice.text.split("\r\n")[:2] == [
        ".07. MESSAGE EXPIRED UNDELIVERED",
        "DESTINATION NJ0010000",
    ]
    assert harness.logon("NJ0010000").deliveries() == []


def test_sm_07_carries_the_control_field_of_the_expired_message() -> None:
    """§2.1: the control field is returned to the sender in every reply, SM .07. included."""
    harness = Harness(store_expiry=timedelta(hours=1))
    ny = harness.logon("NY0303000")
    harness.send(ny, b"AM.NY0303000.NJ0010000.*E7.TXT\nNEVER READ")
    ny.take()
    harness.switch.tick(NOW + timedelta(hours=1))
    harness.flush()
    assert [frame.payload for frame in ny.take()] == [
        b"SM.NL0000000.*E7\r\n09:00 01/01/2026 00000\r\n09:00 01/01/2026 00002 NY0303000\r\n"
        b"TXT\r\n.07. MESSAGE EXPIRED UNDELIVERED\r\nDESTINATION NJ0010000\r\n"
        b"ORIGINAL MESSAGE\r\nAM.NY0303000.NJ0010000.*E7.TXT\r\nNEVER READ"
    ]


def test_a_delivery_refused_with_nk_is_announced_to_its_sender_with_sm_08(
    harness: Harness,
) -> None:
    """A dead letter is told to the sender: SM .08. from NL0000000 in the layout of §2.4,
    with the control field of the refused message; the receiver never gets it again."""
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    nj.take()
    ny.take()
    harness.send(ny, b"AM.NY0303000.NJNLETS00.*R8.TXT\nNOT FOR YOU " + b"X" * 120)
    harness.send(ny, b"AM.NY0303000.NJNLETS00.TXT\nAFTER")
    assert [seq for seq, _ in nj.deliveries()] == [1, 2]
    ny.take()
    harness.now = NOW + timedelta(minutes=3)
    harness.switch.refused(nj.conn, 1, harness.now)
    harness.flush()
    assert [frame.payload for frame in ny.take()] == [
        b"SM.NL0000000.*R8\r\n08:03 01/01/2026 00000\r\n08:03 01/01/2026 00001 NY0303000\r\n"
        b"TXT\r\n.08. MESSAGE REFUSED BY DESTINATION, NLETS WILL NOT FORWARD\r\n"
        b"DESTINATION NJNLETS00\r\nORIGINAL MESSAGE\r\n"
        b"AM.NY0303000.NJNLETS00.*R8.TXT\r\nNOT FOR YOU " + b"X" * 56  # 100 bytes
    ]
    assert harness.memory.dead_letters() == {"NJNLETS00": 1}
    harness.ack(nj, 2)
    harness.drop(nj)
    assert harness.logon("NJNLETS00").deliveries() == []  # not handed again


def test_no_sm_08_for_a_refused_notice_of_the_switch_or_an_nk_of_nothing_in_flight(
    harness: Harness,
) -> None:
    """A refused ER or SM is not announced (the switch sent it), nor an NK of a seq that is
    not in flight."""
    ny = harness.logon("NY0303000")
    nj = harness.logon("NJNLETS00")
    ny.take()
    harness.send(nj, b"ZZ.NJNLETS00.NY0303000.TXT\nBAD KEY")  # an ER back to NJNLETS00
    ((seq, error),) = nj.deliveries()
    assert error.mke == "ER"
    harness.switch.refused(nj.conn, seq, harness.now)
    harness.switch.refused(nj.conn, 9, harness.now)
    harness.flush()
    assert nj.take() == []
    assert ny.take() == []


def test_removed_line_and_key_gets_sm_04_and_nothing_is_stored(harness: Harness) -> None:
    harness.switch.set_removed("NJ", "AM", removed=True)
    ny = harness.logon("NY0303000")
    ny.take()
    harness.send(ny, b"AM.NY0303000.NJ0010000.TXT\nX")
    ((_, notice),) = ny.deliveries()
    assert notice.text.startswith(".04. USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL NOT FORWARD")
    assert "NJ0010000" not in harness.memory.depths()
    harness.switch.set_removed("NJ", "AM", removed=False)
    harness.send(ny, b"AM.NY0303000.NJ0010000.TXT\nX")
    assert harness.memory.depths()["NJ0010000"] == 1


def test_window_of_64_then_more_after_ack(harness: Harness) -> None:
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    nj.take()
    for _ in range(70):
        harness.send(ny, AM_NJ, flush=False)
    harness.flush()
    assert [seq for seq, _ in nj.deliveries()] == list(range(1, 65))
    harness.ack(nj, 10)
    assert [seq for seq, _ in nj.deliveries()] == list(range(65, 71))


def test_unacked_deliveries_are_resent_with_their_seq_after_reconnect(harness: Harness) -> None:
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    for _ in range(3):
        harness.send(ny, AM_NJ)
    first = nj.deliveries()
    harness.ack(nj, 1)
    again = harness.logon("NJNLETS00")
    assert nj.closed  # the second logon took the session over
    resent = again.deliveries()
    assert [seq for seq, _ in resent] == [2, 3]
    assert [m.build() for _, m in resent] == [m.build() for _, m in first[1:]]


def test_reset_restarts_both_counters_and_renumbers_the_queue(harness: Harness) -> None:
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    for _ in range(3):
        harness.send(ny, AM_NJ)
    harness.ack(nj, 1)
    harness.drop(nj)
    fresh = harness.logon("NJNLETS00", reset=True)
    frames = fresh.take()
    assert frames[0] == Frame(FrameKind.LA, 0, b"LST/00000000.HBI/30")
    assert [f.seq for f in frames[1:]] == [1, 2]
    again = harness.logon("NY0303000", reset=True)
    assert again.take()[0].payload == b"LST/00000000.HBI/30"


def test_an_ak_survives_a_restart_and_a_reset_keeps_acknowledged_deliveries_settled(
    tmp_path: Path,
) -> None:
    """On the SQLite journal: an AK moves the ORI's acknowledged mark instead of updating each
    row, and ``journal show`` still calls those deliveries acknowledged."""
    harness = Harness(tmp_path)
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    first = harness.send(ny, AM_NJ)
    for _ in range(2):
        harness.send(ny, AM_NJ)
    nj.take()
    harness.ack(nj, 2)
    harness.restart()
    again = harness.logon("NJNLETS00")
    assert [seq for seq, _ in again.deliveries()] == [3]  # 1 and 2 were acknowledged
    assert harness.sqlite.queue_depths() == {"NJNLETS00": 1}
    harness.drop(again)
    fresh = harness.logon("NJNLETS00", reset=True)
    assert [seq for seq, _ in fresh.deliveries()] == [1]  # the third delivery, renumbered
    harness.drop(fresh)
    twice = harness.logon("NJNLETS00", reset=True)
    assert [seq for seq, _ in twice.deliveries()] == [1]  # still only that one
    message_id = harness.sqlite.search(ori="NY0303000")[first - 1].id
    assert [state for *_, state in harness.sqlite.deliveries_of(message_id)] == ["acked"]


def test_help_file_update_append_read_and_clear(harness: Harness) -> None:
    vt = harness.logon("VTINS07S0")
    vt.take()

    def ask(destination: str, text: str = "X") -> str:
        harness.send(vt, f"AM.VTINS07S0.{destination}.TXT\n{text}".encode())
        ((_, reply),) = vt.deliveries()
        assert (reply.mke, reply.originator) == ("AM", "AXADMHELP")
        return reply.text

    assert ask("AXADMHELP") == "NO ADM HELP INFORMATION AVAILABLE FOR THIS USER"
    assert ask("AXADMUPDT", "IAQ: SEND TO AX") == "IAQ: SEND TO AX"
    assert ask("AXADMAPND", "YQ: SEND TO VTINS07S0") == "IAQ: SEND TO AX\r\nYQ: SEND TO VTINS07S0"
    assert ask("AXADMHELP") == "IAQ: SEND TO AX\r\nYQ: SEND TO VTINS07S0"
    assert ask("AXADMCNCL") == "NO ADM HELP INFORMATION AVAILABLE FOR THIS USER"


def test_apnd_to_a_file_that_ends_with_a_line_end_adds_no_empty_line(harness: Harness) -> None:
    """§2.7: APND puts the text on a new line; after a final CR LF that line is already there."""
    vt = harness.logon("VTINS07S0")
    vt.take()
    harness.send(vt, b"AM.VTINS07S0.AXADMUPDT.TXT\nLINE 1\n")
    harness.send(vt, b"AM.VTINS07S0.AXADMAPND.TXT\nLINE 2\n")
    harness.send(vt, b"AM.VTINS07S0.AXADMAPND.TXT\nLINE 3")
    harness.send(vt, b"AM.VTINS07S0.AXADMAPND.TXT\nLINE 4")
    replies = [frame.payload.split(b"TXT\r\n", 1)[1] for frame in vt.take() if frame.payload]
    assert replies == [
        b"LINE 1\r\n",
        b"LINE 1\r\nLINE 2\r\n",
        b"LINE 1\r\nLINE 2\r\nLINE 3",
        b"LINE 1\r\nLINE 2\r\nLINE 3\r\nLINE 4",
    ]


def test_help_file_of_another_line_cannot_be_changed(harness: Harness) -> None:
    ny = harness.logon("NY0303000")
    ny.take()
    harness.send(ny, b"AM.NY0303000.AXADMUPDT.TXT\nMINE NOW")
    assert _error_lines(ny) == [
        ".02. MESSAGE TYPE NOT ALLOWED TO DESTINATION",
        "ONLY LINE AX OR A CONTROL TERMINAL MAY MAINTAIN AXADMHELP",
    ]
    harness.send(ny, b"AM.NY0303000.AXADMHELP.TXT\n")
    ((_, reply),) = ny.deliveries()
    assert reply.text == "NO ADM HELP INFORMATION AVAILABLE FOR THIS USER"


def test_any_lines_control_terminal_maintains_any_help_file(harness: Harness) -> None:
    """§2.7: Nlets' example has AZ's control terminal maintaining NL's file NLNLEHELP."""
    az = harness.logon("AZNLETS20")
    az.take()
    harness.send(az, b"AM.AZNLETS20.NLNLEUPDT.TXT\nNEW HELP MESSAGE")
    ((_, reply),) = az.deliveries()
    assert (reply.mke, reply.originator, reply.text) == ("AM", "NLNLEHELP", "NEW HELP MESSAGE")
    ny = harness.logon("NY0303000")
    ny.take()
    harness.send(ny, b"AM.NY0303000.NLNLEHELP.TXT\n")
    ((_, reply),) = ny.deliveries()
    assert reply.text == "NEW HELP MESSAGE"


def test_help_file_past_8000_bytes_is_left_unchanged_and_the_sender_told(
    harness: Harness,
) -> None:
    vt = harness.logon("VTINS07S0")
    vt.take()
    full = "X" * 7_998
    harness.send(vt, f"AM.VTINS07S0.AXADMUPDT.TXT\n{full}".encode())
    ((_, reply),) = vt.deliveries()
    assert reply.text == full
    harness.send(vt, b"AM.VTINS07S0.AXADMAPND.TXT\nY")  # CR LF + Y: 8,001 bytes
    ((_, reply),) = vt.deliveries()
    assert reply.text == (
        f"AXADMHELP NOT CHANGED: 8001 BYTES, A HELP FILE HOLDS AT MOST 8000\r\n{full}"
    )
    harness.send(vt, f"AM.VTINS07S0.AXADMUPDT.TXT\n{'Z' * 8_001}".encode())
    ((_, reply),) = vt.deliveries()
    assert reply.text.startswith("AXADMHELP NOT CHANGED: 8001 BYTES")
    harness.send(vt, b"AM.VTINS07S0.AXADMAPND.TXT\n")  # CR LF only: 8,000 bytes fit
    ((_, reply),) = vt.deliveries()
    assert reply.text == full + "\r\n"
    assert harness.switch.help["AXADMHELP"] == full + "\r\n"


def test_rq_goes_to_the_states_control_terminal_and_rr_back_to_one_ori(
    harness: Harness,
) -> None:
    ny_control = harness.logon("NYNLETS00")
    az = harness.logon("AZ0000000")
    ny_control.take()
    az.take()
    harness.send(az, b"RQ.AZ0000000.NY.*R1.TXT\nLIC/ABC123.LIY/2026.LIT/PC")
    ((_, query),) = ny_control.deliveries()
    assert (query.mke, query.originator, query.control, query.destination) == (
        "RQ",
        "AZ0000000",
        "R1",
        "NYNLETS00",
    )
    assert query.text == "LIC/ABC123.LIY/2026.LIT/PC"
    harness.send(ny_control, b"RR.NYNLETS00.AZ0000000.*R1.TXT\nLIC/ABC123 REGISTERED TO J DOE")
    ((_, answer),) = az.deliveries()
    assert (answer.mke, answer.originator, answer.text) == (
        "RR",
        "NYNLETS00",
        "LIC/ABC123 REGISTERED TO J DOE",
    )
    harness.send(ny_control, b"RR.NYNLETS00.AZ0000000,NJ0010000.TXT\nX")
    assert _error_lines(ny_control) == [
        ".19. INVALID DESTINATION ORIs",
        "TOO MANY DESTINATIONS: 2, RR ALLOWS 1",
    ]


def test_del_after_txt_is_accepted_and_dropped_from_the_delivered_text(
    harness: Harness,
) -> None:
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    nj.take()
    ny.take()
    harness.send(ny, b"AM.NY0303000.NJ.TXT\r\n\x7fROAD CLOSED")
    ((_, message),) = nj.deliveries()
    assert message.text == "ROAD CLOSED"
    harness.send(ny, b"AM.NY0303000.NJ.TXT\r\n\x7fROAD\x7f CLOSED")
    assert _error_lines(ny) == [
        "0 MESSAGE FORMAT/STRUCTURE ERROR",
        "CONTROL CHARACTER AT POSITION 27",
    ]


def test_logoff_acks_then_closes_and_later_mail_is_stored(harness: Harness) -> None:
    nj = harness.logon("NJNLETS00")
    nj.take()
    harness.switch.logoff(nj.conn)
    harness.flush()
    assert nj.closed
    ny = harness.logon("NY0303000")
    ny.take()
    harness.send(ny, AM_NJ)
    assert [m.mke for _, m in ny.deliveries()] == ["SM"]


def test_key_the_destination_does_not_take_gets_sm_01(harness: Harness) -> None:
    """Non-criminal-justice agencies take AM and AML only (directory ``accepts``)."""
    harness.logon("NY0030000")
    ny = harness.logon("NY0303000")
    ny.take()
    harness.send(
        ny,
        b"YQ.NY0303000.NY0030000.*Y1.TXT\nRTY/WP.RNO/1.PRI/U.OCA/1.NIC/W000000001."
        b"NAM/DOE, JOHN.DOB/19800115.RNA/J SMITH.RAG/ALBANY PD",
    )
    ((_, notice),) = ny.deliveries()
    assert notice.text.split("\r\n")[:2] == [
        ".01. USER DOES NOT RESPOND TO MSG TYPE, NLETS WILL NOT FORWARD",
        "DESTINATION NY0030000",
    ]


def test_ack_beyond_what_was_sent_loses_nothing_waiting(harness: Harness) -> None:
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    nj.take()
    for _ in range(66):
        harness.send(ny, AM_NJ, flush=False)
    harness.flush()
    assert len(nj.deliveries()) == 64
    harness.ack(nj, 10_000)  # a terminal acknowledging more than it got
    assert [seq for seq, _ in nj.deliveries()] == [65, 66]
    harness.drop(nj)
    assert [seq for seq, _ in harness.logon("NJNLETS00").deliveries()] == [65, 66]
