"""What a load run sends: a profile of weighted message templates with placeholders.

Built in: ``am-pairs`` (each terminal sends AMs to its pair: 1 to 2, 3 to 4 ...) and ``iaq``
(IAQs about the identities, criminal justice and, one in eleven, Brady firearms checks, the
share of FY 2013). A profile file (TOML) lists templates:

    [[template]]
    weight = 3          # relative share (default 1)
    replies = 2         # replies that complete the request (default: 2 for IAQ, else 1)
    text = '''
    IAQ.{sender}.AX.*{control}.TXT
    PUR/C.ATN/LOAD.PHN/5185551212.NAM/{nam}.DOB/{dob}.SEX/{sex}.POB/{pob}.CUS/N.OFF/0399{arn}
    '''

Placeholders: ``{sender}`` (the terminal's ORI), ``{peer}`` (its pair), ``{dest}`` (another
terminal, drawn), ``{control}`` (the request's control field), ``{n}`` (the request's number),
``{date}`` ``{time}`` ``{today}`` (MM/DD/CCYY, HH:MM, CCYYMMDD of the run's clock) and the
identity fields ``{nam}`` ``{dob}`` ``{sex}`` ``{pob}`` ``{arn}`` (``.ARN/...`` or nothing).
A transcript can be a profile too (``scenario``): its ``send`` steps, in order and in a loop,
with the sender's ORI and control fields rewritten; each expects as many replies as the
transcript's next ``expect`` for that ORI lists.
"""

from __future__ import annotations

import itertools
import random
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from nlets_sim.tools.load.identities import Identity
from nlets_sim.tools.transcript import Expect, Send, TranscriptError, decode_transcript

_PLACEHOLDER = re.compile(r"\{([a-z]+)\}")
_CONTROL = re.compile(r"(\.\*[A-Za-z0-9]{1,10})?(\.TXT)")
IDENTITY_FIELDS = frozenset({"nam", "dob", "sex", "pob", "arn"})
PLACEHOLDERS = frozenset({"sender", "peer", "dest", "control", "n", "date", "time", "today"})
BRADY_SHARE = 126_122 / 1_400_000  # FY 2013: Brady checks among 1.4 million requests


class ProfileError(ValueError):
    """A profile that cannot be used; the text says why."""


@dataclass(frozen=True, slots=True)
class Template:
    text: str  # with placeholders; CR LF line ends
    weight: float = 1.0
    replies: int = 1
    # made once from ``text``: its placeholders, its key, and ``text`` as a format string
    # (the braces around no placeholder doubled), filled by one ``format_map`` per request
    names: frozenset[str] = field(init=False)
    mke: str = field(init=False)
    form: str = field(init=False)

    def __post_init__(self) -> None:
        pieces = _PLACEHOLDER.split(self.text)  # text, name, text, name ... text
        form = "".join(
            f"{{{piece}}}" if index % 2 else piece.replace("{", "{{").replace("}", "}}")
            for index, piece in enumerate(pieces)
        )
        object.__setattr__(self, "names", frozenset(pieces[1::2]))
        object.__setattr__(self, "mke", self.text.split(".", 1)[0])
        object.__setattr__(self, "form", form)


@dataclass(frozen=True, slots=True)
class Request:
    message: bytes
    expected: int  # replies that complete it
    expect_res: str | None = None
    sender: int | None = None  # the terminal that sends it, when the profile chose another


@dataclass(frozen=True, slots=True)
class Draw:
    """What a profile is given to make the next request."""

    rng: random.Random
    oris: Sequence[str]  # the terminals' ORIs
    sender: int  # the terminal whose turn it is (an index into ``oris``)
    control: str  # the request's control field
    number: int  # the request's number in the run, from 0
    now: datetime  # the run's clock when the request is due


class Sampler(Protocol):
    """What the runner asks a profile: a name, and the next request."""

    @property
    def name(self) -> str: ...

    def request(self, draw: Draw) -> Request: ...


def template(text: str, weight: float = 1.0, replies: int | None = None) -> Template:
    """A template from text as written (LF or CR LF line ends, surrounding blank lines
    dropped), checked for unknown placeholders."""
    body = text.replace("\r\n", "\n").strip("\n").replace("\n", "\r\n")
    unknown = sorted(set(_PLACEHOLDER.findall(body)) - PLACEHOLDERS - IDENTITY_FIELDS)
    if unknown:
        raise ProfileError(f"unknown placeholder {{{unknown[0]}}} in template {body[:40]!r}")
    if "{control}" not in body:
        raise ProfileError(f"a template needs {{control}} in its header: {body[:40]!r}")
    if weight <= 0:
        raise ProfileError(f"a template's weight must be above zero, not {weight}")
    mke = body.split(".", 1)[0]
    count = replies if replies is not None else (2 if mke == "IAQ" else 1)
    if count < 1:
        raise ProfileError(f"a template expects at least one reply, not {count}")
    return Template(body, weight, count)


