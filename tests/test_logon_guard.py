"""Logon throttling (issue 13): failed logons per ORI and per address lock them out for a
while; the LJ text stays PROTOCOL's. The clock is pinned: no sleeps."""

from __future__ import annotations

import dataclasses

from nlets_sim.link.terminal import LogonRejected, Terminal
from nlets_sim.switch.admin import admin_request
from nlets_sim.switch.config import Config
from nlets_sim.switch.logon_guard import Limit, LogonGuard
from nlets_sim.switch.server import SwitchServer

PER_ORI = Limit(failures=3, window_s=60.0, lockout_s=600.0)
PER_ADDRESS = Limit(failures=5, window_s=60.0, lockout_s=600.0)


def test_failures_within_the_window_lock_the_ori_out_for_the_lockout() -> None:
    guard = LogonGuard(PER_ORI, PER_ADDRESS)
    assert guard.failed("NY0303000", "10.0.0.1", 0.0) == []
    assert guard.failed("NY0303000", "10.0.0.2", 59.0) == []
    assert guard.failed("NY0303000", "10.0.0.3", 59.5) == ["ori NY0303000"]
    assert guard.locked("NY0303000", "10.0.0.9", 60.0)
    assert not guard.locked("NY0010000", "10.0.0.9", 60.0)
    assert guard.status(60.0)["locked_oris"] == {"NY0303000": 599.5}
    assert guard.locked("NY0303000", "10.0.0.9", 659.4)
    assert not guard.locked("NY0303000", "10.0.0.9", 659.5)


def test_failures_spread_wider_than_the_window_never_lock() -> None:
    guard = LogonGuard(PER_ORI, PER_ADDRESS)
    for minute in range(10):
        assert guard.failed("NY0303000", f"10.0.0.{minute}", minute * 31.0) == []
    assert not guard.locked("NY0303000", "10.0.0.1", 310.0)


def test_an_address_that_fails_for_many_oris_is_locked_out() -> None:
    guard = LogonGuard(PER_ORI, PER_ADDRESS)
    started = [guard.failed(None, "10.0.0.1", float(n)) for n in range(5)]
    assert started == [[], [], [], [], ["address 10.0.0.1"]]
    assert guard.locked("NJ0010000", "10.0.0.1", 5.0)
    assert not guard.locked("NJ0010000", "10.0.0.2", 5.0)
    assert guard.status(5.0)["locked_addresses"] == {"10.0.0.1": 599.0}


def test_a_good_logon_clears_its_oris_failures() -> None:
    guard = LogonGuard(PER_ORI, PER_ADDRESS)
    guard.failed("NY0303000", "10.0.0.1", 0.0)
    guard.failed("NY0303000", "10.0.0.1", 1.0)
    guard.succeeded("NY0303000")
    assert guard.failed("NY0303000", "10.0.0.1", 2.0) == []
    assert not guard.locked("NY0303000", "10.0.0.1", 2.0)


async def _reason(switch: SwitchServer, ori: str, key: str) -> str | None:
    terminal = Terminal("127.0.0.1", switch.port, ori, key)
    try:
        await terminal.connect(timeout=5)
    except LogonRejected as rejected:
        return rejected.reason
    await terminal.close()
    return None


async def test_the_switch_locks_out_a_guessed_ori_and_shows_it_in_status(
    nlets_config: Config,
) -> None:
    config = dataclasses.replace(
        nlets_config, logon_failures_per_ori=3, logon_failure_window_s=60, logon_lockout_s=600
    )
    switch = SwitchServer(config)
    now = [1000.0]
    switch.door.clock = lambda: now[0]
    await switch.start()
    try:
        guesses = [await _reason(switch, "NY0303000", f"GUESS{n}") for n in range(3)]
        assert guesses == ["BAD KEY"] * 3
        assert await _reason(switch, "NY0303000", "S3CRET") == "BAD KEY"  # locked out
        assert await _reason(switch, "NJ0010000", "K-NJ0010000") is None  # others are not
        status = await admin_request(config.admin_path, {"command": "status"})
        assert status["logons"] == {
            "failures": 3,
            "refused_while_locked": 1,
            "locked_oris": {"NY0303000": 600.0},
            "locked_addresses": {},
        }
        now[0] += 600.0
        assert await _reason(switch, "NY0303000", "S3CRET") is None
    finally:
        await switch.stop()


async def test_an_address_guessing_many_oris_is_locked_out(nlets_config: Config) -> None:
    config = dataclasses.replace(nlets_config, logon_failures_per_address=4)
    switch = SwitchServer(config)
    switch.door.clock = lambda: 50.0
    await switch.start()
    try:
        tries = [("ZZ0000000", "X"), ("NY0303000", "X"), ("NJ0010000", "X"), ("ZZ0000001", "X")]
        assert [await _reason(switch, ori, key) for ori, key in tries] == [
            "UNKNOWN ORI",
            "BAD KEY",
            "BAD KEY",
            "UNKNOWN ORI",
        ]
        assert await _reason(switch, "NY0303000", "S3CRET") == "BAD KEY"
        assert await _reason(switch, "ZZ0000000", "X") == "UNKNOWN ORI"
        assert switch.status()["logons"]["locked_addresses"] == {"127.0.0.1": 900.0}
    finally:
        await switch.stop()
