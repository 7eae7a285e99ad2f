"""Batch screening (``nlets-sim screen``), the pure part: a CSV list of persons to IAQs, IAR
answers to rows of a results CSV, and what a results file already holds (``--resume``).

Input columns, named in the first row (case and surrounding spaces do not matter):

* the person: ``NAM`` (``LAST, FIRST MIDDLE``), or ``LAST`` and ``FIRST`` (and optionally
  ``MIDDLE``) instead; ``DOB`` as ``YYYYMMDD``, ``YYYY-MM-DD``, ``MM/DD/YYYY`` or ``MMDDYY``;
  ``SEX`` (M, F, U) and ``POB`` (an NCIC place-of-birth code);
* optional identifiers, sent as the IAQ fields of the same name: ``ARN``, ``FBI``, ``SID``,
  ``OLN``, ``SOC``, and ``REM`` remarks;
* optional per-row overrides of the command's options: ``PUR``, ``ATN``, ``PHN``, ``CUS``,
  ``OFF``;
* ``ID``: the list's own reference for the row, copied to the results (default: none);
* other usual names are taken for these (``COLUMN_ALIASES``: ``NAME``, ``LAST_NAME``,
  ``FIRST_NAME``, ``DATE_OF_BIRTH``, ``GENDER``, ``PLACE_OF_BIRTH``, ``A_NUMBER``, ...);
* any other column is ignored (and named once on standard error).

A row is bad when a required value is missing or the IAQ it makes would be refused by the
switch or the LESC (the same checks, ``formats.iaq``): it is reported with its line number and
written to the results as ``BAD ROW`` with the reason, and no IAQ is sent. Two rows asking about
the same person (the same name, DOB, sex, POB, identifiers and purpose, after upper-casing and
squeezing spaces) get one IAQ; the later row is written as ``DUPLICATE`` with the answer of the
first and ``DUPLICATE OF LINE n`` in ``detail``.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from formats.errors import MessageRejected
from formats.iaq import OPTIONAL, Iaq, content_problems, parse_iaq
from formats.iar import IarFormatError, IarType, parse_iar

PERSON_COLUMNS = ("NAM", "LAST", "FIRST", "MIDDLE", "DOB", "SEX", "POB")
OVERRIDE_COLUMNS = ("PUR", "ATN", "PHN", "CUS", "OFF")
KNOWN_COLUMNS = frozenset((*PERSON_COLUMNS, *OVERRIDE_COLUMNS, *OPTIONAL, "ID"))
RESULT_COLUMNS = (
    "line", "id", "nam", "dob", "status", "qrn", "res", "fap", "a_number", "fbi", "nic", "detail",
)  # fmt: skip
ANSWERED, REJECTED, BAD_ROW, DUPLICATE = "ANSWERED", "REJECTED", "BAD ROW", "DUPLICATE"
_SPACES = re.compile(r"\s+")
_DOB_FORMS = (
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), (1, 2, 3)),
    (re.compile(r"(\d{2})/(\d{2})/(\d{4})"), (3, 1, 2)),
)
_A_NUMBER = re.compile(r"\bA-NUMBER (\d{8,9})\b")
_FBI = re.compile(r"\bFBI (\w+)")
_NIC = re.compile(r"\bNIC/(\w+)")


class ScreenError(ValueError):
    """An input file that cannot be screened at all (one sentence for the user)."""


@dataclass(frozen=True, slots=True)
class Defaults:
    """The IAQ fields the rows do not give, from the command's options."""

    pur: str = "C"
    atn: str = "SCREENING"
    phn: str = "2025550100"
    cus: str = "N"
    off: str = "0399"


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    ident: str
    iaq: Iaq

    @property
    def person_key(self) -> tuple[str | None, ...]:
        """What makes two rows the same query."""
        q = self.iaq
        return (q.nam, q.dob, q.sex, q.pob, q.arn, q.fbi, q.sid, q.oln, q.soc, q.pur)


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    ident: str
    reason: str


