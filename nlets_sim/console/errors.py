"""What both command lines share for a user's mistakes: each becomes one sentence on standard
error and a non-zero exit, never a traceback.

``UserError`` is the one exception the commands raise for a mistake; ``FriendlyGroup`` (the
class of both top-level groups) also turns the file-system and TOML errors that reach it into
such a sentence, naming the file. ``HOST_PORT`` parses every ``--to`` / ``--switch``;
``MESSAGE_KEY``, ``ORI_OR_LINE`` and ``SWITCH_TIME`` refuse a key, ORI or time that would
only match nothing.
"""

from __future__ import annotations

import os
import ssl
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from formats.envelope import LINE_CODE_PATTERN, ORI_PATTERN
from formats.keys import KEYS
from nlets_sim.link.terminal import parse_address


class UserError(click.ClickException):
    """A mistake of the user's, said in one sentence (exit status 1)."""


class BadSetting(UserError):
    """A wrong option or configuration value: exit status 2, as click's own usage errors."""

    exit_code = 2


def os_error_sentence(error: OSError, what: str = "") -> str:
    """``cannot write to PATH: Permission denied`` and the like."""
    where = error.filename if error.filename is not None else what
    reason = error.strerror or str(error)
    return f"{what + ' ' if what and where != what else ''}{where}: {reason}".strip()


class FriendlyGroup(click.Group):
    """A group whose commands' file-system, SQLite and TOML errors become one sentence."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:  # one line, not the usage screen
            where = error.ctx.command_path if error.ctx is not None else ctx.command_path
            raise BadSetting(f"{where}: {error.format_message()}") from None
        except OSError as error:
            if error.filename is None:  # not about a file: not for this sentence
                raise
            raise UserError(f"cannot use {os_error_sentence(error)}") from None
        except tomllib.TOMLDecodeError as error:
            raise UserError(f"not valid TOML: {error}") from None


class HostPort(click.ParamType[tuple[str, int], Any]):
    """``HOST:PORT`` (or ``:PORT``) to ``(host, port)``; the port is required and 1-65535."""

    name = "HOST:PORT"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, int]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_address(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


HOST_PORT = HostPort()


class OutputFile(click.Path):
    """A file a command will write (a report, a chart, results): checked before the command
    starts its work, so that a long run never ends unable to keep its results."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, writable=True, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        folder = path.parent
        if not folder.is_dir():
            self.fail(f"{str(path)!r}: there is no directory {str(folder)!r}", param, ctx)
        if not os.access(folder, os.W_OK | os.X_OK):
            self.fail(f"{str(path)!r}: {str(folder)!r} cannot be written (read-only?)", param, ctx)
        return path


OUTPUT_FILE = OutputFile()


class MessageKey(click.ParamType[str, Any]):
    """A message key the switch knows (``AM``, ``IAQ``, ...), written as Nlets writes it."""

    name = "MKE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if text not in KEYS:
            if text.upper() in KEYS:
                self.fail(f"{text!r}: message keys are upper case: {text.upper()}", param, ctx)
            self.fail(f"unknown message key {text!r}: one of {', '.join(KEYS)}", param, ctx)
        return text


MESSAGE_KEY = MessageKey()


class OriOrLine(click.ParamType[str, Any]):
    """An ORI (``NY0303000``) or, unless ``ori_only``, a line code (``NY``), upper case as
    Nlets writes them."""

    name = "ORI"

    def __init__(self, *, ori_only: bool = False) -> None:
        self.patterns = (ORI_PATTERN,) if ori_only else (ORI_PATTERN, LINE_CODE_PATTERN)
        self.expected = (
            "is not an ORI (9 letters and digits, e.g. NY0303000)"
            if ori_only
            else "is neither an ORI (9 letters and digits, e.g. NY0303000) nor a line code (2,"
            " e.g. NY)"
        )

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not self._matches(text):
            if self._matches(text.upper()):
                self.fail(f"{text!r}: ORIs are upper case: {text.upper()}", param, ctx)
            self.fail(f"{text!r} {self.expected}", param, ctx)
        return text

    def _matches(self, text: str) -> bool:
        return any(pattern.fullmatch(text) for pattern in self.patterns)


ORI_OR_LINE = OriOrLine()
ORI = OriOrLine(ori_only=True)


class SwitchTime(click.ParamType[str, Any]):
    """An ISO 8601 date, or date and time, in the switch's own time (no zone), to the form the
    journal keeps (``2026-11-23T08:00:00``) so that it compares as a time."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        example = "write the switch's local time in ISO 8601, e.g. 2026-11-23 or 2026-11-23T08:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as error:
            reason = "not a date and time" if "isoformat" in str(error) else str(error)
            self.fail(f"{text!r}: {reason}: {example}", param, ctx)
        if moment.tzinfo is not None:
            self.fail(f"{text!r} has a time zone: {example}", param, ctx)
        return moment.isoformat(timespec="seconds")


SWITCH_TIME = SwitchTime()


def check_time_zone(name: str) -> str:
    """``name`` if it is a known IANA time zone, else a ``UserError``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"unknown time zone {name!r}: give an IANA name such as UTC or America/New_York"
        ) from None
    return name


def ascii_text(text: str, what: str) -> str:
    """``text`` if it is ASCII; else a sentence naming the first other character."""
    for position, character in enumerate(text, start=1):
        if not character.isascii():
            raise UserError(
                f"{what} has {character!r} (U+{ord(character):04X}) at character {position}: "
                "Nlets text is ASCII only"
            )
    return text


def ascii_value(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback: the option's or argument's value if it is ASCII (or not given)."""
    if value is None:
        return None
    name = param.name or "value"
    return ascii_text(value, f"--{name}" if isinstance(param, click.Option) else name.upper())


def writable_directory(path: Path, what: str) -> Path:
    """Create ``path`` (and its parents) if missing and check that files can be made in it."""
    if path.exists() and not path.is_dir():
        raise UserError(f"{what} {path} is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {what} {path}: {error.strerror or error}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"cannot write to {what} {path}: permission denied or read-only")
    return path


def existing_file(path: Path, what: str, hint: str) -> Path:
    """``path`` if it is a file; else a sentence: read-only commands never create one."""
    if not path.is_file():
        raise UserError(
            f"no {what} at {path}{' (it is a directory)' if path.is_dir() else ''}; {hint}"
        )
    return path


def link_failure(error: Exception) -> str:
    """What went wrong on the link, for a person: never empty."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused: is a switch running there?"
    if isinstance(error, OSError) and not isinstance(error, ssl.SSLError):
        return error.strerror or str(error) or type(error).__name__
    return str(error) or type(error).__name__


def text_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file (a BOM skipped); a ``UserError`` naming the file and the
    line of the first byte that is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UserError(
            f"{path}: line {line}: byte 0x{data[error.start]:02X} is not UTF-8: this is not a"
            " text file"
        ) from None
