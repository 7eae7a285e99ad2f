"""The switch's directory (ORION, PROTOCOL §2.6): lines, ORIs, regions, logon keys.

Loaded from TOML (``fixtures/directory.toml`` is the default). ``check_directory`` reports every
problem with its line number in the file; ``load_directory`` refuses a file with problems.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formats.envelope import LINE_CODE_PATTERN, ORI_PATTERN
from formats.keys import KEYS
from nlets_sim.switch.key_hash import SHA256_FORM, is_stored_key, verify_key

AGENCY_TYPES = frozenset({"PD", "SO", "SA", "LE", "FE", "JA", "JC", "JG", "JJ", "JF", "CJ", "NJ"})
ACCESS_CATEGORIES = frozenset("ACDZ")
REGIONS = tuple(f"{letter}1" for letter in "ABCDEFGH")
_HELP_ORI = re.compile(r"(?P<line>[A-Z0-9]{2})(?P<file>[A-Z0-9]{3})(?P<verb>HELP|UPDT|APND|CNCL)")
# The demo logon keys of the shipped directory (``fixtures/directory.toml``, written by
# ``fixtures/make_directory.py``): published, for tests, demos and load runs only.
SPECIAL_KEYS = {"NY0303000": "S3CRET"}


def demo_key(ori: str) -> str:
    """The demo logon key of ``ori`` in the shipped directory: ``S3CRET`` for NY0303000 (the
    examples' Albany PD), else ``K-`` and the ORI."""
    return SPECIAL_KEYS.get(ori, f"K-{ori}")


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
    key_hash: str  # salted scrypt (``key_hash``) or older SHA-256 (``key_sha256``), key_hash.py
    accepts: frozenset[str] | None = None  # message keys it takes; None: every key
    originates: frozenset[str] = frozenset()  # restricted keys it may send (``restricted_keys``)
    certificate_cn: str | None = None  # a client certificate CN that may log on as it, too

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
    restricted_keys: frozenset[str] = frozenset()  # keys only ORIs that list them may originate
    regions: dict[str, tuple[str, ...]] = field(init=False)

    def __post_init__(self) -> None:
        members: dict[str, list[str]] = {region: [] for region in REGIONS}
        for line in self.lines.values():
            if line.region:
                members[line.region].append(line.code)
        object.__setattr__(self, "regions", {k: tuple(sorted(v)) for k, v in members.items()})

    def key_matches(self, ori: str, secret: str) -> bool:
        agency = self.agencies.get(ori)
        return agency is not None and verify_key(agency.key_hash, secret)

    def may_originate(self, ori: str, mke: str) -> bool:
        """A key in ``restricted_keys`` only from the ORIs whose entry lists it in
        ``originates`` (IAR: the LESC's ORIs)."""
        if mke not in self.restricted_keys:
            return True
        agency = self.agencies.get(ori)
        return agency is not None and mke in agency.originates

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
    directory, problems = parse_directory(_read(path))
    if problems or directory is None:
        raise DirectoryError(str(path), problems)
    return directory


def check_directory(path: Path) -> list[str]:
    """Every problem in the file, each as ``line N: text``; empty when the file is good."""
    try:
        return parse_directory(_read(path))[1]
    except DirectoryError as error:
        return error.problems


def _read(path: Path) -> str:
    """The file's text; ``DirectoryError`` naming the line of the first byte that is not
    UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DirectoryError(
            str(path), [f"line {line}: not UTF-8 text: not a directory file"]
        ) from None


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


_TOP_LEVEL = frozenset({"line", "ori", "restricted_keys"})
_TOP_LEVEL_TEXT = "[[line]] tables, [[ori]] tables and restricted_keys"


def _toml_problem(text: str, error: tomllib.TOMLDecodeError) -> str:
    """The parser's words as a problem of its line (Python 3.11's error carries its line and
    column only in its text: "... (at line 1, column 3)"; "(at end of document)": the last)."""
    words = str(error)
    found = re.search(r" \(at line (\d+), column (\d+)\)$", words)
    if found is None:
        return f"line {text.count(chr(10)) + 1}: not valid TOML: {words}"
    return f"line {found[1]}: not valid TOML: {words[: found.start()]} (column {found[2]})"


def parse_directory(text: str) -> tuple[Directory | None, list[str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, [_toml_problem(text, error)]
    where = _Locator(text)
    problems = [
        (_top_level_line(text, key), f"unknown key {key}: a directory has {_TOP_LEVEL_TEXT}")
        for key in sorted(set(data) - _TOP_LEVEL)
    ]
    tables = {name: data.get(name, []) for name in ("line", "ori")}
    for name, value in tables.items():
        if not isinstance(value, list) or not all(isinstance(table, dict) for table in value):
            problems.append((_top_level_line(text, name), f"{name} must be [[{name}]] tables"))
            tables[name] = []
    problems += [
        (1, f"no [[{name}]] tables: a directory has {_TOP_LEVEL_TEXT}")
        for name, value in tables.items()
        if not value
    ]
    lines = _parse_lines(tables["line"], where, problems)
    agencies = _parse_agencies(tables["ori"], lines, where, problems)
    for index, line in enumerate(tables["line"]):
        control = line.get("control_ori")
        agency = agencies.get(control) if isinstance(control, str) else None
        if isinstance(control, str) and (agency is None or agency.line != line.get("code")):
            number = where.key("line", index, "control_ori")
            problems.append((number, f"control_ori {control} is not an [[ori]] of this line"))
    restricted = data.get("restricted_keys", [])
    if not _key_list(restricted):
        problems.append(
            (
                _top_level_line(text, "restricted_keys"),
                f"invalid restricted_keys {restricted!r}: a list of keys",
            )
        )
        restricted = []
    problems.sort()
    listed = [f"line {number}: {text}" for number, text in problems]
    directory = Directory(lines, agencies, frozenset(restricted))
    return (None if listed else directory), listed


def _key_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(k, str) and k in KEYS for k in value)


def _top_level_line(text: str, key: str) -> int:
    """The line where ``key`` is set, or its ``[key]`` / ``[[key]]`` table begins (else 1)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*({re.escape(key)}\s*=|\[\[?\s*{re.escape(key)}\s*[].])", line):
            return number
    return 1


def legacy_key_warnings(path: Path) -> list[str]:
    """``line N: ...`` for each ORI whose key is stored in the older, unsalted form."""
    text = _read(path)
    try:
        tables = tomllib.loads(text).get("ori", [])
    except tomllib.TOMLDecodeError:
        return []
    where = _Locator(text)
    return [
        f"line {where.key('ori', index, 'key_sha256')}: ORI {table.get('ori')} has an unsalted "
        "SHA-256 key (key_sha256); make a salted one with `nlets-sim directory hash-key` and "
        "store it as key_hash"
        for index, table in enumerate(tables)
        if isinstance(table.get("key_sha256"), str)
    ]


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
        key = _stored_key(table, key_at, problems)
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
        if accepts is not None and not _key_list(accepts):
            problems.append((key_at("accepts"), f"invalid accepts {accepts!r}: a list of keys"))
            accepts = None
        originates = table.get("originates", [])
        if not _key_list(originates):
            problems.append(
                (key_at("originates"), f"invalid originates {originates!r}: a list of keys")
            )
            originates = []
        certificate_cn = table.get("certificate_cn")
        if certificate_cn is not None and not (isinstance(certificate_cn, str) and certificate_cn):
            problems.append((key_at("certificate_cn"), "certificate_cn must be a non-empty text"))
            certificate_cn = None
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
                frozenset(originates),
                certificate_cn,
            )
    return agencies


def _stored_key(table: dict[str, Any], key_at: Any, problems: list[tuple[int, str]]) -> str | None:
    """``key_hash`` (salted scrypt) or the older ``key_sha256``: exactly one of them."""
    if "key_hash" in table and "key_sha256" in table:
        problems.append((key_at("key_sha256"), "give key_hash or key_sha256, not both"))
        return None
    if "key_sha256" in table:
        return _string(table, "key_sha256", SHA256_FORM, key_at("key_sha256"), problems)
    value = _string(table, "key_hash", None, key_at("key_hash"), problems)
    if value is not None and not is_stored_key(value):
        problems.append((key_at("key_hash"), f"invalid key_hash {value!r}"))
        return None
    return value