def _clean(value: str | None) -> str:
    return _SPACES.sub(" ", (value or "").strip()).upper()


# Other names a list may give its columns (after upper case, with _ and - as spaces).
COLUMN_ALIASES = {
    "NAME": "NAM", "FULL NAME": "NAM", "LAST NAME": "LAST", "SURNAME": "LAST",
    "FAMILY NAME": "LAST", "FIRST NAME": "FIRST", "GIVEN NAME": "FIRST", "GIVEN": "FIRST",
    "MIDDLE NAME": "MIDDLE", "DATE OF BIRTH": "DOB", "BIRTH DATE": "DOB", "BIRTHDATE": "DOB",
    "GENDER": "SEX", "PLACE OF BIRTH": "POB", "BIRTHPLACE": "POB", "A NUMBER": "ARN",
    "ANUMBER": "ARN", "ALIEN NUMBER": "ARN", "FBI NUMBER": "FBI", "SSN": "SOC",
    "REFERENCE": "ID", "REF": "ID",
}  # fmt: skip


def _column(name: str) -> str:
    cleaned = _clean(name.replace("_", " ").replace("-", " "))
    return COLUMN_ALIASES.get(cleaned, cleaned)


def normal_dob(value: str) -> str:
    """A DOB in one of the accepted forms as the IAQ's ``ccyymmdd`` (``mmddyy`` kept)."""
    for pattern, (year, month, day) in _DOB_FORMS:
        found = pattern.fullmatch(value)
        if found:
            return found.group(year) + found.group(month) + found.group(day)
    return value


def read_rows(text: Iterable[str], defaults: Defaults, today: date) -> Iterator[Row | BadRow]:
    """The rows of a CSV list, in order, each a ``Row`` (a valid IAQ) or a ``BadRow``; the
    header's unknown columns are first returned as a ``BadRow`` of line 1 when there are any."""
    reader = csv.DictReader(text)
    header = [_column(name) for name in reader.fieldnames or ()]
    if not header:
        raise ScreenError("the list is empty: the first line must name the columns")
    missing = [c for c in ("DOB", "SEX", "POB") if c not in header]
    if "NAM" not in header and not {"LAST", "FIRST"} <= set(header):
        missing.insert(0, "NAM (or LAST and FIRST)")
    if missing:
        raise ScreenError(f"the list has no column {', '.join(missing)} (line 1 names the columns)")
    unknown = [name for name in header if name not in KNOWN_COLUMNS]
    if unknown:
        yield BadRow(1, "", f"columns ignored: {', '.join(unknown)}")
    reader.fieldnames = header
    for values in reader:
        line = reader.line_num
        if None in values:  # more fields than the header names
            yield BadRow(line, _clean(values.get("ID")), "more fields than the header names")
            continue
        yield _row(line, {k: _clean(v) for k, v in values.items()}, defaults, today)


def _row(line: int, values: dict[str, str], defaults: Defaults, today: date) -> Row | BadRow:
    ident = values.get("ID", "")
    if not any(values.values()):
        return BadRow(line, ident, "empty row")
    nam = values.get("NAM") or ""
    if not nam and values.get("LAST"):
        given = " ".join(filter(None, (values.get("FIRST"), values.get("MIDDLE"))))
        nam = f"{values['LAST']}, {given}"
    fields = {
        "PUR": values.get("PUR") or defaults.pur,
        "ATN": values.get("ATN") or defaults.atn,
        "PHN": values.get("PHN") or defaults.phn,
        "NAM": nam,
        "DOB": normal_dob(values.get("DOB", "")),
        "SEX": values.get("SEX", ""),
        "POB": values.get("POB", ""),
        "CUS": values.get("CUS") or defaults.cus,
        "OFF": values.get("OFF") or defaults.off,
        **{tag: values[tag] for tag in OPTIONAL if values.get(tag)},
    }
    empty = [tag for tag, value in fields.items() if not value]
    if empty:
        return BadRow(line, ident, f"no value for {', '.join(empty)}")
    body = ".".join(f"{tag}/{value}" for tag, value in fields.items())
    try:
        iaq = parse_iaq(body, today)
    except MessageRejected as rejected:
        return BadRow(line, ident, " ".join((rejected.code.line("IAQ"), *rejected.details)))
    problems = content_problems(iaq)
    if problems:
        return BadRow(line, ident, "; ".join(problems))
    return Row(line, ident, iaq)


