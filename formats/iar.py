"""The Immigration Alien Response body (PROTOCOL §3.2).

The first line is tagged: ``QRN/<number>.TYP/<ACK|RSP|REJ>.`` and, for a response,
``RES/<result>.`` and, for a firearms query, ``FAP/<code>.``; the narrative lines follow.
"""

from __future__ import annotations

import enum
import re

from formats.envelope import CRLF
from formats.errors import LocalProtocolError
from formats.tagged import TaggedFieldsError, as_mapping, build_fields, parse_fields
from formats.value_types import value_type

QRN_PATTERN = re.compile(r"L\d{12}")


class IarType(enum.Enum):
    ACK = "ACK"  # the query was received; a response follows
    RSP = "RSP"  # the response
    REJ = "REJ"  # the LESC cannot answer the query as sent


class Result(enum.Enum):
    NR = "NR"  # no record in any index searched
    US = "US"  # U.S. citizen
    LS = "LS"  # lawful status
    RM = "RM"  # no lawful status, or removable
    WT = "WT"  # an ICE record in NCIC
    PI = "PI"  # possible identity


class Firearms(enum.Enum):
    P1 = "P1"  # prohibited: illegally or unlawfully in the U.S.
    P2 = "P2"  # prohibited: nonimmigrant visa holder, no exception
    NP = "NP"  # not prohibited by immigration status
    UD = "UD"  # undetermined


class IarFormatError(ValueError):
    """Text that is not an IAR body."""


@value_type
class Iar:
    qrn: str
    typ: IarType
    lines: tuple[str, ...] = ()
    res: Result | None = None
    fap: Firearms | None = None

    def build(self) -> str:
        if not QRN_PATTERN.fullmatch(self.qrn):
            raise LocalProtocolError(f"bad query number {self.qrn!r}")
        if (self.res is not None) != (self.typ is IarType.RSP):
            raise LocalProtocolError("RES goes with TYP/RSP and only there")
        if self.fap is not None and self.res is None:
            raise LocalProtocolError("FAP goes with RES")
        tagged: list[tuple[str, str]] = [("QRN", self.qrn), ("TYP", self.typ.value)]
        if self.res is not None:
            tagged.append(("RES", self.res.value))
        if self.fap is not None:
            tagged.append(("FAP", self.fap.value))
        return CRLF.join((build_fields(tagged, final_period=True), *self.lines))


def parse_iar(text: str) -> Iar:
    first, _, rest = text.partition(CRLF)
    try:
        values = as_mapping(parse_fields(first, free_text=()))
    except TaggedFieldsError as error:
        raise IarFormatError(str(error)) from None
    if set(values) - {"QRN", "TYP", "RES", "FAP"}:
        raise IarFormatError(f"unexpected fields in {first!r}")
    try:
        iar = Iar(
            qrn=values["QRN"],
            typ=IarType(values["TYP"]),
            lines=tuple(rest.split(CRLF)) if rest else (),
            res=Result(values["RES"]) if "RES" in values else None,
            fap=Firearms(values["FAP"]) if "FAP" in values else None,
        )
        iar.build()
    except (KeyError, ValueError, LocalProtocolError) as error:
        raise IarFormatError(f"not an IAR first line: {first!r} ({error})") from None
    return iar
