"""The terminal's link state machine (PROTOCOL §1.1, §1.2), without I/O: alone, and talking to
the switch's link in memory (``LinkPair``) on a clock pinned to the millisecond."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from formats.frames import Frame, FrameKind, build_frame, logoff, parse_frame
from nlets_sim.link.protocol import TAKEN_OVER, LogonTimedOut, PeerSilent
from nlets_sim.link.terminal_link import (
    LOGON_TIMED_OUT,
    SILENT_SWITCH,
    TRANSITIONS,
    Delivery,
    LinkDown,
    LoggedOn,
    TerminalLink,
    TerminalState,
)
from tests.link_pair import KEY, ORI, LinkPair, delivery

LA = build_frame(Frame(FrameKind.LA, 0, b"LST/00000000.HBI/30"))
AM = b"AM.NY0303000.NJ0010000.TXT\r\nHELLO"
DT, AK, NK, HB, LO, LI, LJ = (
    FrameKind.DT,
    FrameKind.AK,
    FrameKind.NK,
    FrameKind.HB,
    FrameKind.LO,
    FrameKind.LI,
    FrameKind.LJ,
)


def link_in(state: TerminalState) -> TerminalLink:
    link = TerminalLink(ORI, KEY)
    if state is not TerminalState.IDLE:
        link.connect(0.0)
        link.data_to_send(0.0)
    if state is TerminalState.ACTIVE:
        link.receive_data(LA, 0.0)
    elif state is TerminalState.CLOSED:
        link.connection_lost()
    return link


def frame_of(kind: FrameKind) -> bytes:
    payloads = {
        FrameKind.LA: b"LST/00000000.HBI/30",
        FrameKind.LJ: b"BAD KEY",
        FrameKind.NK: b"WHY",
        FrameKind.LI: b"ORI/NY0303000.KEY/S3CRET",
    }
    if kind is DT:
        return delivery(1)
    seq = 1 if kind in {AK, NK} else 0
    return build_frame(Frame(kind, seq, payloads.get(kind, b"")))


def sent(link: TerminalLink) -> list[Frame]:
    data = link.data_to_send(0.0)
    frames = []
    while data:
        length = 19 + int(data[13:19])
        frames.append(parse_frame(data[:length]))
        data = data[length:]
    return frames


@given(st.sampled_from(list(TerminalState)), st.sampled_from(list(FrameKind)))
def test_every_state_and_frame_pair_follows_the_table(
    state: TerminalState, kind: FrameKind
) -> None:
    link = link_in(state)
    events = link.receive_data(frame_of(kind), 1.0)
    if state in {TerminalState.IDLE, TerminalState.CLOSED}:
        assert events == []
        assert link.state is state
    elif (state, kind) in TRANSITIONS:
        assert link.state is TRANSITIONS[(state, kind)]
        assert not any(isinstance(e, LinkDown) and "bad frame" in e.reason for e in events)
    else:
        assert events[-1] == LinkDown(f"bad frame from switch: UNEXPECTED {kind.value}")
        assert link.state is TerminalState.CLOSED
        assert sent(link)[-1] == Frame(NK, 0, f"UNEXPECTED {kind.value}".encode())


def test_logon_sends_li_and_numbers_from_lst() -> None:
    link = TerminalLink(ORI, KEY)
    link.connect(0.0, reset=True)
    assert link.data_to_send(0.0) == b"NL1LI00000000000030ORI/NY0303000.KEY/S3CRET.RST/Y"
    accepted = build_frame(Frame(FrameKind.LA, 0, b"LST/00000041.HBI/20"))
    assert link.receive_data(accepted, 0.0) == [LoggedOn(41, 20)]
    assert (link.lst, link.heartbeat_s, link.closed_reason) == (41, 20, None)
    assert link.send(AM) == 42
    assert sent(link) == [Frame(DT, 42, AM)]


def test_lj_refuses_the_logon_with_its_reason() -> None:
    link = link_in(TerminalState.LOGGING_ON)
    assert link.receive_data(frame_of(LJ), 0.0) == [LinkDown("BAD KEY")]
    assert (link.refusal, link.closed) == ("BAD KEY", True)


def test_a_logon_answer_without_numbers_closes_the_link_with_nk() -> None:
    link = link_in(TerminalState.LOGGING_ON)
    (event,) = link.receive_data(build_frame(Frame(FrameKind.LA, 0, b"LST/X.HBI/0")), 0.0)
    assert event == LinkDown("bad frame from switch: BAD LOGON ANSWER LST/X.HBI/0")
    assert sent(link) == [Frame(NK, 0, b"BAD LOGON ANSWER LST/X.HBI/0")]


def test_deliveries_are_acknowledged_once_per_read_and_duplicates_dropped() -> None:
    link = link_in(TerminalState.ACTIVE)
    events = link.receive_data(delivery(1) + delivery(2) + delivery(1), 0.0)
    assert [e.seq for e in events if isinstance(e, Delivery)] == [1, 2]
    assert link.repeated == 1
    assert sent(link) == [Frame(AK, 2)]
    assert link.receive_data(delivery(2), 0.0) == []  # sent again after a reconnect
    assert sent(link) == [Frame(AK, 2)]


def test_without_auto_ack_only_what_the_application_stored_is_acknowledged() -> None:
    link = TerminalLink(ORI, KEY, auto_ack=False)
    link.connect(0.0)
    link.data_to_send(0.0)
    link.receive_data(LA + delivery(1) + delivery(2), 0.0)
    assert sent(link) == []
    link.ack(1)
    assert sent(link) == [Frame(AK, 1)]
    link.receive_data(delivery(1), 0.0)  # seen and stored: acknowledged again
    assert sent(link) == [Frame(AK, 1)]


def test_a_delivery_that_is_not_an_output_message_gets_nk_and_the_link_stays() -> None:
    link = link_in(TerminalState.ACTIVE)
    assert link.receive_data(build_frame(Frame(DT, 1, b"GARBAGE")), 0.0) == []
    assert sent(link) == [
        Frame(NK, 1, b"NOT AN OUTPUT MESSAGE: NOT AN OUTPUT HEADER"),
        Frame(AK, 1),
    ]
    assert link.refused == [(1, "NOT AN OUTPUT MESSAGE: NOT AN OUTPUT HEADER")]
    assert link.active


def test_a_delivery_too_long_is_refused_by_its_seq_and_the_link_closes() -> None:
    link = TerminalLink(ORI, KEY, max_payload=40)
    link.connect(0.0)
    link.data_to_send(0.0)
    link.receive_data(LA, 0.0)
    (event,) = link.receive_data(delivery(3), 0.0)
    reason = f"FRAME TOO LONG {len(parse_frame(delivery(3)).payload)} > 40"
    assert event == LinkDown(f"bad frame from switch: {reason}")
    assert sent(link) == [Frame(NK, 3, reason.encode())]


def test_the_switchs_nk_is_the_reason_when_it_closes() -> None:
    link = link_in(TerminalState.ACTIVE)
    link.receive_data(build_frame(Frame(NK, 5, b"SEQUENCE GAP EXPECTED 1")), 0.0)
    assert link.naks == [(5, "SEQUENCE GAP EXPECTED 1")]
    assert link.connection_lost() == [LinkDown("switch sent NK SEQUENCE GAP EXPECTED 1")]


def test_a_session_taken_over_is_remembered() -> None:
    link = link_in(TerminalState.ACTIVE)
    (event,) = link.receive_data(logoff(TAKEN_OVER), 0.0)
    assert event == LinkDown("switch logged off: SESSION TAKEN OVER")
    assert link.displaced == "SESSION TAKEN OVER"


def test_window_holds_posted_messages_until_acks_make_room() -> None:
    pair = LinkPair(window=3)
    pair.acknowledge = False
    pair.connect()
    assert pair.terminal.post(tuple(AM + b"%d" % n for n in range(5))) == range(1, 6)
    pair.run()
    assert [seq for seq, _ in pair.stored] == [1, 2, 3]
    assert len(pair.terminal.backlog) == 2
    pair.from_switch(build_frame(Frame(AK, 2)))
    assert [seq for seq, _ in pair.stored] == [1, 2, 3, 4, 5]
    assert pair.terminal.switch_acked == 2


def test_unacknowledged_messages_go_again_after_a_reconnect_with_their_seqs() -> None:
    pair = LinkPair()
    pair.acknowledge = False
    pair.connect()
    pair.terminal.post((AM + b"1", AM + b"2"))
    pair.run()
    pair.drop()
    pair.stored.clear()
    pair.lst = 1  # the switch has stored the first only (a crash took the second)
    pair.acknowledge = True
    pair.connect()
    assert pair.stored == [(2, AM + b"2")]
    assert pair.wire[-4:] == [
        (0, ">", Frame(LI, 0, b"ORI/NY0303000.KEY/S3CRET")),
        (0, "<", Frame(FrameKind.LA, 0, b"LST/00000001.HBI/30")),
        (0, ">", Frame(DT, 2, AM + b"2")),
        (0, "<", Frame(AK, 2)),
    ]
    assert pair.terminal.outgoing() == []
    assert pair.terminal.next_post_seq == 3


def test_a_switch_that_lost_the_session_gets_the_messages_renumbered() -> None:
    pair = LinkPair()
    pair.terminal.resume([(7, AM + b"7"), (8, AM + b"8")])
    pair.connect()
    assert pair.stored == [(1, AM + b"7"), (2, AM + b"8")]


# Timers, on a clock pinned to the millisecond --------------------------------------------


def test_an_idle_link_trades_heartbeats_and_stays_up() -> None:
    pair = LinkPair(heartbeat_s=30)
    pair.connect()
    pair.advance(10 * 60_000)
    beats = [(30_000 * n, HB) for n in range(1, 21)]
    assert pair.sent_by(">") == [(0, LI), *beats]
    assert pair.sent_by("<") == [(0, FrameKind.LA), *beats]
    assert pair.connected


def test_traffic_puts_the_next_heartbeat_off() -> None:
    pair = LinkPair(heartbeat_s=30)
    pair.connect()
    pair.advance(20_000)
    pair.terminal.send(AM)
    pair.run()
    pair.advance(40_000)
    assert pair.sent_by(">") == [(0, LI), (20_000, DT), (50_000, HB)]
    assert pair.sent_by("<") == [(0, FrameKind.LA), (20_000, AK), (50_000, HB)]


def test_terminal_closes_a_link_on_which_the_switch_fell_silent() -> None:
    pair = LinkPair(heartbeat_s=1)
    pair.connect()
    pair.switch_mute = True
    pair.advance(2_999)
    assert pair.connected
    pair.advance(1)
    assert pair.events[-1] == LinkDown(SILENT_SWITCH)
    assert pair.terminal.closed_reason == "nothing from the switch for 3 x HBI; link closed"
    assert pair.sent_by(">") == [(0, LI), (1_000, HB), (2_000, HB)]
    assert not pair.connected


def test_switch_closes_a_link_on_which_the_terminal_fell_silent() -> None:
    pair = LinkPair(heartbeat_s=30)
    pair.connect()
    pair.terminal_mute = True
    pair.advance(89_999)
    assert pair.connected
    pair.advance(1)
    assert isinstance(pair.switch_events[-1], PeerSilent)
    assert pair.sent_by("<") == [(0, FrameKind.LA), (30_000, HB), (60_000, HB)]
    assert pair.terminal.closed_reason == "switch closed the connection"


def test_switch_refuses_a_connection_that_sends_no_logon_in_time() -> None:
    pair = LinkPair(logon_timeout_s=0.25)
    pair.terminal_mute = True
    pair.connect()
    pair.advance(249)
    assert pair.switch_events == []
    pair.advance(1)
    assert isinstance(pair.switch_events[-1], LogonTimedOut)
    assert pair.wire == [(250, "<", Frame(LJ, 0, b"LOGON REQUIRED"))]
    # the terminal had sent its LI into the void: it reads the LJ as the switch's refusal
    assert pair.events == [LinkDown("LOGON REQUIRED")]


def test_terminal_gives_up_a_logon_the_switch_does_not_answer() -> None:
    pair = LinkPair(terminal_timeout_s=10)
    pair.answer_logon = False
    pair.connect()
    pair.advance(9_999)
    assert pair.terminal.state is TerminalState.LOGGING_ON
    pair.advance(1)
    assert pair.events == [LinkDown(LOGON_TIMED_OUT)]
    assert not pair.connected


def test_nothing_is_due_on_a_link_that_is_not_connected() -> None:
    link = TerminalLink(ORI, KEY)
    assert link.next_deadline() is None
    assert link.tick(1e9) == []
    assert link_in(TerminalState.CLOSED).next_deadline() is None


@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_events_or_one_close_never_an_exception(data: bytes) -> None:
    for state in (TerminalState.LOGGING_ON, TerminalState.ACTIVE):
        link = link_in(state)
        events = link.receive_data(data, 1.0)
        downs = [e for e in events if isinstance(e, LinkDown)]
        assert len(downs) <= 1
        if downs:
            assert events[-1] is downs[0]
            assert link.closed
