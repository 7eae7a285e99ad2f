"""Replaying transcripts against a switch: a running one, or an embedded switch + LESC."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lesc_daemon.daemon import DaemonConfig, running
from lesc_daemon.delays import NO_DELAY
from nlets_sim.link.terminal import Delivery, LinkClosed, Terminal
from nlets_sim.switch.admin import AdminError, admin_request
from nlets_sim.switch.config import PINNED_CLOCK, Config
from nlets_sim.switch.directory import demo_key
from nlets_sim.switch.server import SwitchServer
from nlets_sim.tools.transcript import (
    Expect,
    Logoff,
    Logon,
    Operator,
    Outage,
    Send,
    Step,
    Transcript,
    diff,
    matches,
    message_bytes,
)


@dataclass(frozen=True, slots=True)
class StepResult:
    step: Step
    ok: bool
    detail: str = ""

    def title(self) -> str:
        step = self.step
        if isinstance(step, Operator):
            return (
                f"line {step.line}: {'remove' if step.removed else 'restore'} {step.ori} {step.mke}"
            )
        return f"line {step.line}: {type(step).__name__.lower()} {step.ori}"


@dataclass(slots=True)
class TranscriptResult:
    name: str
    steps: list[StepResult] = field(default_factory=list)
    not_run: int = 0
    unreadable: str = ""  # why the transcript could not be read (then nothing ran)

    @property
    def passed(self) -> bool:
        return all(result.ok for result in self.steps) and not self.not_run and not self.unreadable

    def report(self) -> str:
        lines = [f"{'PASS' if self.passed else 'FAIL'} {self.name}"]
        if self.unreadable:
            lines.append(f"  FAIL not read: {self.unreadable}")
        for result in self.steps:
            lines.append(f"  {'ok  ' if result.ok else 'FAIL'} {result.title()}")
            if result.detail:
                lines.extend(f"       {line}" for line in result.detail.splitlines())
        if self.not_run:
            lines.append(f"  ---- {self.not_run} step(s) not run after the failure")
        return "\n".join(lines)


class StepFailed(Exception):
    """A step that did not go as written; the text says how."""


class ClusterMap(Protocol):
    """Switch nodes, as a transcript's player sees them."""

    def address(self, ori: str) -> tuple[str, int]: ...

    def admin(self, line: str) -> Path | None: ...

    def admins(self) -> list[Path | None]: ...


