"""The switch's door: what a logon goes through before the switch core decides it.

A locked-out ORI or address (``logon_guard``) is refused with PROTOCOL's LJ text and no key
check; with client certificates required, a certificate for another ORI is refused
(``tls_names``); a key that is slow to check (scrypt) is checked in a worker thread while the
frames behind the LI wait; then ``Switch.logon`` accepts or refuses, and a refusal is counted
towards a lockout and logged (bounded, ``refusal_log``).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import structlog

from nlets_sim.link.protocol import BAD_KEY, NOT_ALLOWED, LinkState, LogonRequested
from nlets_sim.switch.config import Config
from nlets_sim.switch.core import Switch
from nlets_sim.switch.key_hash import quick_to_verify, verify_key
from nlets_sim.switch.logon_guard import Limit, LogonGuard
from nlets_sim.switch.refusal_log import RefusalLog
from nlets_sim.switch.shell import Peer
from nlets_sim.switch.tls_names import certificate_allows

log = structlog.get_logger("nlets_sim.server")


class Door:
    def __init__(
        self,
        config: Config,
        switch: Switch,
        refusals: RefusalLog,
        displacing: Callable[[str], None],
    ) -> None:
        self.config = config
        self.switch = switch
        self.refusals = refusals
        self._displacing = displacing  # told before a logon takes an ORI's session over
        window, lockout = config.logon_failure_window_s, config.logon_lockout_s
        self.guard = LogonGuard(
            Limit(config.logon_failures_per_ori, window, lockout),
            Limit(config.logon_failures_per_address, window, lockout),
        )
        self.clock: Callable[[], float] = time.monotonic  # the guard's clock; tests pin it
        # slow (scrypt) key checks run here, off the event loop: two at a time, GIL released
        self.key_checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="key-check")

    def logon(self, connection: Peer, request: LogonRequested, now: datetime) -> None:
        switch = self.switch
        moment = self.clock()
        locked = self.guard.locked(request.ori, connection.address, moment)
        refusal: str | None
        if locked:  # refused without a key check: a guess gets no answer and costs nothing
            refusal = switch.logon_refusal(request, check_key=False) or BAD_KEY
        elif not certificate_allows(switch.directory, connection.certificate, request.ori):
            refusal = NOT_ALLOWED
        else:
            refusal = switch.logon_refusal(request, check_key=False)
            stored = switch.directory.agencies[request.ori].key_hash if refusal is None else ""
            if refusal is None and not quick_to_verify(stored, request.key):
                future = asyncio.get_running_loop().run_in_executor(
                    self.key_checks, verify_key, stored, request.key
                )
                future.add_done_callback(functools.partial(self._key_checked, connection, request))
                return
            if refusal is None and not switch.directory.key_matches(request.ori, request.key):
                refusal = BAD_KEY
        self._decide(connection, request, refusal, now, locked=locked, moment=moment)

    def _key_checked(
        self, connection: Peer, request: LogonRequested, future: asyncio.Future[bool]
    ) -> None:
        if connection.link.state is not LinkState.LOGGING_ON:
            return  # the connection ended while its key was checked
        good = not future.cancelled() and future.exception() is None and future.result()
        now = self.config.now()
        refusal = None if good else BAD_KEY
        self._decide(connection, request, refusal, now, locked=False, moment=self.clock())
        connection.logon_decided(now)

    def _decide(
        self,
        connection: Peer,
        request: LogonRequested,
        refusal: str | None,
        now: datetime,
        *,
        locked: bool,
        moment: float,
    ) -> None:
        """Log on (``refusal`` None: every check passed) or refuse, and count the refusal."""
        if refusal is None:
            self._displacing(request.ori)
        if self.switch.logon(connection.conn, request, now, refusal):  # a good key is remembered
            connection.link.activate(request.ori, asyncio.get_running_loop().time())
            self.guard.succeeded(request.ori)
            log.info("logon", ori=request.ori, peer=connection.peer, reset=request.reset)
            return
        connection.link.close()
        if refusal is None:  # the key was good: the journal cannot read this ORI's queue
            damaged = self.switch.unreadable.get(request.ori)
            self.refusals.log("logon refused", ori=request.ori, journal_damaged=damaged)
            return
        self.refusals.log("logon refused", ori=request.ori, peer=connection.peer, locked_out=locked)
        if not locked:
            known = request.ori if request.ori in self.switch.directory.agencies else None
            for lockout in self.guard.failed(known, connection.address, moment):
                self.refusals.log("logon lockout", of=lockout, seconds=self.config.logon_lockout_s)

    def status(self) -> dict[str, object]:
        return self.guard.status(self.clock())

    def close(self) -> None:
        self.key_checks.shutdown(wait=True, cancel_futures=True)  # at most two checks to finish
