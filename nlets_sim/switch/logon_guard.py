"""Logon throttling: failed logons counted per ORI and per address, and lockouts.

Pure: the server passes the time (``time.monotonic`` seconds) to every call, so tests pin it.
``failures`` failed logons within ``window_s`` lock the ORI (or the address) out for
``lockout_s``. While locked out, a logon is refused with the text PROTOCOL gives for it
without checking the key (``BAD KEY`` for a known ORI), so a guess costs neither a key check
nor a chance. A successful logon clears its ORI's failures. Only ORIs of the directory are
counted per ORI; entries that have aged out are dropped, so memory stays bounded.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

_PRUNE_AT = 4096  # tracked ORIs or addresses before old entries are dropped


@dataclass(frozen=True, slots=True)
class Limit:
    failures: int  # failed logons that lock out ...
    window_s: float  # ... when they fall within this many seconds
    lockout_s: float  # how long the lockout lasts


@dataclass(slots=True)
class _Record:
    failed_at: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class _Counter:
    """Failures and lockouts of one kind of name (ORIs, or addresses)."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.records: dict[str, _Record] = {}

    def locked(self, name: str, now: float) -> bool:
        record = self.records.get(name)
        return record is not None and record.locked_until > now

    def failed(self, name: str, now: float) -> bool:
        """Count a failure; True when it starts a lockout."""
        if len(self.records) >= _PRUNE_AT:
            self._prune(now)
        record = self.records.setdefault(name, _Record())
        record.failed_at.append(now)
        while record.failed_at and record.failed_at[0] <= now - self.limit.window_s:
            record.failed_at.popleft()
        if len(record.failed_at) >= self.limit.failures and record.locked_until <= now:
            record.locked_until = now + self.limit.lockout_s
            record.failed_at.clear()
            return True
        return False

    def locked_out(self, now: float) -> dict[str, float]:
        """Each name locked out, with the seconds its lockout has left."""
        return {
            name: round(record.locked_until - now, 1)
            for name, record in sorted(self.records.items())
            if record.locked_until > now
        }

    def _prune(self, now: float) -> None:
        horizon = now - self.limit.window_s
        for name in [
            name
            for name, record in self.records.items()
            if record.locked_until <= now
            and (not record.failed_at or record.failed_at[-1] <= horizon)
        ]:
            del self.records[name]


class LogonGuard:
    def __init__(self, per_ori: Limit, per_address: Limit) -> None:
        self._oris = _Counter(per_ori)
        self._addresses = _Counter(per_address)
        self.failures = 0  # failed logons counted since start
        self.refused_locked = 0  # logons refused because of a lockout

    def locked(self, ori: str, address: str, now: float) -> bool:
        """True when the ORI or the address is locked out (the logon is then refused)."""
        locked = self._oris.locked(ori, now) or self._addresses.locked(address, now)
        self.refused_locked += locked
        return locked

    def failed(self, ori: str | None, address: str, now: float) -> list[str]:
        """Count a failed logon (``ori`` None: not an ORI of the directory); returns the
        lockouts it starts, as ``ori <ORI>`` / ``address <address>``."""
        self.failures += 1
        started = []
        if ori is not None and self._oris.failed(ori, now):
            started.append(f"ori {ori}")
        if self._addresses.failed(address, now):
            started.append(f"address {address}")
        return started

    def succeeded(self, ori: str) -> None:
        self._oris.records.pop(ori, None)

    def status(self, now: float) -> dict[str, object]:
        return {
            "failures": self.failures,
            "refused_while_locked": self.refused_locked,
            "locked_oris": self._oris.locked_out(now),
            "locked_addresses": self._addresses.locked_out(now),
        }