@dataclass(slots=True)
class Answer:
    """What came back for a row: the values of its result columns but ``line``/``id``."""

    status: str
    qrn: str = ""
    res: str = ""
    fap: str = ""
    a_number: str = ""
    fbi: str = ""
    nic: str = ""
    detail: str = ""


def answer_from_iar(text: str) -> Answer | None:
    """The answer an IAR carries, or None for an acknowledgement (or text that is no IAR)."""
    try:
        iar = parse_iar(text)
    except IarFormatError:
        return None
    if iar.typ is IarType.ACK:
        return None
    if iar.typ is IarType.REJ:
        return Answer(REJECTED, iar.qrn, detail=" ".join(iar.lines[1:]))
    narrative = "\n".join(iar.lines)
    records = [line for line in iar.lines if line.startswith(("RECORD:", "NCIC:"))]
    found = "\n".join(records)
    summary = next(
        (line for line in iar.lines if line.startswith(("STATUS:", "POSSIBLE IDENTITY:"))), ""
    )
    if not summary and "NO RECORD FOUND" in narrative:
        summary = "NO RECORD FOUND"
    return Answer(
        ANSWERED,
        iar.qrn,
        iar.res.value if iar.res else "",
        iar.fap.value if iar.fap else "",
        " ".join(_A_NUMBER.findall(found)),
        " ".join(_FBI.findall(found)),
        " ".join(_NIC.findall(found)),
        summary,
    )


def result_line(line: int, ident: str, row: Row | None, answer: Answer) -> str:
    """One row of the results CSV, with its line end."""
    out = io.StringIO()
    nam, dob = (row.iaq.nam, row.iaq.dob) if row else ("", "")
    values = (
        line, ident, nam, dob, answer.status, answer.qrn, answer.res, answer.fap,
        answer.a_number, answer.fbi, answer.nic, answer.detail,
    )  # fmt: skip
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def header_line() -> str:
    return ",".join(RESULT_COLUMNS) + "\n"


def answered_lines(text: str) -> dict[int, Answer]:
    """The rows a results file already holds, by input line (a last line cut short by an
    interruption is not one of them)."""
    done: dict[int, Answer] = {}
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(text))
    for values in reader:
        if len(values) != len(RESULT_COLUMNS) or not values[0].isdigit():
            continue  # the header, or a line that is not a result row
        line, _ident, _nam, _dob, *rest = values
        done[int(line)] = Answer(*rest)
    return done


@dataclass(slots=True)
class Summary:
    rows: int = 0
    results: Counter[str] = field(default_factory=Counter)  # RES of answered rows
    statuses: Counter[str] = field(default_factory=Counter)
    resumed: int = 0  # rows already in the results file
    unanswered: list[int] = field(default_factory=list)  # lines still without an answer

    def add(self, answer: Answer) -> None:
        self.statuses[answer.status] += 1
        if answer.res:
            self.results[answer.res] += 1

    def text(self) -> str:
        parts = [f"{self.rows} row(s)"]
        parts += [f"{count} {status.lower()}" for status, count in sorted(self.statuses.items())]
        if self.resumed:
            parts.append(f"{self.resumed} already in the results file (--resume)")
        line = "screened " + ", ".join(parts)
        if self.results:
            line += "; RES " + " ".join(f"{res}:{n}" for res, n in sorted(self.results.items()))
        if self.unanswered:
            shown = ", ".join(map(str, self.unanswered[:10]))
            more = " ..." if len(self.unanswered) > 10 else ""
            line += (
                f"; {len(self.unanswered)} row(s) not answered yet (lines {shown}{more}):"
                " run again with --resume"
            )
        return line
