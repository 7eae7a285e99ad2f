"""The switch's directory (ORION, PROTOCOL §2.6): lines, ORIs, regions, logon keys.

Loaded from TOML (``fixtures/directory.toml`` is the default). ``check_directory`` reports every
problem with its line number in the file; ``load_directory`` refuses a file with problems.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formats.envelope import LINE_CODE_PATTERN, ORI_PATTERN
from formats.keys import KEYS

AGENCY_TYPES = frozenset({"PD", "SO", "SA", "LE", "FE", "JA", "JC", "JG", "JJ", "JF", "CJ", "NJ"})
ACCESS_CATEGORIES = frozenset("ACDZ")
REGIONS = tuple(f"{letter}1" for letter in "ABCDEFGH")
HELP_SUFFIXES = ("HELP", "UPDT", "APND", "CNCL")
_HELP_ORI = re.compile(r"(?P<line>[A-Z0-9]{2})(?P<file>[A-Z0-9]{3})(?P<verb>HELP|UPDT|APND|CNCL)")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def hash_key(secret: str) -> str:
    """The hex SHA-256 of a logon key, as the directory stores it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Line:
    code: str
    name: str
    control_ori: str
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Agency:
    ori: str
    line: str
    name: str
    type: str
    access: frozenset[str]
    key_sha256: str
    accepts: frozenset[str] | None = None  # message keys it takes; None: every key

    def accepts_key(self, mke: str) -> bool:
        return self.accepts is None or mke in self.accepts


@dataclass(frozen=True, slots=True)
class HelpAddress:
    """An ``ssfffVERB`` address: the HELP file ``fff`` of line ``ss``."""

    line: str
    file: str
    verb: str

    @property
    def file_ori(self) -> str:
        return f"{self.line}{self.file}HELP"


@dataclass(frozen=True)
class Directory:
    lines: dict[str, Line]
    agencies: dict[str, Agency]
    regions: dict[str, tuple[str, ...]] = field(init=False)

    def __post_init__(self) -> None:
        members: dict[str, list[str]] = {region: [] for region in REGIONS}
        for line in self.lines.values():
            if line.region:
                members[line.region].append(line.code)
        object.__setattr__(self, "regions", {k: tuple(sorted(v)) for k, v in members.items()})

    def key_matches(self, ori: str, secret: str) -> bool:
        agency = self.agencies.get(ori)
        return agency is not None and hmac.compare_digest(agency.key_sha256, hash_key(secret))

    def line_of(self, ori: str) -> Line:
        return self.lines[self.agencies[ori].line]

    def is_control_terminal(self, ori: str) -> bool:
        agency = self.agencies.get(ori)
        return agency is not None and self.lines[agency.line].control_ori == ori

    def may_send_as(self, logon_ori: str, sender_ori: str) -> bool:
        """Its own ORI, or, for a line's control terminal, any ORI of its line."""
        if logon_ori == sender_ori:
            return True
        sender = self.agencies.get(sender_ori)
        return (
            sender is not None
            and self.is_control_terminal(logon_ori)
            and self.agencies[logon_ori].line == sender.line
        )

    def help_address(self, destination: str) -> HelpAddress | None:
        match = _HELP_ORI.fullmatch(destination)
        if match is None or match["line"] not in self.lines or destination in self.agencies:
            return None
        return HelpAddress(match["line"], match["file"], match["verb"])