@dataclass(slots=True)
class Profile:
    name: str
    templates: tuple[Template, ...]
    identities: Sequence[Identity] = ()
    sequential: bool = False  # a scenario: templates in order, per terminal, in a loop
    _position: dict[int, int] = field(default_factory=dict)
    _cumulative: list[float] = field(default_factory=list)  # the weights, summed in order

    def __post_init__(self) -> None:
        if not self.templates:
            raise ProfileError(f"profile {self.name} has no templates")
        needs = any(t.names & IDENTITY_FIELDS for t in self.templates)
        if needs and not self.identities:
            raise ProfileError(f"profile {self.name} uses identity fields but has no identities")
        self._cumulative = list(itertools.accumulate(t.weight for t in self.templates))

    def pick(self, rng: random.Random, sender: int) -> Template:
        if self.sequential:
            position = self._position.get(sender, 0)
            self._position[sender] = position + 1
            return self.templates[position % len(self.templates)]
        if len(self.templates) == 1:
            return self.templates[0]
        return rng.choices(self.templates, cum_weights=self._cumulative)[0]

    def request(self, draw: Draw) -> Request:
        """The next request of terminal ``draw.sender``."""
        rng, oris, sender, now = draw.rng, draw.oris, draw.sender, draw.now
        chosen = self.pick(rng, sender)
        names = chosen.names
        values = {"sender": oris[sender], "control": draw.control, "n": str(draw.number)}
        if "peer" in names:
            values["peer"] = oris[peer_of(sender, len(oris))]
        if "dest" in names:
            other = rng.randrange(len(oris) - 1) if len(oris) > 1 else 0
            values["dest"] = oris[other + (other >= sender and len(oris) > 1)]
        if names & {"date", "time", "today"}:
            values.update(
                date=now.strftime("%m/%d/%Y"),
                time=now.strftime("%H:%M"),
                today=now.strftime("%Y%m%d"),
            )
        identity = None
        if names & IDENTITY_FIELDS:
            identity = rng.choice(self.identities)
            values.update(identity.fields())
        text = chosen.form.format_map(values)
        expect_res = identity.res if identity is not None and chosen.mke == "IAQ" else None
        return Request(text.encode("ascii"), chosen.replies, expect_res)


def peer_of(index: int, count: int) -> int:
    """Terminals pair up 0-1, 2-3 ...; an odd last one pairs with the first."""
    if count == 1:
        return 0
    partner = index ^ 1
    return partner if partner < count else 0


_IAQ = (
    "IAQ.{sender}.AX.*{control}.TXT\r\n"
    "PUR/%s.ATN/LOAD TEST.PHN/5185551212.NAM/{nam}.DOB/{dob}.SEX/{sex}.POB/{pob}.CUS/N."
    "OFF/0399{arn}"
)


def builtin(name: str, identities: Sequence[Identity]) -> Profile:
    if name == "am-pairs":
        text = "AM.{sender}.{peer}.*{control}.TXT\r\nLOAD TEST {n} FROM {sender} AT {time} {date}"
        return Profile(name, (template(text),))
    if name == "iaq":
        return Profile(
            name,
            (
                template(_IAQ % "C", 1 - BRADY_SHARE),
                template(_IAQ % "F", BRADY_SHARE),
            ),
            identities,
        )
    raise ProfileError(f"unknown profile {name!r}: am-pairs, iaq, lesc-year or a .toml file")


def read_profile(path: Path, identities: Sequence[Identity]) -> Profile:
    """A TOML profile file (``[[template]]`` tables)."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{path}: {error}") from None
    tables = data.get("template")
    if not isinstance(tables, list) or not tables:
        raise ProfileError(f"{path}: no [[template]] tables")
    templates = []
    for index, table in enumerate(tables, start=1):
        unknown = sorted(set(table) - {"text", "weight", "replies"})
        if unknown or not isinstance(table.get("text"), str):
            problem = f"unknown key {unknown[0]}" if unknown else "needs text"
            raise ProfileError(f"{path}: template {index} {problem}")
        weight, replies = table.get("weight", 1.0), table.get("replies")
        if not isinstance(weight, int | float) or not isinstance(replies, int | None):
            raise ProfileError(f"{path}: template {index}: weight and replies are numbers")
        try:
            templates.append(template(table["text"], float(weight), replies))
        except ProfileError as error:
            raise ProfileError(f"{path}: template {index}: {error}") from None
    return Profile(path.stem, tuple(templates), identities)


def read_scenario(path: Path) -> Profile:
    """A transcript as a scenario: the first sender's ``send`` steps, in order."""
    try:
        transcript = decode_transcript(path.read_bytes(), str(path))
    except TranscriptError as error:
        raise ProfileError(str(error)) from None
    sends = [step for step in transcript.steps if isinstance(step, Send)]
    if not sends:
        raise ProfileError(f"{path}: the transcript sends nothing")
    ori = sends[0].ori
    templates = []
    steps = transcript.steps
    for index, step in enumerate(steps):
        if not isinstance(step, Send) or step.ori != ori:
            continue
        following = next(
            (s for s in steps[index + 1 :] if isinstance(s, Expect | Send) and s.ori == ori),
            None,
        )
        replies = len(following.messages) if isinstance(following, Expect) else 1
        text = _CONTROL.sub(r".*{control}\2", step.message.replace(ori, "{sender}"), count=1)
        templates.append(template(text, 1.0, max(1, replies)))
    return Profile(path.stem, tuple(templates), sequential=True)
