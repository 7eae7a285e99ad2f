"""Link frames (PROTOCOL §1.1): a 19-byte ASCII header and a payload.

``build_frame`` and ``parse_frame`` convert one whole frame; ``FrameReader`` cuts a byte stream
into frames, keeping partial data between chunks.
"""

from __future__ import annotations

import enum
from typing import Any

import construct as cs

from formats.errors import FrameError, FrameTooLong, LocalProtocolError
from formats.value_types import value_type

HEADER_BYTES = 19
MAGIC = b"NL"
VERSION = b"1"
SEQ_DIGITS = 8
LENGTH_DIGITS = 6
MAX_SEQ = 10**SEQ_DIGITS - 1
MAX_LENGTH = 10**LENGTH_DIGITS - 1
DEFAULT_MAX_PAYLOAD = 65_536


class FrameKind(enum.Enum):
    """The eight frame kinds."""

    LI = "LI"  # logon, terminal -> switch
    LA = "LA"  # logon accepted
    LJ = "LJ"  # logon rejected
    DT = "DT"  # data: one Nlets message
    AK = "AK"  # cumulative acknowledgement of durably stored DT frames
    NK = "NK"  # negative acknowledgement, with a reason text
    HB = "HB"  # heartbeat
    LO = "LO"  # logoff

    # Members are singletons compared by identity: hash them by identity too, in C, instead of
    # Enum's hash of the name in Python (frames are hashed several times each).
    __hash__ = object.__hash__


_KINDS = {kind.value.encode("ascii"): kind for kind in FrameKind}
# Kinds whose seq field carries a number; every other kind sends 00000000.
SEQUENCED_KINDS = frozenset({FrameKind.DT, FrameKind.AK, FrameKind.NK})
# Kinds whose payload is always empty.
EMPTY_KINDS = frozenset({FrameKind.AK, FrameKind.HB, FrameKind.LO})
# What a terminal accepts from the switch: an LO may carry the reason the switch ends the
# session (docs/protocol-decisions.md, "LO with a reason").
EMPTY_KINDS_FROM_SWITCH = frozenset({FrameKind.AK, FrameKind.HB})


def shown(field: bytes) -> str:
    """A received field as ASCII reason text: bytes outside printable ASCII become ``?``, so
    that an ``NK`` can always carry it (and a log line never holds a control character)."""
    return "".join(chr(b) if 0x20 <= b < 0x7F else "?" for b in field)


@value_type
class Frame:
    """One link frame."""

    kind: FrameKind
    seq: int = 0
    payload: bytes = b""


class _Digits(cs.Adapter):  # type: ignore[type-arg]
    """A fixed-width, zero-padded decimal field (``seq``, ``length``)."""

    def __init__(self, width: int, field: str) -> None:
        super().__init__(cs.Bytes(width))
        self.width = width
        self.field = field

    def _decode(self, obj: bytes, _context: Any, _path: Any) -> int:
        if not obj.isdigit():
            raise FrameError(f"BAD {self.field} FIELD {shown(obj)}")
        return int(obj)

    def _encode(self, obj: int, _context: Any, _path: Any) -> bytes:
        return b"%0*d" % (self.width, obj)


class _Kind(cs.Adapter):  # type: ignore[type-arg]
    """The two-letter frame kind."""

    def __init__(self) -> None:
        super().__init__(cs.Bytes(2))

    def _decode(self, obj: bytes, _context: Any, _path: Any) -> FrameKind:
        kind = _KINDS.get(obj)
        if kind is None:
            raise FrameError(f"UNKNOWN FRAME KIND {shown(obj)}")
        return kind

    def _encode(self, obj: FrameKind, _context: Any, _path: Any) -> bytes:
        return obj.value.encode("ascii")


HEADER = cs.Struct(
    "magic" / cs.Const(MAGIC),
    "version" / cs.Const(VERSION),
    "kind" / _Kind(),
    "seq" / _Digits(SEQ_DIGITS, "SEQ"),
    "length" / _Digits(LENGTH_DIGITS, "LENGTH"),
)
"""The declarative header. ``build_frame`` and ``parse_header`` are hand-written fast paths
(construct's compiled Struct costs more to parse or build a header than the whole message budget:
BENCHMARKS.md, "Figures behind choices in the code"); ``tests/test_frames.py`` proves they agree
with ``HEADER`` on every input."""
_COMPILED_HEADER = HEADER.compile()
_KIND_AT = slice(3, 5)
_SEQ_AT = slice(5, 5 + SEQ_DIGITS)
_LENGTH_AT = slice(5 + SEQ_DIGITS, HEADER_BYTES)


_KIND_BYTES = {kind: kind.value.encode("ascii") for kind in FrameKind}


def build_frame(frame: Frame) -> bytes:
    """The bytes of ``frame``; raises ``LocalProtocolError`` for a frame the table forbids."""
    kind, seq, payload = frame.kind, frame.seq, frame.payload
    length = len(payload)
    if not (kind is FrameKind.DT and 0 <= seq <= MAX_SEQ and length <= MAX_LENGTH):
        check_shape(kind, seq, length, LocalProtocolError)  # a DT in range needs no more
    return b"NL1%b%08d%06d%b" % (_KIND_BYTES[kind], seq, length, payload)


def build_header_reference(kind: FrameKind, seq: int, length: int) -> bytes:
    """The header built by the construct definition (the reference for ``build_frame``)."""
    return _COMPILED_HEADER.build({"kind": kind, "seq": seq, "length": length})


def parse_header_reference(header: bytes) -> tuple[FrameKind, int, int]:
    """The header parsed by the construct definition (the reference for ``parse_header``)."""
    try:
        fields = _COMPILED_HEADER.parse(header)
    except cs.ConstError:
        raise FrameError("BAD MAGIC" if header[:2] != MAGIC else "UNSUPPORTED VERSION") from None
    return fields.kind, fields.seq, fields.length


