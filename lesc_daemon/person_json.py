"""The import format of persons (one JSON object per line, ``lesc-daemon import``) to
``Person`` and back, with a clear error per field."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from formats.envelope import ORI_PATTERN
from formats.iaq import ARN_PATTERN, FBI_PATTERN, NAME_PATTERN, SOC_PATTERN
from lesc_daemon.names import unaccented
from lesc_daemon.persons import NCIC_TYPES, NcicRecord, Person, Status, StatusCode

_NIC = re.compile(r"[A-Z]\d{9}")


class PersonJsonError(ValueError):
    """A line of the import file that is not a valid person."""


def _date(value: Any, field: str) -> date:
    if not isinstance(value, str):
        raise PersonJsonError(f"{field}: expected a date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PersonJsonError(f"{field}: not a date: {value!r}") from None


def _optional(data: dict[str, Any], field: str, pattern: re.Pattern[str]) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise PersonJsonError(f"{field}: invalid value {value!r}")
    return value


def _status(value: Any) -> Status | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PersonJsonError("status: expected an object")
    try:
        code = StatusCode(value.get("code"))
    except ValueError:
        raise PersonJsonError(f"status.code: unknown status {value.get('code')!r}") from None
    since = _date(value["since"], "status.since") if value.get("since") else None
    until = _date(value["until"], "status.until") if value.get("until") else None
    return Status(code, value.get("class"), since, until)


def _ncic(value: Any) -> tuple[NcicRecord, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PersonJsonError("ncic: expected a list")
    records = []
    for index, item in enumerate(value):
        where = f"ncic[{index}]"
        if not isinstance(item, dict):
            raise PersonJsonError(f"{where}: expected an object")
        nic, kind, ori = item.get("nic"), item.get("type"), item.get("ori")
        if not isinstance(nic, str) or not _NIC.fullmatch(nic):
            raise PersonJsonError(f"{where}.nic: invalid NIC {nic!r}")
        if kind not in NCIC_TYPES:
            raise PersonJsonError(f"{where}.type: unknown type {kind!r}")
        if not isinstance(ori, str) or not ORI_PATTERN.fullmatch(ori):
            raise PersonJsonError(f"{where}.ori: invalid ORI {ori!r}")
        entered = _date(item["entered"], f"{where}.entered") if item.get("entered") else None
        records.append(
            NcicRecord(nic, kind, ori, item.get("oca"), bool(item.get("active", True)), entered)
        )
    return tuple(records)


def parse_person(line: str) -> Person:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise PersonJsonError(f"not JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(data, dict):
        raise PersonJsonError("expected a JSON object")
    person_id = data.get("id")
    if not isinstance(person_id, str) or not person_id:
        raise PersonJsonError("id: missing")
    names = data.get("names")
    if not isinstance(names, list) or not names:
        raise PersonJsonError("names: expected a non-empty list")
    for name in names:
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(unaccented(name)):
            raise PersonJsonError(f"names: {name!r} is not LAST, FIRST MIDDLE")
    sex = data.get("sex")
    if sex not in (None, "M", "F", "U"):
        raise PersonJsonError(f"sex: {sex!r} is not M, F or U")
    return Person(
        id=person_id,
        names=tuple(name.upper() for name in names),
        dob=_date(data.get("dob"), "dob"),
        sex=sex,
        pob=data.get("pob"),
        citizenship=data.get("citizenship"),
        arn=_optional(data, "arn", ARN_PATTERN),
        fbi=_optional(data, "fbi", FBI_PATTERN),
        sid=data.get("sid"),
        soc=_optional(data, "soc", SOC_PATTERN),
        firearms_exception=bool(data.get("firearms_exception", False)),
        status=_status(data.get("status")),
        ncic=_ncic(data.get("ncic")),
    )


def person_to_json(person: Person) -> str:
    """The inverse of ``parse_person``: one line of the import format."""
    status = person.status
    return json.dumps(
        {
            "id": person.id,
            "names": list(person.names),
            "dob": person.dob.isoformat(),
            "sex": person.sex,
            "pob": person.pob,
            "citizenship": person.citizenship,
            "arn": person.arn,
            "fbi": person.fbi,
            "sid": person.sid,
            "soc": person.soc,
            "firearms_exception": person.firearms_exception,
            "status": None
            if status is None
            else {
                "code": status.code.value,
                "class": status.klass,
                "since": status.since.isoformat() if status.since else None,
                "until": status.until.isoformat() if status.until else None,
            },
            "ncic": [
                {
                    "nic": r.nic,
                    "type": r.type,
                    "ori": r.ori,
                    "oca": r.oca,
                    "active": r.active,
                    "entered": r.entered.isoformat() if r.entered else None,
                }
                for r in person.ncic
            ],
        }
    )
