"""``nlets-sim load`` benchmark: is the generator ever the bottleneck?

A switch process and a LESC daemon process (``--delay 0-0``, a seeded store), and the load
generator in this process sending the ``iaq`` profile open loop at ``--rate`` for
``--duration`` seconds. Prints completed round trips per second, latency to the response, and
the CPU per completed exchange of the generator, the switch and the LESC, measured over the
same run (the issue's target: the generator's at most half the switch's).

    python -m bench.bench_load --rate 1000 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from nlets_sim.switch.config import default_directory
from nlets_sim.tools.cli_load import directory_terminals
from nlets_sim.tools.load.identities import read_identities
from nlets_sim.tools.load.profiles import builtin
from nlets_sim.tools.load.report import summary_table
from nlets_sim.tools.load.runner import LoadConfig, run_load
from nlets_sim.tools.load.schedule import parse_rate
from tests.switch_process import start_switch

PERSONS = 10_000


async def one_run(rate: str, duration: float, terminals: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "lesc.sqlite3"
        subprocess.run(  # noqa: S603 - our own CLI
            [
                sys.executable,
                "-m",
                "lesc_daemon",
                "seed",
                "--db",
                str(db),
                "--persons",
                str(PERSONS),
            ],
            check=True,
            capture_output=True,
        )
        switch, port = await start_switch(Path(scratch) / "switch")
        daemon = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "lesc_daemon", "run", "--switch", f"127.0.0.1:{port}",
            "--db", str(db), "--delay", "0-0",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            profile = builtin("iaq", read_identities(None, datetime(2026, 1, 1, 8)))
            logons = directory_terminals(default_directory(), terminals)
            warm = LoadConfig(
                "127.0.0.1", port, logons[:1], profile, None, window=1, duration_s=None,
                count=1, timeout_s=60, linger_s=0.5, warn=lambda _line: None,
            )  # fmt: skip
            for _ in range(100):  # until the LESC is logged on and answers
                codes = (await run_load(warm)).summary["codes"]
                if any(code.startswith("IAR RSP") for code in codes):
                    break
                await asyncio.sleep(0.2)
            config = LoadConfig(
                "127.0.0.1", port, logons, profile, parse_rate(rate), duration_s=duration,
                linger_s=0.2, warn=print, watch_pids={"switch": switch.pid, "lesc": daemon.pid},
            )  # fmt: skip
            result = await run_load(config)
            return result.summary
        finally:
            daemon.terminate()
            switch.terminate()
            await daemon.wait()
            await switch.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", default="1000", help="the load's --rate (default 1000)")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--terminals", type=int, default=20)
    args = parser.parse_args()
    summary = asyncio.run(one_run(args.rate, args.duration, args.terminals))
    print(summary_table(summary))
    cpu = summary["cpu_us_per_exchange"]
    assert isinstance(cpu, dict)
    ratio = cpu["generator"] / cpu["switch"] if cpu.get("switch") else float("nan")
    print(f"generator / switch CPU per exchange: {ratio:.2f} (target at most 0.50)")


if __name__ == "__main__":
    main()