class Player:
    """Runs transcripts' steps against one switch address."""

    def __init__(
        self,
        host: str,
        port: int,
        admin: Path | None = None,
        *,
        cluster: ClusterMap | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.admin = admin  # the switch's admin socket, for operator steps
        self.cluster = cluster  # switch nodes: where each ORI logs on, whose admin a line's
        self.terminals: dict[str, Terminal] = {}

    async def run(self, transcript: Transcript) -> TranscriptResult:
        result = TranscriptResult(transcript.name)
        try:
            for index, step in enumerate(transcript.steps):
                try:
                    await self.step(step)
                except StepFailed as failed:
                    result.steps.append(StepResult(step, ok=False, detail=str(failed)))
                    result.not_run = len(transcript.steps) - index - 1
                    break
                result.steps.append(StepResult(step, ok=True))
        finally:
            for terminal in self.terminals.values():
                await terminal.abort()
            self.terminals.clear()
        return result

    async def step(self, step: Step) -> None:
        try:
            match step:
                case Logon(_, ori, key):
                    terminal = Terminal(*self._address(ori), ori, key or demo_key(ori))
                    await terminal.connect()
                    self.terminals[ori] = terminal
                case Logoff(_, ori):
                    await self._terminal(ori).close()
                    del self.terminals[ori]
                case Send(_, ori, message):
                    terminal = self._terminal(ori)
                    await terminal.send(message_bytes(message))
                    await terminal.drain()
                case Expect():
                    await self._expect(step)
                case Operator(_, code, mke, removed):
                    await self._operate(
                        {"command": "remove", "line": code, "mke": mke, "on": removed}, code
                    )
                case Outage(_, until, zone):
                    end = until is None
                    await self._operate(
                        {"command": "outage", "end": end, "until": until, "tz": zone}
                    )
        except (LinkClosed, OSError) as error:
            raise StepFailed(f"link error: {error}") from None

    async def _operate(self, request: dict[str, object], line: str | None = None) -> None:
        """An operator's request to the switch; to a cluster: to the node serving ``line``, or
        to every node."""
        if self.cluster is None:
            admins = [self.admin]
        else:
            admins = [self.cluster.admin(line)] if line else self.cluster.admins()
        if None in admins or not admins:
            raise StepFailed("operator steps need the switch's admin socket (--data-dir)")
        try:
            for admin in admins:
                assert admin is not None
                await admin_request(admin, request)
        except AdminError as error:
            raise StepFailed(str(error)) from None

    def _address(self, ori: str) -> tuple[str, int]:
        return self.cluster.address(ori) if self.cluster else (self.host, self.port)

    def _terminal(self, ori: str) -> Terminal:
        if ori not in self.terminals:
            raise StepFailed(f"{ori} is not logged on (add a step: logon {ori})")
        return self.terminals[ori]

    async def _receive(self, terminal: Terminal, within_s: float, expected: str) -> Delivery:
        try:
            return await terminal.receive(timeout=within_s)
        except TimeoutError:
            raise StepFailed(
                f"nothing arrived within {within_s:g} s; expected:\n{expected.replace(chr(13), '')}"
            ) from None

    async def _expect(self, step: Expect) -> None:
        terminal = self._terminal(step.ori)
        if not step.unordered:
            for expected in step.messages:
                received = (await self._receive(terminal, step.within_s, expected)).raw.decode()
                if not matches(expected, received):
                    raise StepFailed(diff(expected, received))
            return
        received_all = [
            (await self._receive(terminal, step.within_s, expected)).raw.decode()
            for expected in step.messages
        ]
        waiting = list(step.messages)
        unmatched = []
        for received in received_all:
            fit = next((e for e in waiting if matches(e, received)), None)
            if fit is None:
                unmatched.append(received)
            else:
                waiting.remove(fit)
        if unmatched:
            raise StepFailed("\n".join(diff(e, r) for e, r in zip(waiting, unmatched, strict=True)))


@contextlib.asynccontextmanager
async def embedded(data_dir: Path | None = None) -> AsyncIterator[SwitchServer]:
    """A fresh switch (free port, clock pinned to 2026-01-01 08:00) and a LESC whose store
    holds the test identities, for as long as the ``async with`` lasts."""
    with tempfile.TemporaryDirectory() as scratch:
        base = data_dir or Path(scratch)
        switch = SwitchServer(Config(port=0, data_dir=base / "switch", clock=PINNED_CLOCK))
        await switch.start()
        lesc = DaemonConfig(
            port=switch.port,
            db=base / "lesc.sqlite3",
            delay=NO_DELAY,
            seed=1,
            clock=PINNED_CLOCK,
        )
        try:
            async with running(lesc):
                yield switch
        finally:
            await switch.stop()


async def replay(
    transcript: Transcript,
    address: tuple[str, int] | None = None,
    admin: Path | None = None,
    cluster: ClusterMap | None = None,
) -> TranscriptResult:
    """Run one transcript: against ``address`` (operator steps through the ``admin`` socket),
    against running switch nodes (``cluster``), or a fresh embedded switch + LESC."""
    if cluster is not None:
        return await Player("", 0, cluster=cluster).run(transcript)
    if address is not None:
        return await Player(*address, admin).run(transcript)
    async with embedded() as switch:
        player = Player(switch.config.host, switch.port, switch.config.admin_path)
        return await player.run(transcript)
