"""The registry of Nlets ER and SM codes and their exact texts (PROTOCOL §2.3, §2.4)."""

from __future__ import annotations

import enum


class ErCode(enum.Enum):
    """Errors the switch returns in ``ER`` messages: (number as printed, exact text)."""

    STRUCTURE = ("0", "MESSAGE FORMAT/STRUCTURE ERROR")
    HEADER = (".01.", "INVALID HEADER INFORMATION")
    DESTINATION_NOT_ALLOWED = (".02.", "MESSAGE TYPE NOT ALLOWED TO DESTINATION")
    NO_TXT = (".03.", "TXT NOT FOUND OR IMPROPERLY FORMED XML")
    DOB = (".05.", "DOB INVALID or MISSING")
    YEAR = (".10.", "A YEAR FIELD IS INVALID or MISSING")
    FIELDS_MISSING = (".14.", "FIELDS MISSING")
    ATN = (".16.", "ATN FIELD INVALID")
    DESTINATION_INVALID = (".19.", "INVALID DESTINATION ORIs")
    FORMAT = (".22.", "INVALID MESSAGE FORMAT - REFER TO <MKE> MKE OPTIONS BELOW")

    @property
    def number(self) -> str:
        return self.value[0]

    @property
    def text(self) -> str:
        return self.value[1]

    def line(self, mke: str = "") -> str:
        """The numbered error line as it appears in the ``ER`` text."""
        return f"{self.number} {self.text.replace('<MKE>', mke)}"


class SmCode(enum.Enum):
    """Status messages the switch returns in ``SM`` messages: (number, exact text)."""

    DOES_NOT_RESPOND = (".01.", "USER DOES NOT RESPOND TO MSG TYPE, NLETS WILL NOT FORWARD")
    WILL_FORWARD = (".02.", "USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL FORWARD")
    WILL_NOT_FORWARD = (".04.", "USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL NOT FORWARD")
    EXPIRED = (".07.", "MESSAGE EXPIRED UNDELIVERED")
    REFUSED = (".08.", "MESSAGE REFUSED BY DESTINATION, NLETS WILL NOT FORWARD")

    @property
    def number(self) -> str:
        return self.value[0]

    @property
    def text(self) -> str:
        return self.value[1]

    def line(self) -> str:
        """The numbered status line as it appears in the ``SM`` text."""
        return f"{self.number} {self.text}"
