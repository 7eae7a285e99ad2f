"""Hypothesis strategies for the project's formats."""

from __future__ import annotations

from datetime import datetime

from hypothesis import strategies as st

from formats.frames import EMPTY_KINDS, SEQUENCED_KINDS, Frame, FrameKind

UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))

oris = st.text(UPPER_DIGITS, min_size=9, max_size=9)
line_codes = st.text(UPPER_DIGITS, min_size=2, max_size=2)
destinations = st.one_of(oris, line_codes)
mkes = st.text(LETTERS, min_size=2, max_size=3)
controls = st.none() | st.text(UPPER_DIGITS, min_size=1, max_size=10)
text_lines = st.text(PRINTABLE, max_size=60)
message_texts = st.lists(text_lines, max_size=5).map("\r\n".join)
minutes = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(second=0, microsecond=0)
)
counters = st.integers(min_value=0, max_value=99_999)
# A field value: printable, no leading/trailing period or CR LF ambiguity, and no ".ABC/"
# that would read as the start of another field.
field_values = st.text(PRINTABLE.replace(".", "").replace("/", ""), min_size=1, max_size=30)


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    kind = draw(st.sampled_from(list(FrameKind)))
    seq = draw(st.integers(0, 99_999_999)) if kind in SEQUENCED_KINDS else 0
    payload = b"" if kind in EMPTY_KINDS else draw(st.binary(max_size=300))
    return Frame(kind, seq, payload)
