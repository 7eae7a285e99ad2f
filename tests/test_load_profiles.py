"""The profiles of ``nlets-sim load``: generated traffic checked against its templates and
weights (seeded), profile files, transcripts as scenarios, and identities."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from formats.envelope import parse_input
from formats.iaq import parse_iaq
from nlets_sim.tools.lint import lint_message
from nlets_sim.tools.load.identities import IdentitiesError, read_identities
from nlets_sim.tools.load.profiles import (
    BRADY_SHARE,
    Draw,
    Profile,
    ProfileError,
    builtin,
    peer_of,
    read_profile,
    read_scenario,
    template,
)

NOW = datetime(2026, 3, 4, 5, 6)
ORIS = ["AK0010000", "AL0010000", "AR0010000", "AZ0010000", "CA0010000"]
IDENTITIES = read_identities(None, NOW)


def sample(profile: Profile, count: int, seed: int = 7) -> list[tuple[int, bytes, int, str | None]]:
    rng = random.Random(seed)
    out = []
    for number in range(count):
        sender = number % len(ORIS)
        request = profile.request(Draw(rng, ORIS, sender, f"C{number}", number, NOW))
        out.append((sender, request.message, request.expected, request.expect_res))
    return out


def test_am_pairs_sends_each_terminal_s_am_to_its_pair_with_its_control_field() -> None:
    for sender, raw, expected, res in sample(builtin("am-pairs", []), 20):
        message = parse_input(raw)
        assert message.mke == "AM"
        assert message.sender == ORIS[sender]
        assert message.destinations == (ORIS[peer_of(sender, len(ORIS))],)
        assert message.control is not None
        assert message.control.startswith("C")
        assert "AT 05:06 03/04/2026" in message.text
        assert (expected, res) == (1, None)
    assert [peer_of(i, 5) for i in range(5)] == [1, 0, 3, 2, 0]


def test_iaq_asks_about_the_identities_with_the_brady_share_of_fy_2013() -> None:
    requests = sample(builtin("iaq", IDENTITIES), 4000)
    purposes: Counter[str] = Counter()
    by_name = {identity.nam: identity for identity in IDENTITIES}
    for _sender, raw, expected, res in requests:
        message = parse_input(raw)
        assert lint_message(raw, NOW).ok
        iaq = parse_iaq(message.text, NOW.date())
        purposes[iaq.pur] += 1
        identity = by_name[iaq.nam]
        assert (iaq.dob, iaq.sex, iaq.pob, iaq.arn) == (
            identity.dob,
            identity.sex,
            identity.pob,
            identity.arn,
        )
        assert expected == 2
        assert res == identity.res
    share = purposes["F"] / len(requests)
    assert abs(share - BRADY_SHARE) < 0.015  # 4,000 draws: 3 standard deviations ~0.013
    assert sample(builtin("iaq", IDENTITIES), 50) == sample(builtin("iaq", IDENTITIES), 50)


def test_the_test_identities_carry_the_res_the_lesc_s_rules_give() -> None:
    results = {identity.nam: identity.res for identity in IDENTITIES}
    assert results["DOE, JOHN A"] == "RM"
    assert results["SAMPLE, CITIZEN"] == "US"
    assert results["RUNNER, ROSA"] == "WT"
    assert results["WANTED, WALTER"] == "WT"


def test_a_profile_file_gives_weighted_templates_with_placeholders(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        "[[template]]\nweight = 3\ntext = '''\nAM.{sender}.{dest}.*{control}.TXT\n"
        "NUMBER {n} ON {today}\n'''\n"
        "[[template]]\nweight = 1\nreplies = 2\ntext = '''\n"
        "IAQ.{sender}.AX.*{control}.TXT\nPUR/C.ATN/X.PHN/5185551212.NAM/{nam}.DOB/{dob}."
        "SEX/{sex}.POB/{pob}.CUS/N.OFF/0399{arn}\n'''\n"
    )
    profile = read_profile(path, IDENTITIES)
    requests = sample(profile, 2000)
    keys = Counter(parse_input(raw).mke for _, raw, _, _ in requests)
    assert abs(keys["AM"] / 2000 - 0.75) < 0.03
    for number, (sender, raw, expected, _) in enumerate(requests):
        message = parse_input(raw)
        if message.mke == "AM":
            assert message.destinations[0] in ORIS
            assert message.destinations[0] != ORIS[sender]
            assert message.text == f"NUMBER {number} ON 20260304"
            assert expected == 1
        else:
            assert expected == 2
            assert lint_message(raw, NOW).ok


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[template]]\ntext = 'AM.{sender}.NY.*{control}.TXT\\r\\n{nope}'", "unknown placeholder"),
        ("[[template]]\ntext = 'AM.{sender}.NY.TXT'", "needs {control}"),
        ("[[template]]\nweight = 0\ntext = 'AM.{sender}.NY.*{control}.TXT'", "weight"),
        ("[[template]]\nspeed = 1\ntext = 'AM.{sender}.NY.*{control}.TXT'", "unknown key"),
        ("title = 'no templates'", "no \\[\\[template\\]\\]"),
        ("[[template]\n", "Expected"),
    ],
)
def test_a_bad_profile_file_is_refused_with_what_is_wrong(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=problem):
        read_profile(path, IDENTITIES)


def test_a_transcript_is_a_scenario_with_its_sender_and_control_fields_rewritten(
    tmp_path: Path,
) -> None:
    path = tmp_path / "two.txt"
    path.write_text(
        "logon NY0303000\nsend NY0303000\nIAQ.NY0303000.AX.*Q1.TXT\n"
        "PUR/C.ATN/DET NY0303000.PHN/5185551212.NAM/DOE, JOHN A.DOB/19800115.SEX/M.POB/MX."
        "CUS/Y.OFF/0399\nend\nexpect NY0303000\nIAR.VTINS07S0.*Q1\n{ANY}\nnext\n"
        "IAR.VTINS07S0.*Q1\n{ANY}\nend\nsend NY0303000\nAM.NY0303000.NJ.TXT\nHELLO\nend\n"
    )
    profile = read_scenario(path)
    requests = sample(profile, 10)
    for number, (sender, raw, expected, _) in enumerate(requests):
        message = parse_input(raw)
        assert message.sender == ORIS[sender]
        assert message.control == f"C{number}"
        # each terminal runs the scenario in order: its 1st, 3rd... request is the IAQ
        if (number // len(ORIS)) % 2 == 0:
            assert (message.mke, expected) == ("IAQ", 2)
            assert f"ATN/DET {ORIS[sender]}" in message.text
        else:
            assert (message.mke, message.destinations, expected) == ("AM", ("NJ",), 1)


def test_identities_from_a_file_take_a_given_res_or_the_rules_answer(tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    path.write_text(
        '{"id": "X1", "names": ["QUIGLEY, ANN"], "dob": "1970-02-03", "sex": "F", "pob": "VT",'
        ' "citizenship": "US", "status": {"code": "USC"}, "res": "NR"}\n\n'
        '{"id": "X2", "names": ["QUIGLEY, BOB"], "dob": "1971-02-03", "sex": "M", "pob": "VT",'
        ' "citizenship": "US", "status": {"code": "USC"}}\n'
    )
    first, second = read_identities(path, NOW)
    assert (first.nam, first.dob, first.res) == ("QUIGLEY, ANN", "19700203", "NR")
    assert second.res == "US"
    path.write_text('{"id": "X1"}\n')
    with pytest.raises(IdentitiesError, match="line 1: names"):
        read_identities(path, NOW)


def test_a_profile_with_identity_fields_needs_identities() -> None:
    with pytest.raises(ProfileError, match="no identities"):
        builtin("iaq", [])
    with pytest.raises(ProfileError, match="unknown profile"):
        builtin("sip", [])


def test_braces_around_no_placeholder_are_sent_as_written() -> None:
    text = "AM.{sender}.{peer}.*{control}.TXT\r\nSET {X} TO {{n}} } { {n}"
    profile = Profile("braces", (template(text),))
    request = profile.request(Draw(random.Random(1), ORIS, 0, "C7", 42, NOW))
    assert request.message == (b"AM.AK0010000.AL0010000.*C7.TXT\r\nSET {X} TO {42} } { 42")
