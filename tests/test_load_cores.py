"""The pure cores of ``nlets-sim load``: the rate schedule, the correlator of requests and
replies, and the ``--fail-if`` parser, without sockets or a clock."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlets_sim.tools.load.correlate import Correlator, reply_code
from nlets_sim.tools.load.failif import FailIfError, broken, parse_fail_if
from nlets_sim.tools.load.schedule import RateError, Schedule, parse_duration, parse_rate

RATES = st.floats(min_value=0.5, max_value=5000, allow_nan=False)
SECONDS = st.floats(min_value=0.5, max_value=600, allow_nan=False)


def test_a_constant_rate_makes_requests_due_at_even_intervals() -> None:
    schedule = parse_rate("200")
    assert [schedule.moment(k) for k in range(3)] == [0.0, 0.005, 0.01]
    assert schedule.due(10) == pytest.approx(2000)
    assert schedule.rate_at(5) == 200


def test_a_ramp_climbs_linearly_and_then_holds() -> None:
    schedule = parse_rate("100:2000:60s")
    assert schedule.rate_at(0) == 100
    assert schedule.rate_at(30) == pytest.approx(1050)
    assert schedule.rate_at(120) == 2000
    assert schedule.due(60) == pytest.approx((100 + 2000) / 2 * 60)  # the trapezium
    assert schedule.due(70) == pytest.approx(63_000 + 20_000)


def test_steps_hold_each_rate_for_its_time_and_the_last_for_ever() -> None:
    schedule = parse_rate("100@10s,500@1m,1000")
    assert schedule.due(10) == pytest.approx(1000)
    assert schedule.due(70) == pytest.approx(1000 + 30_000)
    assert schedule.due(80) == pytest.approx(31_000 + 10_000)
    assert parse_rate("50@2s").due(10) == pytest.approx(500)


@given(
    st.one_of(
        RATES.map(str), st.tuples(RATES, RATES, SECONDS).map(lambda r: f"{r[0]}:{r[1]}:{r[2]}s")
    ),
    st.integers(0, 100_000),
)
def test_request_k_is_due_when_the_integral_of_the_rate_reaches_k(spec: str, k: int) -> None:
    schedule = parse_rate(spec)
    moment = schedule.moment(k)
    assert moment >= 0
    assert schedule.due(moment) == pytest.approx(k, abs=1e-6 * max(1, k))
    assert schedule.moment(k + 1) > moment


@given(st.text(max_size=30))
def test_any_rate_text_parses_or_says_why(text: str) -> None:
    try:
        schedule = parse_rate(text)
    except RateError as error:
        message = str(error)
        assert message
    else:
        assert isinstance(schedule, Schedule)
        assert math.isinf(schedule.segments[-1].seconds)


@pytest.mark.parametrize(
    "bad", ["0", "-5", "fast", "100:200", "100:200:0s", "10@", "1@5s,x", "nan"]
)
def test_bad_rates_are_refused_with_a_sentence(bad: str) -> None:
    with pytest.raises(RateError, match=r"."):
        parse_rate(bad)


def test_durations_take_the_units_a_person_writes() -> None:
    assert [parse_duration(t) for t in ("10", "10s", "250ms", "5m", "2h", "365d")] == [
        10,
        10,
        0.25,
        300,
        7200,
        365 * 86400,
    ]
    with pytest.raises(RateError):
        parse_duration("10 years")


# The correlator -------------------------------------------------------------------------

IAR_ACK = "QRN/L260101000001.TYP/ACK.\r\nQUERY RECEIVED. A RESPONSE WILL FOLLOW."
IAR_RSP = "QRN/L260101000001.TYP/RSP.RES/US.\r\nSUBJECT: ..."


def test_an_iaq_is_matched_by_its_ack_and_response_and_timed_at_each_step() -> None:
    correlator = Correlator(timeout_s=5)
    correlator.sent("A1", due=10.0, expected=2, expect_res="US")
    correlator.acked("A1", 10.001)
    assert correlator.reply("A1", "IAR", IAR_ACK, b"ack", 10.002) is None
    ended = correlator.reply("A1", "IAR", IAR_RSP, b"rsp", 10.050)
    assert ended is not None
    summary = correlator.total.summary()
    assert summary["counts"]["matched"] == 1
    assert summary["counts"]["replies"] == 2
    assert summary["codes"] == {"IAR ACK": 1, "IAR RSP US": 1}
    assert summary["latency"]["ak"]["max"] == pytest.approx(1.0, rel=0.01)
    assert summary["latency"]["first"]["max"] == pytest.approx(2.0, rel=0.01)
    assert summary["latency"]["last"]["max"] == pytest.approx(50.0, rel=0.01)
    assert correlator.in_flight == 0


def test_er_rej_sm_and_a_wrong_res_each_end_a_request_with_their_code() -> None:
    """... but SM .02. (stored, will forward) leaves the request waiting for its answer."""
    correlator = Correlator(timeout_s=5)
    for control in ("E", "R", "S", "F", "W"):
        correlator.sent(control, 0.0, expected=2, expect_res="NR")
    correlator.reply("E", "ER", ".19. INVALID DESTINATION ORIs\r\n...", b"e", 1)
    correlator.reply("R", "IAR", "QRN/L1.TYP/REJ.\r\nQUERY CANNOT BE PROCESSED:", b"r", 1)
    correlator.reply("S", "SM", ".04. USER OUT OF SERVICE ...", b"s", 1)
    correlator.reply("F", "SM", ".02. USER OUT OF SERVICE ..., NLETS WILL FORWARD", b"f", 1)
    correlator.reply("W", "IAR", "QRN/L1.TYP/RSP.RES/WT.\r\n", b"w", 1)
    assert list(correlator.pending) == ["F"]
    correlator.reply("F", "IAR", IAR_ACK, b"f-ack", 2)
    assert correlator.reply("F", "IAR", IAR_RSP.replace("US", "NR"), b"f-rsp", 3) is not None
    summary = correlator.total.summary()
    assert summary["counts"]["errors"] == 4
    assert summary["counts"]["matched"] == 1
    assert summary["latency"]["first"]["count"] == 5
    assert summary["latency"]["first"]["max"] == pytest.approx(1000, rel=0.01)  # the SM's
    assert summary["codes"] == {
        "IAR ACK": 1,
        "IAR RSP NR": 1,
        "ER .19.": 1,
        "IAR REJ": 1,
        "SM .04.": 1,
        "SM .02.": 1,
        "IAR RSP WT": 1,
        "RES not NR": 1,
    }
    assert correlator.in_flight == 0


def test_late_duplicated_and_stray_replies_are_told_apart() -> None:
    correlator = Correlator(timeout_s=1)
    correlator.sent("D", 0.0, expected=1)
    correlator.sent("L", 0.0, expected=1)
    correlator.sent("X", 0.5, expected=1)
    correlator.reply("D", "AM", "HELLO", b"d", 0.1)
    correlator.reply("D", "AM", "HELLO", b"d", 0.2)  # the same delivery again
    assert [r.control for r in correlator.expire(1.2)] == ["L"]  # X is not due to expire
    correlator.reply("L", "AM", "HELLO", b"l", 1.3)  # after its timeout
    correlator.reply("X", "AM", "HELLO", b"x", 1.6)  # timeout passed, the ticker not yet run
    correlator.reply("NOPE", "AM", "HELLO", b"n", 1.7)
    correlator.reply(None, "AM", "HELLO", b"n", 1.7)
    counts = correlator.total.summary()["counts"]
    assert counts == counts | {
        "sent": 3,
        "matched": 1,
        "unanswered": 2,
        "late": 2,
        "duplicated": 1,
        "stray": 2,
        "unmatched": 4,
    }


def test_requests_of_the_warm_up_are_left_out_of_the_run_figures() -> None:
    correlator = Correlator(timeout_s=1)
    correlator.sent("W", 0.0, expected=1, counted=False)
    correlator.reply("W", "AM", "HI", b"w", 0.1)
    correlator.reply("W", "AM", "HI", b"w2", 0.1)  # duplicated, also not counted
    assert correlator.total.summary()["counts"]["sent"] == 0
    assert correlator.total.summary()["counts"]["duplicated"] == 0
    assert correlator.interval.counts["sent"] == 1  # the live line still shows it


def test_reply_codes_are_read_from_the_first_line() -> None:
    assert reply_code("ER", "0 MESSAGE FORMAT/STRUCTURE ERROR") == "ER 0"
    assert reply_code("IAR", IAR_RSP) == "IAR RSP US"
    assert reply_code("AM", "HELLO") is None


# --fail-if ------------------------------------------------------------------------------

SUMMARY = {
    "counts": {"errors": 0, "unmatched": 2, "sent": 10, "late": 0},
    "latency": {
        "last": {"p99": 42.0, "p50": 3.0, "max": 60.0},
        "ak": {"p99": 1.5},
        "first": {"p99": 2.0},
    },
    "rate": 99.5,
}


def test_fail_if_names_each_condition_that_holds_with_its_value() -> None:
    conditions = parse_fail_if("p99>50ms,errors>0,unmatched>0")
    assert broken(conditions, SUMMARY) == ["unmatched>0 (measured 2)"]
    assert broken(parse_fail_if("p99>40ms, ak_p99>=1500us, max>0.05s"), SUMMARY) == [
        "p99>40ms (measured 42)",
        "ak_p99>=1500us (measured 1.5)",
        "max>0.05s (measured 60)",
    ]
    assert broken(parse_fail_if("rate<100,sent=10"), SUMMARY) == [
        "rate<100 (measured 99.5)",
        "sent=10 (measured 10)",
    ]


@pytest.mark.parametrize(
    "bad", ["", "p99", "p99>fast", "speed>3", "errors>3ms", "p99>5 parsecs", "p99>>5"]
)
def test_fail_if_refuses_what_it_cannot_read(bad: str) -> None:
    with pytest.raises(FailIfError, match=r"."):
        parse_fail_if(bad)


@given(st.text(max_size=40))
def test_any_fail_if_text_parses_or_says_why(text: str) -> None:
    try:
        conditions = parse_fail_if(text)
    except FailIfError as error:
        message = str(error)
        assert message
    else:
        assert conditions
