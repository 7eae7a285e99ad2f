"""A message as people write it in a file or type it, made into the bytes a terminal sends."""

from __future__ import annotations

from formats.envelope import CRLF


def prepare(raw: bytes) -> bytes:
    """A message as typed in a file: CR LF, LF or CR alone are line ends, sent as CR LF; one
    final line end is dropped. Bytes that are not ASCII are left as they are (the switch
    refuses them)."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return raw
    lines = text.replace(CRLF, "\n").replace("\r", "\n")
    return lines.removesuffix("\n").replace("\n", CRLF).encode("ascii")
