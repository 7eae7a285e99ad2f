"""An I/O error under the journal that is not a full disk: SQLite's writes to the WAL fail
(``disk I/O error``) and the switch refuses what it cannot store with ``NK``, acknowledges
nothing it did not commit, keeps its links and heartbeats, says so in ``status``, and takes
traffic again by itself when the writes go through. Every message is counted by the number
in its text: nothing lost, nothing twice.

The error is real, injected under SQLite in the switch's own process: the file descriptors
open on the journal's WAL are replaced by descriptors of the same file opened read-only, so
SQLite's ``pwrite`` fails with ``EBADF`` (SQLITE_IOERR_WRITE); putting the saved descriptors
back ends the fault. (A read-only remount is refused while the file is open for writing, and
a device-mapper ``error`` target needs devices this machine's tests cannot count on.)"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from nlets_sim.link.terminal import LinkClosed, Terminal
from nlets_sim.switch.config import Config
from nlets_sim.switch.server import SwitchServer
from tests.test_disk_full import heartbeat_after_logon, message, number_of, settle


@contextlib.contextmanager
def writes_fail(path: Path) -> Iterator[int]:
    """Every descriptor this process has open on ``path`` refuses writes (``EBADF``) for the
    length of a ``with``; yields how many there are."""
    opened = [
        int(link.name)
        for link in Path("/proc/self/fd").iterdir()
        if os.path.realpath(link) == str(path.resolve())
    ]
    saved = {fd: os.dup(fd) for fd in opened}
    read_only = os.open(path, os.O_RDONLY)
    try:
        for fd in opened:
            os.dup2(read_only, fd)
        yield len(opened)
    finally:
        for fd, original in saved.items():
            os.dup2(original, fd)
            os.close(original)
        os.close(read_only)


async def test_io_error_refuses_keeps_links_and_recovers_losing_nothing(
    nlets_config: Config,
) -> None:
    server = SwitchServer(replace(nlets_config, heartbeat_s=1))
    await server.start()
    receiver = Terminal("127.0.0.1", server.port, "NJNLETS00", "K-NJNLETS00")
    sender = Terminal("127.0.0.1", server.port, "NY0303000", "S3CRET")
    texts: list[str] = []
    try:
        await receiver.connect()
        await sender.connect()
        sender.post(*(message(n) for n in range(20)))
        assert await settle(sender)
        assert server.status()["journal"]["ok"] is True

        wal = server.config.journal_path.with_name(server.config.journal_path.name + "-wal")
        with writes_fail(wal) as descriptors:
            assert descriptors >= 1
            sender.post(*(message(n) for n in range(20, 40)))
            assert not await settle(sender)  # refused: NK naming the error, then a close
            assert "SWITCH CANNOT STORE MESSAGES NOW (DISK I/O ERROR)" in (
                sender.closed_reason or ""
            )
            await sender.abort()
            journal = server.status()["journal"]
            assert (journal["ok"], journal["error"]) == (False, "disk I/O error")
            assert await heartbeat_after_logon(server.port, "CTNLETS00") == b"HB"
            assert receiver.closed_reason is None  # the receiver's link stays up
            server.check_timers(0.0)  # the probe finds the writes still failing
            assert server.status()["journal"]["ok"] is False

        for _ in range(20):  # writes go through again: the refused messages are taken, once
            with contextlib.suppress(LinkClosed):
                await sender.connect()
                if await settle(sender):
                    break
            await sender.abort()
        sender.post(*(message(n) for n in range(40, 60)))
        assert await settle(sender)
        while len(texts) < 60:
            texts.append((await receiver.receive(timeout=30)).message.text)
        assert sorted(map(number_of, texts)) == list(range(60))
        assert server.status()["journal"]["ok"] is True
    finally:
        await sender.abort()
        await receiver.abort()
        await server.stop()
