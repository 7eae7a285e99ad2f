"""The load generator's own work per IAQ exchange, without sockets: what ``nlets-sim load`` does
in its process for one request of the ``iaq`` profile and its replies, less the terminal
library's link (frames, writes, the event loop). ``bench.instructions generator`` counts it.

One exchange: the profile makes the request and the correlator records it (``LoadRun.send``);
the switch's AK settles it (``LoadRun.acknowledged``); the ACK and RSP IARs are parsed as the
terminal parses a delivery (``parse_output``) and matched (``LoadRun.delivered``).
"""

from __future__ import annotations

from datetime import datetime

from formats.envelope import OutputMessage, parse_output
from formats.iar import Iar, IarType, Result
from nlets_sim.link.terminal import Delivery
from nlets_sim.tools.load.identities import read_identities
from nlets_sim.tools.load.profiles import builtin
from nlets_sim.tools.load.runner import LoadConfig, LoadRun, base36

CLOCK = datetime(2026, 1, 1, 8)
ORIS = ("NY0010000", "NJ0020000", "CT0030000", "MA0040000")
LESC = "VTINS07S0"
PREFIX = "00"


def new_run() -> LoadRun:
    profile = builtin("iaq", read_identities(None, CLOCK))
    config = LoadConfig(
        "127.0.0.1", 9, [(ori, "KEY") for ori in ORIS], profile, None, timeout_s=3600
    )
    run = LoadRun(config)
    run.prefix = PREFIX
    return run


async def replies(count: int) -> list[tuple[bytes, bytes]]:
    """The ACK and RSP IAR deliveries of the first ``count`` requests (control fields and RES
    as the run expects them), built once: the switch's and the LESC's work, not the
    generator's."""
    run = new_run()
    built = []
    for number in range(count):
        ori, control = ORIS[number % len(ORIS)], PREFIX + base36(number)
        run.send(number % len(ORIS), 0.0)
        res = Result(run.correlator.pending[control].expect_res or "NR")
        qrn = f"L26010100{number:04d}"
        pair = []
        for iar in (
            Iar(qrn, IarType.ACK, ("QUERY RECEIVED. A RESPONSE WILL FOLLOW.",)),
            Iar(qrn, IarType.RSP, ("SUBJECT: THE IDENTITY QUERIED",), res=res),
        ):
            output = OutputMessage("IAR", LESC, CLOCK, 1, CLOCK, 1, ori, iar.build(), control)
            pair.append(output.build())
        built.append((pair[0], pair[1]))
    return built


async def exchanges(count: int, built: int) -> None:
    """``count`` IAQ exchanges through the generator's code, 32 requests to a batch (the
    AK and the deliveries of a batch come after all of it is sent), after the replies of
    ``built`` requests are made."""
    delivered = await replies(built)
    run = new_run()
    seqs = [0] * len(ORIS)
    for first in range(0, count, 32):
        batch = range(first, min(count, first + 32))
        for number in batch:
            run.send(number % len(ORIS), run.elapsed())
        for index, items in run.outgoing.items():  # as ``flush`` does with the posted seqs
            for _message, control in items:
                seqs[index] += 1
                run.sequences[index].append((seqs[index], control))
        run.outgoing.clear()
        for index, seq in enumerate(seqs):
            run.acknowledged(index, seq)
        for number in batch:
            for raw in delivered[number]:
                run.delivered(Delivery(number, raw, parse_output(raw)))
    assert run.correlator.total.counts["matched"] == count, run.correlator.total.summary()
