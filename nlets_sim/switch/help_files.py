"""HELP files (PROTOCOL §2.7): what an AM to ``ssfffHELP``/``UPDT``/``APND``/``CNCL`` does.

A file holds at most ``MAX_HELP_BYTES`` of text, so that its answer always fits in a frame; an
``UPDT`` or ``APND`` past that leaves the file as it was and says so (the reply is the
project's choice, in ``docs/protocol-decisions.md``).
"""

from __future__ import annotations

from formats.envelope import CRLF
from nlets_sim.switch.directory import HelpAddress

MAX_HELP_BYTES = 8_000


def apply(address: HelpAddress, current: str, text: str) -> str:
    """The file after the request: read leaves it, UPDT replaces, APND appends a line, CNCL
    clears."""
    match address.verb:
        case "UPDT":
            return text
        case "APND":  # on a new line: a file that ends with a line end has one already
            if not current or current.endswith(CRLF):
                return current + text
            return f"{current}{CRLF}{text}"
        case "CNCL":
            return ""
        case _:
            return current


def reading(address: HelpAddress, content: str) -> str:
    """The text of the AM that answers: the file, or the notice for an empty one. (A file
    written before the size limit existed is cut to it.)"""
    return content[:MAX_HELP_BYTES] or f"NO {address.file} HELP INFORMATION AVAILABLE FOR THIS USER"


def refusal(address: HelpAddress, size: int, current: str) -> str:
    """The answer to an UPDT or APND that would make the file too large: one line saying so,
    then the file as it stays."""
    return (
        f"{address.file_ori} NOT CHANGED: {size} BYTES, A HELP FILE HOLDS AT MOST "
        f"{MAX_HELP_BYTES}{CRLF}{reading(address, current)}"
    )
