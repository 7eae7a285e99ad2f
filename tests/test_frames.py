"""Link frames (PROTOCOL §1.1): golden bytes, the reader's buffering, and every NK reason."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.errors import FrameError, LocalProtocolError, RemoteProtocolError
from formats.frames import (
    EMPTY_KINDS_FROM_SWITCH,
    Frame,
    FrameKind,
    FrameReader,
    build_frame,
    build_header_reference,
    check_shape,
    logoff,
    parse_frame,
    parse_header,
    parse_header_reference,
)
from tests.strategies import frames

GOLDEN = [
    (
        b"NL1LI00000000000030ORI/NY0303000.KEY/S3CRET.RST/Y",
        Frame(FrameKind.LI, 0, b"ORI/NY0303000.KEY/S3CRET.RST/Y"),
    ),
    (b"NL1LA00000000000019LST/00000041.HBI/30", Frame(FrameKind.LA, 0, b"LST/00000041.HBI/30")),
    (b"NL1LJ00000000000007BAD KEY", Frame(FrameKind.LJ, 0, b"BAD KEY")),
    (
        b"NL1DT00000042000019AM.NY0303000.NJ.TXT",
        Frame(FrameKind.DT, 42, b"AM.NY0303000.NJ.TXT"),
    ),
    (b"NL1AK00000042000000", Frame(FrameKind.AK, 42)),
    (
        b"NL1NK00000043000024SEQUENCE GAP EXPECTED 42",
        Frame(FrameKind.NK, 43, b"SEQUENCE GAP EXPECTED 42"),
    ),
    (b"NL1HB00000000000000", Frame(FrameKind.HB)),
    (b"NL1LO00000000000000", Frame(FrameKind.LO)),
]


@pytest.mark.parametrize(("wire", "frame"), GOLDEN)
def test_golden_frame_parses_and_builds_back(wire: bytes, frame: Frame) -> None:
    assert parse_frame(wire) == frame
    assert build_frame(frame) == wire


@pytest.mark.parametrize(("wire", "frame"), GOLDEN)
def test_golden_frame_fed_whole_byte_by_byte_and_with_trailing_bytes(
    wire: bytes, frame: Frame
) -> None:
    assert FrameReader().feed(wire) == [frame]

    reader = FrameReader()
    received = [got for byte in wire for got in reader.feed(bytes([byte]))]
    assert received == [frame]

    reader = FrameReader()
    assert reader.feed(wire + b"NL1HB0000") == [frame]
    assert reader.buffered == len(b"NL1HB0000")
    assert reader.feed(b"0000000000") == [Frame(FrameKind.HB)]
    assert reader.buffered == 0


def test_reader_returns_every_frame_of_one_chunk_in_order() -> None:
    wire = b"".join(wire for wire, _ in GOLDEN)
    assert FrameReader().feed(wire) == [frame for _, frame in GOLDEN]


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        (b"XL1HB00000000000000", "BAD MAGIC"),
        (b"NL2HB00000000000000", "UNSUPPORTED VERSION 2"),
        (b"NL1ZZ00000000000000", "UNKNOWN FRAME KIND ZZ"),
        (b"NL1DT0000004a000000", "BAD SEQ FIELD 0000004a"),
        (b"NL1DT00000042 00001", "BAD LENGTH FIELD  00001"),
        (b"NL1HB00000001000000", "SEQ MUST BE 00000000 FOR HB"),
        (b"NL1AK00000001000001", "PAYLOAD NOT ALLOWED FOR AK"),
        (b"NL1DT00000001065537", "FRAME TOO LONG 65537 > 65536"),
    ],
)
def test_bad_header_raises_the_nk_reason(wire: bytes, reason: str) -> None:
    reader = FrameReader()
    with pytest.raises(FrameError) as raised:
        reader.feed(wire)
    assert raised.value.reason == reason
    assert reader.buffered == 0


def test_bad_magic_is_reported_from_the_first_byte() -> None:
    with pytest.raises(FrameError, match="BAD MAGIC"):
        FrameReader().feed(b"G")


def test_too_long_frame_fails_at_its_header_without_buffering_the_payload() -> None:
    reader = FrameReader(max_payload=100)
    with pytest.raises(FrameError, match="FRAME TOO LONG 101 > 100"):
        reader.feed(b"NL1DT00000001000101")
    assert reader.buffered == 0


def test_reader_stays_failed_after_an_error() -> None:
    reader = FrameReader()
    with pytest.raises(FrameError):
        reader.feed(b"XX")
    with pytest.raises(FrameError, match="BAD MAGIC"):
        reader.feed(b"NL1HB00000000000000")


def test_parse_frame_rejects_a_length_that_does_not_match() -> None:
    with pytest.raises(FrameError, match="LENGTH 5 DOES NOT MATCH PAYLOAD 4"):
        parse_frame(b"NL1DT00000001000005ABCD")
    with pytest.raises(FrameError, match="SHORT FRAME"):
        parse_frame(b"NL1DT")


@pytest.mark.parametrize(
    "frame",
    [Frame(FrameKind.HB, 1), Frame(FrameKind.LO, 0, b"X"), Frame(FrameKind.DT, 10**8)],
)
def test_building_a_forbidden_frame_is_a_local_error(frame: Frame) -> None:
    with pytest.raises(LocalProtocolError):
        build_frame(frame)


@given(frames())
def test_any_frame_round_trips(frame: Frame) -> None:
    wire = build_frame(frame)
    assert parse_frame(wire) == frame
    assert FrameReader().feed(wire) == [frame]


@given(st.lists(frames(), max_size=5), st.data())
def test_any_split_of_a_stream_yields_the_same_frames(
    frames_: list[Frame], data: st.DataObject
) -> None:
    wire = b"".join(map(build_frame, frames_))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    reader = FrameReader()
    received: list[Frame] = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        received += reader.feed(wire[start:end])
    assert received == frames_


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_the_remote_protocol_error(data: bytes) -> None:
    reader = FrameReader(max_payload=64)
    with contextlib.suppress(RemoteProtocolError):
        reader.feed(data)


@given(frames())
def test_fast_header_build_agrees_with_the_construct_definition(frame: Frame) -> None:
    header = build_frame(frame)[:19]
    assert header == build_header_reference(frame.kind, frame.seq, len(frame.payload))


@given(
    st.one_of(
        st.binary(min_size=19, max_size=19),
        st.builds(
            lambda kind, digits: b"NL1" + kind + digits,
            st.sampled_from([b"DT", b"AK", b"HB", b"LI", b"ZZ"]),
            st.text("0123456789 a", min_size=14, max_size=14).map(str.encode),
        ),
    )
)
def test_fast_header_parse_agrees_with_the_construct_definition(header: bytes) -> None:
    try:
        fast: object = parse_header(header, max_payload=999_999)
    except FrameError:
        fast = FrameError
    try:
        reference: object = parse_header_reference(header)
    except FrameError:
        reference = FrameError
    if reference is not FrameError and fast is FrameError:
        # The reference reads the table's fields only; the fast path also applies the
        # per-kind rules (seq 0, empty payload), which the reference leaves to check_shape.
        kind, seq, length = parse_header_reference(header)
        with pytest.raises(FrameError):
            check_shape(kind, seq, length, FrameError)
    else:
        assert fast == reference


@given(st.binary(max_size=60))
def test_every_nk_reason_is_printable_ascii(data: bytes) -> None:
    """Whatever bytes a header holds, the reason can be sent in an NK as it is."""
    reason = ""
    try:
        FrameReader(max_payload=64).feed(b"NL1" + data)
    except FrameError as error:
        reason = error.reason
    assert all(0x20 <= ord(c) < 0x7F for c in reason), reason


def test_a_chunk_returns_its_good_frames_before_a_bad_one() -> None:
    reader = FrameReader()
    assert reader.feed(b"NL1HB00000000000000NL1ZZ00000000000000") == [Frame(FrameKind.HB)]
    assert reader.failed is not None
    with pytest.raises(FrameError, match="UNKNOWN FRAME KIND ZZ"):
        reader.feed(b"")


def test_a_terminal_accepts_lo_with_a_reason_and_the_switch_does_not() -> None:
    wire = logoff("SESSION TAKEN OVER")
    assert wire == b"NL1LO00000000000018SESSION TAKEN OVER"
    assert FrameReader(empty_kinds=EMPTY_KINDS_FROM_SWITCH).feed(wire) == [
        Frame(FrameKind.LO, 0, b"SESSION TAKEN OVER")
    ]
    with pytest.raises(FrameError, match="PAYLOAD NOT ALLOWED FOR LO"):
        FrameReader().feed(wire)
