"""HELP files (PROTOCOL §2.7): what an AM to ``ssfffHELP``/``UPDT``/``APND``/``CNCL`` does."""

from __future__ import annotations

from formats.envelope import CRLF
from nlets_sim.directory import HelpAddress


def apply(address: HelpAddress, current: str, text: str) -> str:
    """The file after the request: read leaves it, UPDT replaces, APND appends a line, CNCL
    clears."""
    match address.verb:
        case "UPDT":
            return text
        case "APND":
            return f"{current}{CRLF}{text}" if current else text
        case "CNCL":
            return ""
        case _:
            return current


def reading(address: HelpAddress, content: str) -> str:
    """The text of the AM that answers: the file, or the notice for an empty one."""
    return content or f"NO {address.file} HELP INFORMATION AVAILABLE FOR THIS USER"
