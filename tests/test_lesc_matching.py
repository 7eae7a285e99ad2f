"""Identity matching (issue rules): identifiers, name and DOB, phonetics, aliases, near misses."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from lesc_daemon.matching import Outcome, Subject, candidate_dobs, identify
from lesc_daemon.persons import Person

DOB = date(1980, 1, 15)


def person(
    pid: str, *names: str, dob: date = DOB, sex: str = "M", arn: str | None = None
) -> Person:
    return Person(pid, names, dob, sex, arn=arn)


def test_arn_equal_is_a_match_whatever_the_name() -> None:
    found = person("P1", "OTHER, NAME", arn="012345678")
    identity = identify(Subject("DOE, JOHN", DOB, arn="012345678"), [found], [])
    assert (identity.outcome, identity.person) == (Outcome.MATCH, found)
    assert identity.searched == ("NAME/DOB", "ARN 012345678")


def test_name_and_dob_one_candidate_is_a_match() -> None:
    found = person("P1", "DOE, JOHN A")
    assert identify(Subject("DOE, JOHN", DOB), [], [found]).person == found


def test_phonetically_equal_surname_matches() -> None:
    found = person("P1", "SMYTH, JANE")
    assert identify(Subject("SMITH, JANE", DOB), [], [found]).outcome is Outcome.MATCH


def test_alias_counts() -> None:
    found = person("P1", "GARCIA, MARIA", "LOPEZ, MARIA")
    assert identify(Subject("LOPEZ, MARIA", DOB), [], [found]).outcome is Outcome.MATCH


def test_first_initial_must_agree() -> None:
    assert identify(Subject("DOE, MARY", DOB), [], [person("P1", "DOE, JOHN")]).outcome is (
        Outcome.NONE
    )


def test_known_sexes_must_agree_unknown_does_not_matter() -> None:
    male = person("P1", "DOE, JOHN")
    assert identify(Subject("DOE, JOHN", DOB, sex="F"), [], [male]).outcome is Outcome.NONE
    assert identify(Subject("DOE, JOHN", DOB, sex="U"), [], [male]).outcome is Outcome.MATCH


def test_several_candidates_are_a_possible_identity() -> None:
    identity = identify(
        Subject("TWIN, A", DOB), [], [person("P1", "TWIN, ALEX"), person("P2", "TWIN, ANDY")]
    )
    assert identity.outcome is Outcome.POSSIBLE
    assert len(identity.candidates) == 2


def test_near_misses_are_a_possible_identity() -> None:
    swapped = person("P1", "DOE, JOHN", dob=date(1980, 3, 4))
    assert identify(Subject("DOE, JOHN", date(1980, 4, 3)), [], [swapped]).outcome is (
        Outcome.POSSIBLE
    )
    year_off = person("P2", "DOE, JOHN", dob=date(1981, 1, 15))
    assert identify(Subject("DOE, JOHN", DOB), [], [year_off]).outcome is Outcome.POSSIBLE
    one_digit = person("P3", "DOE, JOHN", dob=date(1982, 1, 15))  # 1980 -> 1982: one digit
    assert identify(Subject("DOE, JOHN", DOB), [], [one_digit]).outcome is Outcome.POSSIBLE
    two_digits = person("P4", "DOE, JOHN", dob=date(1982, 2, 15))
    assert identify(Subject("DOE, JOHN", DOB), [], [two_digits]).outcome is Outcome.NONE


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(2098, 12, 31)))
def test_candidate_dates_are_the_date_and_its_near_misses(day: date) -> None:
    dates = candidate_dobs(day)
    assert dates[0] == day
    assert len(dates) == len(set(dates))
    assert all(abs((other - day).days) <= 366 for other in dates)