def check_shape(
    kind: FrameKind,
    seq: int,
    length: int,
    error: type[FrameError] | type[LocalProtocolError],
    empty_kinds: frozenset[FrameKind] = EMPTY_KINDS,
) -> None:
    if not 0 <= seq <= MAX_SEQ:
        raise error(f"BAD SEQ FIELD {seq}")
    if not 0 <= length <= MAX_LENGTH:
        raise error(f"BAD LENGTH FIELD {length}")
    check_kind_rules(kind, seq, length, error, empty_kinds)


def check_kind_rules(
    kind: FrameKind,
    seq: int,
    length: int,
    error: type[FrameError] | type[LocalProtocolError],
    empty_kinds: frozenset[FrameKind] = EMPTY_KINDS,
) -> None:
    """The kind's rules: a seq only on the sequenced kinds, a payload not on the empty ones."""
    if seq and kind not in SEQUENCED_KINDS:
        raise error(f"SEQ MUST BE 00000000 FOR {kind.value}")
    if length and kind in empty_kinds:
        raise error(f"PAYLOAD NOT ALLOWED FOR {kind.value}")


def logoff(reason: str) -> bytes:
    """An ``LO`` that carries the switch's reason for ending the session."""
    payload = reason.encode("ascii")
    return b"NL1LO%08d%06d%b" % (0, len(payload), payload)


def parse_header(
    header: bytes, max_payload: int, empty_kinds: frozenset[FrameKind] = EMPTY_KINDS
) -> tuple[FrameKind, int, int]:
    """Check a 19-byte header; return (kind, seq, payload length)."""
    if header[:2] != MAGIC:
        raise FrameError("BAD MAGIC")
    if header[2:3] != VERSION:
        raise FrameError(f"UNSUPPORTED VERSION {shown(header[2:3])}")
    kind = _KINDS.get(header[_KIND_AT])
    if kind is None:
        raise FrameError(f"UNKNOWN FRAME KIND {shown(header[_KIND_AT])}")
    seq_field, length_field = header[_SEQ_AT], header[_LENGTH_AT]
    if not seq_field.isdigit():
        raise FrameError(f"BAD SEQ FIELD {shown(seq_field)}")
    if not length_field.isdigit():
        raise FrameError(f"BAD LENGTH FIELD {shown(length_field)}")
    seq, length = int(seq_field), int(length_field)
    # eight and six digits are always in range: of ``check_shape`` only the kind's rules apply
    check_kind_rules(kind, seq, length, FrameError, empty_kinds)
    if length > max_payload:
        raise FrameTooLong(f"FRAME TOO LONG {length} > {max_payload}", kind.value, seq)
    return kind, seq, length


def parse_frame(data: bytes, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Frame:
    """Parse exactly one whole frame."""
    if len(data) < HEADER_BYTES:
        raise FrameError("SHORT FRAME")
    kind, seq, length = parse_header(data[:HEADER_BYTES], max_payload)
    if len(data) != HEADER_BYTES + length:
        raise FrameError(f"LENGTH {length} DOES NOT MATCH PAYLOAD {len(data) - HEADER_BYTES}")
    return Frame(kind, seq, bytes(data[HEADER_BYTES:]))


class FrameReader:
    """Cuts a byte stream into frames.

    ``feed`` takes any chunk and returns the frames it completes; a partial frame stays
    buffered. A bad header raises ``FrameError`` as soon as its bytes show it is bad, without
    waiting for (or buffering) the payload it announces; after that the reader stays failed.
    The good frames of a chunk before a bad one are returned, and the next ``feed`` raises.
    ``empty_kinds``: the kinds that must have no payload (a terminal passes
    ``EMPTY_KINDS_FROM_SWITCH``).
    """

    def __init__(
        self,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        empty_kinds: frozenset[FrameKind] = EMPTY_KINDS,
    ) -> None:
        self.max_payload = max_payload
        self.empty_kinds = empty_kinds
        self._buffer = b""
        self._pending: tuple[FrameKind, int, int] | None = None  # header read, payload not
        self._failed: FrameError | None = None

    @property
    def failed(self) -> FrameError | None:
        """The error that stopped the reader, if one did."""
        return self._failed

    @property
    def buffered(self) -> int:
        """How many bytes are held waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        if self._failed is not None:
            raise self._failed
        buffer = self._buffer + data if self._buffer else bytes(data)
        size, position, pending = len(buffer), 0, self._pending
        frames: list[Frame] = []
        try:
            while True:
                if pending is None:
                    if size - position < HEADER_BYTES:
                        _check_prefix(buffer[position : position + 3])
                        break
                    header_end = position + HEADER_BYTES
                    pending = parse_header(
                        buffer[position:header_end], self.max_payload, self.empty_kinds
                    )
                    position = header_end
                kind, seq, length = pending
                if size - position < length:
                    break
                frames.append(Frame(kind, seq, buffer[position : position + length]))
                position += length
                pending = None
        except FrameError as error:
            self._failed = error
            self._buffer = b""
            if frames:  # the frames before the bad one are good: the next feed raises
                return frames
            raise
        self._buffer = buffer[position:]
        self._pending = pending
        return frames


def _check_prefix(head: bytes) -> None:
    """Fail on a bad magic or version before the whole header has arrived."""
    if head != (MAGIC + VERSION)[: len(head)]:
        if head[:2] != MAGIC[: len(head[:2])]:
            raise FrameError("BAD MAGIC")
        raise FrameError(f"UNSUPPORTED VERSION {shown(head[2:3])}")
