"""The LESC's records of a person (synthetic data only), as the matching and rules see them."""

from __future__ import annotations

import enum
from datetime import date

from formats.value_types import value_type


class StatusCode(enum.Enum):
    USC = "USC"  # U.S. citizen
    LPR = "LPR"  # lawful permanent resident
    REF = "REF"  # refugee
    ASY = "ASY"  # asylee
    TPS = "TPS"  # temporary protected status
    NIV = "NIV"  # nonimmigrant visa: valid while `until` is today or later
    EWI = "EWI"  # entered without inspection
    FO = "FO"  # final order of removal
    REM = "REM"  # previously removed


STATUS_TEXT = {
    StatusCode.USC: "UNITED STATES CITIZEN",
    StatusCode.LPR: "LAWFUL PERMANENT RESIDENT",
    StatusCode.REF: "REFUGEE",
    StatusCode.ASY: "ASYLEE",
    StatusCode.TPS: "TEMPORARY PROTECTED STATUS",
    StatusCode.NIV: "NONIMMIGRANT VISA",
    StatusCode.EWI: "ENTERED WITHOUT INSPECTION",
    StatusCode.FO: "FINAL ORDER OF REMOVAL",
    StatusCode.REM: "PREVIOUSLY REMOVED",
}

KNOWN_SEXES = ("M", "F")  # U and others: unknown, agrees with any

NCIC_TYPES = {
    "ADMIN_WARRANT": "ADMINISTRATIVE WARRANT",
    "CRIM_WARRANT": "CRIMINAL WARRANT",
    "DEPORTED_FELON": "DEPORTED FELON",
    "ABSCONDER": "ABSCONDER",
    "NSEERS": "NSEERS VIOLATOR",
}


@value_type
class Status:
    code: StatusCode
    klass: str | None = None  # visa class, e.g. B2
    since: date | None = None
    until: date | None = None

    def effective(self, today: date) -> str:
        """The status the rules see: ``NIV`` splits into ``NIV_VALID`` and ``NIV_EXPIRED``."""
        if self.code is StatusCode.NIV:
            valid = self.until is None or self.until >= today
            return "NIV_VALID" if valid else "NIV_EXPIRED"
        return str(self.code.value)


@value_type
class NcicRecord:
    nic: str
    type: str
    ori: str
    oca: str | None
    active: bool
    entered: date | None


@value_type
class Person:
    id: str
    names: tuple[str, ...]  # "LAST, FIRST MIDDLE"; the first is the primary name
    dob: date
    sex: str | None = None
    pob: str | None = None
    citizenship: str | None = None
    arn: str | None = None
    fbi: str | None = None
    sid: str | None = None
    soc: str | None = None
    firearms_exception: bool = False
    status: Status | None = None
    ncic: tuple[NcicRecord, ...] = ()

    @property
    def active_ncic(self) -> tuple[NcicRecord, ...]:
        return tuple(record for record in self.ncic if record.active)


def split_name(name: str) -> tuple[str, str]:
    """``LAST, FIRST MIDDLE`` to (surname, given names), upper case."""
    surname, _, given = name.upper().partition(",")
    return surname.strip(), given.strip()
