"""``nlets-sim record``: journal traffic of one ORI as a transcript, placeholders inserted.

For each message the ORI sent (since a time), a ``send`` step, then an ``expect`` step with
what came back to it in answer: the switch's ``ER``/``SM``/HELP replies to that message, and
later messages to the ORI that carry the same control field (the LESC's IARs, YRs, AMs).
"""

from __future__ import annotations

import re

from formats.envelope import CRLF
from nlets_sim.switch.journal import Journal
from nlets_sim.tools.transcript import Expect, Logon, Send, Step, Transcript, escaped

_STAMP_LINE = re.compile(r"^\d\d:\d\d \d\d/\d\d/\d{4} \d{5}(?P<ori> [A-Z0-9]{9})?$")
_QRN = re.compile(r"L\d{12}")


def with_placeholders(message: str) -> str:
    """Times, dates and counters of the output header, and query numbers, as placeholders;
    literal braces doubled."""
    lines = message.replace("{", "{{").replace("}", "}}").split(CRLF)
    for index in (1, 2):
        if index < len(lines):
            stamp = _STAMP_LINE.match(lines[index])
            if stamp:
                lines[index] = "{TIME} {DATE} {SEQ}" + (stamp["ori"] or "")
    return _QRN.sub("{QRN}", CRLF.join(lines))


def record(journal: Journal, ori: str, since: str | None = None) -> Transcript:
    steps: list[Step] = [Logon(0, ori)]
    sent = journal.search(ori=ori, since=since, limit=1_000_000)
    sent = [m for m in sent if m.logon_ori == ori]
    for number, message in enumerate(sent):
        following = sent[number + 1].id if number + 1 < len(sent) else None
        steps.append(Send(0, ori, escaped(message.raw)))
        answers = journal.answers_to(ori, message.id, message.control, following)
        if answers:
            steps.append(Expect(0, ori, tuple(with_placeholders(a) for a in answers)))
    return Transcript(f"record of {ori}", tuple(steps))
