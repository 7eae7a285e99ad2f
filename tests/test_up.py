"""``nlets-sim up``: the main job starts the switch and the LESC, answers, and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from formats.iar import parse_iar
from nlets_sim.link.terminal import Terminal
from nlets_sim.tools.up import READY_IAQ, command_name
from tests.bus_events import Collector, collecting


@contextlib.asynccontextmanager
async def running_up(
    tmp_path: Path, *options: str, last: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, list[str]]]:
    """``nlets-sim up --port 0 --broker-port 0 OPTIONS``, and what it printed up to ``last``;
    stopped with Ctrl-C (then killed) if the test did not stop it, so that a failing test
    leaves no switch or broker behind."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "nlets_sim", "up", "--data-dir", str(tmp_path)),
        *(*options, "--port", "0", "--broker-port", "0"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        async with asyncio.timeout(60):
            while not lines or lines[-1] != last:
                lines.append((await process.stdout.readline()).decode().rstrip("\n"))
        yield process, lines
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def ctrl_c(process: asyncio.subprocess.Process) -> None:
    """Ctrl-C: everything stops cleanly, ``stopped`` said last."""
    assert process.stdout is not None
    process.send_signal(signal.SIGINT)
    rest = await process.stdout.read()
    assert await process.wait() == 0
    assert rest.decode().splitlines()[-1] == "stopped"


async def test_up_serves_an_iaq_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    async with running_up(tmp_path, last="Ctrl-C stops both.") as (process, lines):
        port = int(lines[0].rsplit(":", 1)[1])
        assert lines[0].startswith("nlets-sim listening on 127.0.0.1:")
        assert "10,015 synthetic persons" in lines[1]  # 10,000 generated, 15 test identities
        async with Terminal("127.0.0.1", port, "NY0303000", "S3CRET") as terminal:
            ack, response = await terminal.request(
                READY_IAQ.replace("\n", "\r\n").encode(), count=2
            )
        assert parse_iar(response.message.text).res is not None
        assert parse_iar(ack.message.text).qrn == parse_iar(response.message.text).qrn
        await ctrl_c(process)


def test_the_hint_names_a_command_the_shell_can_run(monkeypatch: pytest.MonkeyPatch) -> None:
    venv_bin = Path(sys.executable).parent
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}/usr/bin:/bin")
    assert command_name() == "nlets-sim"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(venv_bin.parent.parent)
    assert command_name() == os.path.relpath(venv_bin / "nlets-sim")


async def test_up_with_nodes_runs_a_broker_and_a_cluster(tmp_path: Path) -> None:
    async with running_up(tmp_path, "--nodes", "3", last="Ctrl-C stops all.") as (process, lines):
        assert lines[0].startswith("broker mqtt://127.0.0.1:")
        assert [line.split()[1] for line in lines[1:4]] == ["node1", "node2", "node3"]
        at = {line.split()[0]: line.split()[2] for line in lines if line.startswith("  ")}
        assert at["NY0303000"] != at["VTINS07S0"]  # the IAQ below crosses nodes
        host, port = at["NY0303000"].split(":")
        async with Terminal(host, int(port), "NY0303000", "S3CRET") as terminal:
            ack, response = await terminal.request(
                READY_IAQ.replace("\n", "\r\n").encode(), count=2
            )
        assert parse_iar(response.message.text).res is not None
        assert parse_iar(ack.message.text).qrn == parse_iar(response.message.text).qrn
        await ctrl_c(process)


async def test_up_with_events_runs_a_broker_and_both_publish(tmp_path: Path) -> None:
    async with running_up(tmp_path, "--events", last="Ctrl-C stops both.") as (process, lines):
        port = int(lines[0].rsplit(":", 1)[1])
        (said,) = [line for line in lines if line.startswith("broker mqtt://")]
        url = said.split()[1]
        assert said == f"broker {url} (state in {tmp_path / 'broker'}); watch the traffic:"
        assert lines[lines.index(said) + 2].endswith(f" watch --mqtt {url}")
        async with collecting(url) as bus:
            async with Terminal("127.0.0.1", port, "NY0303000", "S3CRET") as terminal:
                await terminal.request(READY_IAQ.replace("\n", "\r\n").encode(), count=2)
            await bus.wait_for(
                lambda _: (
                    bool(bus.of("query-answered")) and len(delivered_to(bus, "NY0303000")) == 2
                )
            )
        await ctrl_c(process)
    assert {e["node"] for e in bus.of("accepted")} == {"main"}
    (answered,) = bus.of("query-answered")
    assert (answered["node"], answered["requester"], answered["purpose"]) == (
        "lesc",
        "NY0303000",
        "C",
    )
    assert [e["mke"] for e in delivered_to(bus, "NY0303000")] == ["IAR", "IAR"]
    assert "IAQ" in {e["mke"] for e in delivered_to(bus, "VTINS07S0")}


def delivered_to(bus: Collector, ori: str) -> list[dict[str, Any]]:
    return [event for event in bus.of("delivered") if event["ori"] == ori]


def test_up_with_events_on_a_port_in_use_is_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                *(sys.executable, "-m", "nlets_sim", "up", "--data-dir", str(tmp_path)),
                *("--events", "--port", "0", "--broker-port", str(port)),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr == f"Error: port {port} of 127.0.0.1 is in use: choose another\n"
