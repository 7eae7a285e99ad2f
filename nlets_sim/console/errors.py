"""What both command lines share for a user's mistakes: each becomes one sentence on standard
error and a non-zero exit, never a traceback.

``UserError`` is the one exception the commands raise for a mistake; ``FriendlyGroup`` (the
class of both top-level groups) also turns the file-system and TOML errors that reach it into
such a sentence, naming the file. ``HOST_PORT`` parses every ``--to`` / ``--switch``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

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
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as error:
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
