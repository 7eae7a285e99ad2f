"""The switch's link state machine (PROTOCOL §1.1, §1.2)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from formats.frames import Frame, FrameKind, build_frame, parse_frame
from nlets_sim.link.protocol import (
    TRANSITIONS,
    AckReceived,
    DataReceived,
    HeartbeatDue,
    LinkState,
    LogonRequested,
    LogonTimedOut,
    PeerSilent,
    ProtocolViolation,
    SwitchLink,
    parse_logon,
)

LOGON = build_frame(Frame(FrameKind.LI, 0, b"ORI/NY0303000.KEY/S3CRET"))


def _link_in(state: LinkState) -> SwitchLink:
    link = SwitchLink()
    if state is LinkState.LOGGING_ON:
        link.receive_data(LOGON, 0.0)
    elif state is LinkState.ACTIVE:
        link.receive_data(LOGON, 0.0)
        link.activate("NY0303000", 0.0)
    elif state is LinkState.CLOSED:
        link.close()
    return link


def _frame_of(kind: FrameKind) -> bytes:
    if kind is FrameKind.LI:
        return LOGON
    seq = 1 if kind in {FrameKind.DT, FrameKind.AK, FrameKind.NK} else 0
    payload = b"" if kind in {FrameKind.AK, FrameKind.HB, FrameKind.LO} else b"X"
    return build_frame(Frame(kind, seq, payload))


@given(st.sampled_from(list(LinkState)), st.sampled_from(list(FrameKind)))
def test_every_state_and_frame_pair_follows_the_table(state: LinkState, kind: FrameKind) -> None:
    link = _link_in(state)
    events = link.receive_data(_frame_of(kind), 0.0)
    if state is LinkState.CLOSED:
        assert events == []
    elif state is LinkState.LOGGING_ON:  # the logon is being decided: the frame waits
        assert events == []
        assert link.waiting
    elif (state, kind) in TRANSITIONS:
        assert not any(isinstance(e, ProtocolViolation) for e in events)
        assert link.state is TRANSITIONS[(state, kind)]
    else:
        (event,) = events
        assert isinstance(event, ProtocolViolation)
        assert link.state is LinkState.CLOSED


def test_first_frame_other_than_logon_gets_lj_logon_required() -> None:
    (event,) = SwitchLink().receive_data(_frame_of(FrameKind.DT), 0.0)
    assert isinstance(event, ProtocolViolation)
    assert parse_frame(event.reply) == Frame(FrameKind.LJ, 0, b"LOGON REQUIRED")


def test_bad_header_gets_nk_with_reason() -> None:
    (event,) = SwitchLink().receive_data(b"XX1LI00000000000000", 0.0)
    assert isinstance(event, ProtocolViolation)
    assert parse_frame(event.reply) == Frame(FrameKind.NK, 0, b"BAD MAGIC")


def test_logon_fields_parsed_with_optional_reset() -> None:
    assert parse_logon(b"ORI/NY0303000.KEY/S3CRET.RST/Y") == LogonRequested(
        "NY0303000", "S3CRET", reset=True
    )
    assert parse_logon(b"ORI/NY0303000.KEY/S3CRET") == LogonRequested(
        "NY0303000", "S3CRET", reset=False
    )
    assert parse_logon(b"ORI/NY0303000") is None
    assert parse_logon(b"\xff") is None


def test_logon_with_a_repeated_field_is_refused_as_unknown_ori() -> None:
    """An LI naming two ORIs (or two keys) is not ``ORI/...KEY/...[.RST/Y]``: LJ UNKNOWN ORI,
    rather than a logon as whichever ORI came first."""
    link = SwitchLink()
    payload = b"ORI/NY0303000.KEY/S3CRET.ORI/NY0010000"
    (event,) = link.receive_data(build_frame(Frame(FrameKind.LI, 0, payload)), 0.0)
    assert isinstance(event, ProtocolViolation)
    assert event.reply == b"NL1LJ00000000000011UNKNOWN ORI"
    assert parse_logon(b"ORI/NY0303000.KEY/S3CRET.KEY/OTHER") is None


def test_active_link_turns_frames_into_events() -> None:
    link = _link_in(LinkState.ACTIVE)
    events = link.receive_data(_frame_of(FrameKind.DT) + build_frame(Frame(FrameKind.AK, 7)), 0.0)
    assert events == [DataReceived(1, b"X"), AckReceived(7)]


@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_events_or_one_violation_never_an_exception(data: bytes) -> None:
    for state in (LinkState.AWAIT_LOGON, LinkState.ACTIVE):
        link = _link_in(state)
        events = link.receive_data(data, 0.0)
        violations = [e for e in events if isinstance(e, ProtocolViolation)]
        assert len(violations) <= 1
        if violations:
            assert events[-1] is violations[0]
            assert link.state is LinkState.CLOSED


def test_frames_behind_a_logon_wait_for_its_decision() -> None:
    link = SwitchLink()
    dt = _frame_of(FrameKind.DT)
    assert link.receive_data(LOGON + dt + dt[:5], 0.0) == [
        LogonRequested("NY0303000", "S3CRET", False)
    ]
    assert link.waiting
    link.activate("NY0303000", 0.0)
    assert link.receive_data(b"", 0.0) == [DataReceived(1, b"X")]
    assert link.receive_data(dt[5:], 0.0) == [DataReceived(1, b"X")]
    assert not link.waiting


def test_frames_behind_a_refused_logon_are_dropped() -> None:
    link = SwitchLink()
    link.receive_data(LOGON + _frame_of(FrameKind.DT), 0.0)
    link.close()
    assert not link.waiting
    assert link.receive_data(b"", 0.0) == []


def test_a_non_ascii_header_gets_an_nk_that_can_be_sent() -> None:
    (event,) = SwitchLink().receive_data(b"NL1\xff\xfe00000000000000", 0.0)
    assert isinstance(event, ProtocolViolation)
    assert parse_frame(event.reply) == Frame(FrameKind.NK, 0, b"UNKNOWN FRAME KIND ??")


def test_timers_are_deadlines_on_the_clock_passed_in() -> None:
    """Logon timeout from the connection until a whole LI; once logged on, HB after HBI
    without sending and the dead peer after 3 x HBI without receiving (seconds here)."""
    link = SwitchLink(now=100.0, heartbeat_s=30, logon_timeout_s=10.0)
    assert link.next_deadline() == 110.0
    assert link.tick(109.999) == []
    link.receive_data(LOGON[:5], 105.0)  # part of an LI does not stop the logon timer
    assert link.next_deadline() == 110.0
    link.receive_data(LOGON[5:], 106.0)
    assert link.next_deadline() is None  # the logon is being decided
    link.activate("NY0303000", 108.0)  # a key check took 2 s: no HB may go before the LA
    assert link.next_deadline() == 138.0
    assert link.tick(137.999) == []
    assert link.tick(138.0) == [HeartbeatDue(b"NL1HB00000000000000")]
    link.sent(150.0)
    assert link.next_deadline() == 180.0
    link.receive_data(_frame_of(FrameKind.HB), 170.0)
    link.sent(200.0)
    link.sent(230.0)
    link.sent(259.0)
    assert link.next_deadline() == 260.0  # 170 + 3 x 30
    assert link.tick(259.999) == []
    assert link.tick(260.0) == [PeerSilent()]
    assert link.closed
    assert link.next_deadline() is None


def test_no_logon_in_time_gets_lj_logon_required() -> None:
    link = SwitchLink(now=0.0, logon_timeout_s=0.5)
    (event,) = link.tick(0.5)
    assert event == LogonTimedOut(b"NL1LJ00000000000014LOGON REQUIRED")
    assert link.closed
