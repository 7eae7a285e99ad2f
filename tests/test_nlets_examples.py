"""Nlets' own quoted examples, reproduced byte for byte (PROTOCOL §2.2, §2.3, §2.4, §2.7).

The switch's clock is pinned to each example's time and its counters set at start to the
example's numbers, so that the whole output message, header included, is compared. The ER
examples run once through the switch core and once through the real ``nlets-sim serve``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from formats.frames import Frame, FrameKind
from nlets_sim.link.terminal import Terminal
from nlets_sim.switch.directory import demo_key
from tests.switch_harness import Harness
from tests.switch_process import start_switch

CRLF = b"\r\n"


def lines(*text: str) -> bytes:
    return "\r\n".join(text).encode("ascii")


# Nlets' ER legacy examples (support article 21003096179), each input as Nlets shows it.
RQ_INPUT = lines("RQ.AZNLETS20.AZ.TXT", "LIC/123456.LIT/PC")
RQ_ER = lines(
    "ER.NL0000000",
    "08:00 01/01/2010 01239",
    "08:00 01/01/2011 01233 AZNLETS20",
    "TXT",
    ".22. INVALID MESSAGE FORMAT - REFER TO RQ MKE OPTIONS BELOW",
    "1. LIC, LIY, LIT",
    "ORIGINAL MESSAGE",
    "RQ.AZNLETS20.AZ.TXT",
    "LIC/123456.LIT/PC",
)
# The switch stamps the ER when the RQ arrives: line 3 cannot carry a later year than line 2,
# as Nlets' example (2010, then 2011) does. Every other byte is Nlets'.
RQ_ER_AS_SWITCHED = RQ_ER.replace(b"01/01/2011", b"01/01/2010")

YQ_INPUT = lines(
    "YQ.AZNLETS20.AZ0000000.TXT",
    "RTY/SS.PRI/R.OCA/10000000000.NIC/A111110000.",
    "SER/110011001100.DEN/123456789.",
    "RNA/NLETS_ANALYST.RAG/NLETS.PHO/8005284020.",
    "REM/PLS CONFIRM STILL STOLEN.",
)
# PROTOCOL §2.3: Nlets' layout with the echo cut at 100 bytes, CR LF counting two.
YQ_ER = lines(
    "ER.NL0000000",
    "08:00 01/01/2010 01231",
    "08:00 01/01/2010 01235 AZNLETS20",
    "TXT",
    ".22. INVALID MESSAGE FORMAT - REFER TO YQ MKE OPTIONS BELOW",
    "1. RTY, RNO, PRI, OCA, NIC, TYP, SER, RNA, RAG",
    "ORIGINAL MESSAGE",
    "YQ.AZNLETS20.AZ0000000.TXT",
    "RTY/SS.PRI/R.OCA/10000000000.NIC/A111110000.",
    "SER/110011001100.DEN/12345",
)

# Nlets' HELP legacy walkthrough (support article 21003096297).
HELP_WALKTHROUGH = [
    (
        "AM.AZNLETS20.NLNLEUPDT.TXT\r\nNEW HELP MESSAGE",
        lines(
            "AM.NLNLEHELP",
            "10:01 08/22/2011 35048",
            "10:01 08/22/2011 08374 AZNLETS20",
            "TXT",
            "NEW HELP MESSAGE",
        ),
    ),
    (
        "AM.AZNLETS20.NLNLEAPND.TXT\r\nNEW UPDATE",
        lines(
            "AM.NLNLEHELP",
            "10:02 08/22/2011 35079",
            "10:02 08/22/2011 08376 AZNLETS20",
            "TXT",
            "NEW HELP MESSAGE",
            "NEW UPDATE",
        ),
    ),
    (
        "AM.AZNLETS20.NLNLECNCL.TXT\r\n",
        lines(
            "AM.NLNLEHELP",
            "10:02 08/22/2011 35103",
            "10:02 08/22/2011 08377 AZNLETS20",
            "TXT",
            "NO NLE HELP INFORMATION AVAILABLE FOR THIS USER",
        ),
    ),
]


def test_the_yq_echo_is_cut_at_100_bytes_counting_cr_lf_as_two() -> None:
    echo = YQ_ER.split(b"ORIGINAL MESSAGE\r\n")[1]
    assert len(echo) == 100
    assert YQ_INPUT.startswith(echo)


def _delivered(frames: list[Frame]) -> list[bytes]:
    return [frame.payload for frame in frames if frame.kind is FrameKind.DT]


@pytest.mark.parametrize(
    ("raw", "input_number", "output_number", "expected"),
    [
        (RQ_INPUT, 1239, 1233, RQ_ER_AS_SWITCHED),  # RQ without LIY
        (YQ_INPUT, 1231, 1235, YQ_ER),  # YQ without RNO: the 100-byte echo
    ],
    ids=["rq", "yq"],
)
def test_nlets_er_examples_through_the_switch_core(
    raw: bytes, input_number: int, output_number: int, expected: bytes
) -> None:
    numbers = {("AZ", "input"): input_number, ("AZ", "output"): output_number}
    harness = Harness(next_numbers=numbers)
    harness.now = datetime(2010, 1, 1, 8, 0)
    az = harness.logon("AZNLETS20")
    az.take()
    harness.send(az, raw)
    assert _delivered(az.take()) == [expected]


async def _one_reply(port: int, raw: bytes) -> bytes:
    terminal = Terminal("127.0.0.1", port, "AZNLETS20", demo_key("AZNLETS20"))
    await terminal.connect()
    try:
        await terminal.send(raw)
        return (await terminal.receive(timeout=10)).raw
    finally:
        await terminal.close()


async def test_both_er_examples_through_the_real_server_with_counters_set_at_start(
    tmp_path: Path,
) -> None:
    """``nlets-sim serve --clock ... --input-counter AZ=N --output-counter AZ=N``."""
    for name, raw, counters, expected in (
        ("yq", YQ_INPUT, ("AZ=1231", "AZ=1235"), YQ_ER),
        ("rq", RQ_INPUT, ("AZ=1239", "AZ=1233"), RQ_ER_AS_SWITCHED),
    ):
        process, port = await start_switch(
            tmp_path / name,
            "--clock",
            "2010-01-01T08:00",
            "--input-counter",
            counters[0],
            "--output-counter",
            counters[1],
        )
        try:
            assert await _one_reply(port, raw) == expected
        finally:
            process.terminate()
            await process.wait()


def test_the_help_walkthrough_with_azs_control_terminal_maintaining_nlnlehelp() -> None:
    """Between Nlets' steps line AZ sent other traffic (the input numbers jump by 31 and 24)
    and received one other message (output 08375): mail to the switch stands in for the
    first, an AM from NY for the second."""
    harness = Harness(next_numbers={("AZ", "input"): 35048, ("AZ", "output"): 8374})
    harness.now = datetime(2011, 8, 22, 10, 1)
    az = harness.logon("AZNLETS20")
    ny = harness.logon("NY0303000")
    az.take()
    (update, updated), (append, appended), (cancel, cancelled) = HELP_WALKTHROUGH
    harness.send(az, update.encode())
    assert _delivered(az.take()) == [updated]
    for _ in range(30):
        harness.send(az, b"AM.AZNLETS20.NL.TXT\r\nOTHER TRAFFIC")
    harness.send(ny, b"AM.NY0303000.AZ0000000.TXT\r\nFOR THE AZ DPS")
    assert len(_delivered(az.take())) == 1
    harness.now = datetime(2011, 8, 22, 10, 2)
    harness.send(az, append.encode())
    assert _delivered(az.take()) == [appended]
    for _ in range(23):
        harness.send(az, b"AM.AZNLETS20.NL.TXT\r\nOTHER TRAFFIC")
    harness.send(az, cancel.encode())
    assert _delivered(az.take()) == [cancelled]


def test_the_sm_texts_of_an_operator_outage() -> None:
    harness = Harness(next_numbers={("NL", "input"): 500, ("AZ", "output"): 1240})
    az = harness.logon("AZNLETS20")
    az.take()
    harness.switch.operator_status("NLETS TEMPORARILY OUT OF SERVICE UNTIL 1400 EST", harness.now)
    harness.flush()
    harness.switch.operator_status("NLETS IN SERVICE", harness.now)
    harness.flush()
    assert _delivered(az.take()) == [
        lines(
            "SM.NL0000000",
            "08:00 01/01/2026 00500",
            "08:00 01/01/2026 01240 AZNLETS20",
            "TXT",
            "NLETS TEMPORARILY OUT OF SERVICE UNTIL 1400 EST",
        ),
        lines(
            "SM.NL0000000",
            "08:00 01/01/2026 00501",
            "08:00 01/01/2026 01241 AZNLETS20",
            "TXT",
            "NLETS IN SERVICE",
        ),
    ]