class DirectoryError(ValueError):
    """A directory file with problems; ``problems`` are ``line N: text`` strings."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.problems = problems


def load_directory(path: Path) -> Directory:
    text = path.read_text("utf-8")
    directory, problems = parse_directory(text)
    if problems or directory is None:
        raise DirectoryError(str(path), problems)
    return directory


def check_directory(path: Path) -> list[str]:
    """Every problem in the file, each as ``line N: text``; empty when the file is good."""
    return parse_directory(path.read_text("utf-8"))[1]


class _Locator:
    """Line numbers of the n-th ``[[table]]`` and of a key inside it."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: dict[str, list[int]] = {}
        for number, line in enumerate(self.lines, start=1):
            match = re.fullmatch(r"\s*\[\[\s*(\w+)\s*\]\]\s*(#.*)?", line)
            if match:
                self.headers.setdefault(match.group(1), []).append(number)

    def table(self, name: str, index: int) -> int:
        found = self.headers.get(name, [])
        return found[index] if index < len(found) else 0

    def key(self, name: str, index: int, key: str) -> int:
        start = self.table(name, index)
        for number in range(start + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if line.lstrip().startswith("["):
                break
            if re.match(rf"\s*{re.escape(key)}\s*=", line):
                return number
        return start


def parse_directory(text: str) -> tuple[Directory | None, list[str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, [f"line {getattr(error, 'lineno', 0)}: {error}"]
    where = _Locator(text)
    problems: list[tuple[int, str]] = []
    lines = _parse_lines(data.get("line", []), where, problems)
    agencies = _parse_agencies(data.get("ori", []), lines, where, problems)
    for index, line in enumerate(data.get("line", [])):
        control = line.get("control_ori")
        agency = agencies.get(control) if isinstance(control, str) else None
        if isinstance(control, str) and (agency is None or agency.line != line.get("code")):
            number = where.key("line", index, "control_ori")
            problems.append((number, f"control_ori {control} is not an [[ori]] of this line"))
    problems.sort()
    listed = [f"line {number}: {text}" for number, text in problems]
    return (None if listed else Directory(lines, agencies)), listed


def _string(
    table: dict[str, Any],
    key: str,
    pattern: re.Pattern[str] | None,
    at: int,
    out: list[tuple[int, str]],
) -> str | None:
    value = table.get(key)
    if not isinstance(value, str):
        out.append((at, f"missing or non-text field {key}"))
        return None
    if pattern is not None and not pattern.fullmatch(value):
        out.append((at, f"invalid {key} {value!r}"))
        return None
    return value


def _parse_lines(
    tables: list[dict[str, Any]], where: _Locator, problems: list[tuple[int, str]]
) -> dict[str, Line]:
    lines: dict[str, Line] = {}
    for index, table in enumerate(tables):
        at = where.table("line", index)
        code = _string(table, "code", LINE_CODE_PATTERN, where.key("line", index, "code"), problems)
        name = _string(table, "name", None, where.key("line", index, "name"), problems)
        control = _string(
            table, "control_ori", ORI_PATTERN, where.key("line", index, "control_ori"), problems
        )
        region = table.get("region")
        if region is not None and region not in REGIONS:
            problems.append((where.key("line", index, "region"), f"invalid region {region!r}"))
            region = None
        if code in lines:
            problems.append((at, f"line {code} appears twice"))
        elif code and name is not None and control:
            lines[code] = Line(code, name, control, region)
    return lines


def _parse_agencies(
    tables: list[dict[str, Any]],
    lines: dict[str, Line],
    where: _Locator,
    problems: list[tuple[int, str]],
) -> dict[str, Agency]:
    agencies: dict[str, Agency] = {}
    for index, table in enumerate(tables):
        at = where.table("ori", index)

        def key_at(key: str, index: int = index) -> int:
            return where.key("ori", index, key)

        ori = _string(table, "ori", ORI_PATTERN, key_at("ori"), problems)
        line = _string(table, "line", LINE_CODE_PATTERN, key_at("line"), problems)
        name = _string(table, "name", None, key_at("name"), problems)
        kind = _string(table, "type", None, key_at("type"), problems)
        access = _string(table, "access", None, key_at("access"), problems)
        key = _string(table, "key_sha256", _SHA256, key_at("key_sha256"), problems)
        if line is not None and line not in lines:
            problems.append((key_at("line"), f"unknown line {line}"))
            line = None
        if kind is not None and kind not in AGENCY_TYPES:
            problems.append((key_at("type"), f"invalid type {kind!r}"))
            kind = None
        if access is not None and not set(access) <= ACCESS_CATEGORIES:
            problems.append((key_at("access"), f"invalid access {access!r}: letters A C D Z"))
            access = None
        accepts = table.get("accepts")
        if accepts is not None and not (
            isinstance(accepts, list) and all(isinstance(k, str) and k in KEYS for k in accepts)
        ):
            problems.append((key_at("accepts"), f"invalid accepts {accepts!r}: a list of keys"))
            accepts = None
        if ori in agencies:
            problems.append((at, f"ORI {ori} appears twice"))
        elif ori and line and name is not None and kind and access is not None and key:
            agencies[ori] = Agency(
                ori,
                line,
                name,
                kind,
                frozenset(access),
                key,
                frozenset(accepts) if accepts is not None else None,
            )
    return agencies
