"""Parse/build microbenchmark of the formats package (one core, median of 7 runs)."""

from __future__ import annotations

from datetime import date, datetime

from bench.timing import rate, report
from formats.envelope import OutputMessage, parse_input
from formats.frames import Frame, FrameKind, FrameReader, build_frame
from formats.iaq import Iaq, content_problems
from nlets_sim.switch.keys import check_message

TODAY = date(2026, 11, 23)
COUNT = 20_000

AM_250 = (
    b"AM.NY0303000.NJ,PA,CT.*B1234.TXT\r\n"
    + (b"ALL AGENCIES: ROAD CLOSURE ON I-87 NORTHBOUND AT EXIT 4 FROM 2200 TO 0500 HOURS.\r\n" * 3)[
        : 250 - 34
    ]
)
IAQ = (
    b"IAQ.NY0303000.AX.*Q77.TXT\r\nPUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A."
    b"DOB/19800115.SEX/M.POB/MX.CUS/Y.OFF/0399.ARN/012345678"
)


def main() -> None:
    assert len(AM_250) == 250
    am_frame = build_frame(Frame(FrameKind.DT, 1, AM_250))
    reader = FrameReader()

    def frame_decode() -> None:
        reader.feed(am_frame)

    def frame_and_envelope() -> None:
        for frame in reader.feed(am_frame):
            parse_input(frame.payload)

    def iaq_full() -> None:
        body = check_message(IAQ, TODAY).body
        assert isinstance(body, Iaq)
        content_problems(body)

    now = datetime(2026, 11, 23, 8, 0)

    def header_build() -> None:
        OutputMessage("AM", "NY0303000", now, 1, now, 2, "NJNLETS00", "TEXT", "B1234").build()

    print(f"formats microbenchmark, {COUNT:,} operations per run, median of 7 runs")
    report("frame decode (250-byte AM)", rate(frame_decode, COUNT))
    report("envelope parse (250-byte AM)", rate(lambda: parse_input(AM_250), COUNT))
    report("frame + envelope decode (250-byte AM)", rate(frame_and_envelope, COUNT), 50_000)
    report("full IAQ parse + validation", rate(iaq_full, COUNT), 20_000)
    report("output header build", rate(header_build, COUNT))


if __name__ == "__main__":
    main()
