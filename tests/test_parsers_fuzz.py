"""Every parser of the switch and the LESC takes arbitrary input and answers with its own
error (or a result), never a crash."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from lesc_daemon.rules import RulesError, parse_rules
from nlets_sim.link.protocol import LogonRequested, parse_logon
from nlets_sim.switch.directory import parse_directory
from nlets_sim.switch.faults import FaultError, make_fault
from nlets_sim.tools.transcript import TranscriptError, parse_transcript

TOML_ISH = st.text(
    alphabet=st.sampled_from(list('[]="\n .,abcdeflinorstuxyz0123ACDZ#')), max_size=300
)


@given(st.binary(max_size=100))
def test_logon_payloads_parse_or_are_refused(payload: bytes) -> None:
    result = parse_logon(payload)
    assert result is None or isinstance(result, LogonRequested)


@given(st.from_regex(r"ORI/[A-Z0-9]{9}\.KEY/[A-Z0-9]{1,20}(\.RST/[YN])?", fullmatch=True))
def test_logon_payloads_round_trip(payload: str) -> None:
    result = parse_logon(payload.encode())
    assert result is not None
    assert (
        f"ORI/{result.ori}.KEY/{result.key}"
        == payload[: payload.find(".RST") if ".RST" in payload else None]
    )
    assert result.reset == payload.endswith("RST/Y")


@given(TOML_ISH)
def test_directory_text_gives_a_directory_or_problems(text: str) -> None:
    directory, problems = parse_directory(text)
    assert (directory is None) == bool(problems)
    assert all(problem.startswith("line ") for problem in problems)


@given(TOML_ISH)
def test_rules_text_gives_rules_or_a_rules_error(text: str) -> None:
    with contextlib.suppress(RulesError):
        parse_rules(text)


@given(st.text(max_size=300))
def test_transcript_text_gives_steps_or_a_transcript_error(text: str) -> None:
    with contextlib.suppress(TranscriptError):
        parse_transcript(text)


@given(
    st.dictionaries(
        st.sampled_from(["kind", "mke", "count", "probability", "delay_s", "code", "other"]),
        st.one_of(st.text(max_size=5), st.integers(-2, 5), st.floats(-1, 2)),
    )
)
def test_fault_rules_are_made_or_refused(data: dict[str, object]) -> None:
    with contextlib.suppress(FaultError):
        make_fault(data)
