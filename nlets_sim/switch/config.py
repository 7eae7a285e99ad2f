"""The switch's configuration: one frozen object, from defaults, a TOML file and CLI flags."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from formats.frames import DEFAULT_MAX_PAYLOAD
from nlets_sim.console.config_file import checked_values, merged, read_toml
from nlets_sim.link.protocol import DEFAULT_HEARTBEAT_S, DEFAULT_LOGON_TIMEOUT_S, DEFAULT_WINDOW
from nlets_sim.link.simclock import SimulatedClock

DEFAULT_PORT = 7700
PINNED_CLOCK = datetime(2026, 1, 1, 8, 0)  # noqa: DTZ001 - the pinned switch-local time of tests


def default_directory() -> Path:
    """The directory shipped with the project (``fixtures/directory.toml``)."""
    return Path(str(resources.files("fixtures") / "directory.toml"))


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: any free port
    data_dir: Path = Path("data/switch")  # journal.sqlite3 and admin.sock live here
    directory: Path | None = None  # None: the shipped default directory
    tz: str = "UTC"  # the zone of output-header times
    clock: datetime | None = None  # a fixed switch-local time, for tests; None: real time
    # With clock: it runs from there at this many simulated seconds per second (simclock.py);
    # None: the clock stays pinned.
    clock_rate: float | None = None
    clock_origin: float | None = None  # Unix time at which the running clock reads ``clock``
    heartbeat_s: int = DEFAULT_HEARTBEAT_S  # HBI sent in LA; silence of 3 x HBI closes the link
    logon_timeout_s: float = DEFAULT_LOGON_TIMEOUT_S  # time allowed for the first frame (LI)
    max_frame_bytes: int = DEFAULT_MAX_PAYLOAD  # largest DT payload accepted
    window: int = DEFAULT_WINDOW  # un-acknowledged DT frames to one terminal
    held_per_ori: int = 2_000  # deliveries held in memory for a logged-on ORI; more wait in
    # the journal and are read back as its window frees
    wal_limit_bytes: int = 64 << 20  # a WAL above this gets a TRUNCATE checkpoint
    retention_s: int = 7 * 86_400  # messages older than this leave the journal (0: kept)
    retention_bytes: int = 4 << 30  # above this journal size the oldest leave too (0: no cap)
    # Retention never removes a message with a delivery still queued or unacknowledged.
    store_expiry_s: int = 72 * 3600  # how long a stored message waits for its destination
    faults: tuple[dict[str, Any], ...] = ()  # fault rules ([[fault]] tables), see faults.py
    tls_cert: Path | None = None  # PEM server certificate (chain): TLS on when given
    tls_key: Path | None = None  # its PEM private key (default: in tls_cert)
    tls_client_ca: Path | None = None  # PEM CA(s): terminals must present a certificate it signed
    logon_failures_per_ori: int = 5  # failed logons of one ORI that lock it out ...
    logon_failures_per_address: int = 20  # ... or of one address, for any ORIs ...
    logon_failure_window_s: float = 300.0  # ... when they fall within this many seconds
    logon_lockout_s: float = 900.0  # how long a lockout lasts (logons get LJ BAD KEY)
    refusal_log_lines: int = 10  # log lines for refused peers (bad frames, logons) per period
    refusal_log_period_s: float = 10.0  # ... the period; the rest are counted, not written
    # The bus: a broker URL (mqtt:// or mqtts://, credentials in it or in the environment)
    mqtt: str | None = dataclasses.field(default=None, repr=False)  # None: no events
    mqtt_ca: Path | None = None  # PEM CA of an mqtts:// broker (default: the system's)
    node: str = "main"  # this switch's name on the bus (topics, client id)
    events_with_text: bool = False  # publish names, DOBs, identifiers and message text too
    log_with_text: bool = False  # log them too (the log takes them out otherwise)
    event_buffer: int = 100_000  # events held while the broker is away; beyond, dropped
    # line code -> the number its next message gets, set at start (to reproduce recorded traffic)
    input_counters: Mapping[str, int] = field(default_factory=dict)  # sent from the line
    output_counters: Mapping[str, int] = field(default_factory=dict)  # delivered to the line
    cluster: Path | None = None  # a cluster file: this switch is the node ``node`` of it

    def tls_context(self) -> ssl.SSLContext | None:
        """The server's TLS context, or None for plain TCP."""
        if self.tls_cert is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.tls_cert, self.tls_key)
        if self.tls_client_ca is not None:
            context.load_verify_locations(self.tls_client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    @property
    def admin_path(self) -> Path:
        return self.data_dir / "admin.sock"

    @property
    def directory_path(self) -> Path:
        return self.directory or default_directory()

    @property
    def store_expiry(self) -> timedelta:
        return timedelta(seconds=self.store_expiry_s)

    def zone_abbreviation(self, zone: str | None = None) -> str:
        """The abbreviation, at the switch's time now, of ``zone`` (an IANA name such as
        ``America/New_York``; default: the switch's ``tz``): ``UTC``, ``EST``, ``EDT``. A
        ``zone`` that is not an IANA name comes back as given (``PST``)."""
        zone = zone or self.tz
        try:
            info = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            return zone
        return self.now().replace(tzinfo=info).tzname() or zone

    def __post_init__(self) -> None:
        if self.clock_rate is not None and self.clock_origin is None:  # runs from now
            object.__setattr__(self, "clock_origin", time.time())

    def now(self) -> datetime:
        """Switch-local time without zone, to the second."""
        if self.clock is not None:
            if self.clock_rate is None or self.clock_origin is None:
                return self.clock
            moment = SimulatedClock(self.clock, self.clock_rate, self.clock_origin).now()
            return moment.replace(microsecond=0)
        return datetime.now(ZoneInfo(self.tz)).replace(tzinfo=None, microsecond=0)


_COUNTERS = ("input_counters", "output_counters")
_LINE = re.compile(r"[A-Z0-9]{2}")
COUNTER_MAX = 99_999


class ConfigError(ValueError):
    """A configuration value the switch cannot use; the text says which and why."""


def parse_counter(text: str) -> tuple[str, int]:
    """``LINE=N`` (``AZ=1231``): the line and the number its next message gets."""
    line, equals, number = text.partition("=")
    if not equals or not number.isdigit():
        raise ConfigError(f"counter {text!r} is not LINE=NUMBER, e.g. AZ=1231")
    return line, int(number)


def checked_counters(name: str, value: object) -> dict[str, int]:
    """A table of line code -> next number, each 1 to 99999."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a table of line code = number")
    counters: dict[str, int] = {}
    for line, number in value.items():
        if not isinstance(line, str) or not _LINE.fullmatch(line):
            raise ConfigError(f"{name}: {line!r} is not a 2-character line code")
        if isinstance(number, bool) or not isinstance(number, int):
            raise ConfigError(f"{name}: {line} = {number!r} is not a number")
        if not 1 <= number <= COUNTER_MAX:
            raise ConfigError(f"{name}: {line} = {number} is not between 1 and {COUNTER_MAX}")
        counters[line] = number
    return counters


def load_config(path: Path | None, overrides: dict[str, Any]) -> Config:
    """Defaults, then the file's ``[switch]`` table (or top level), then non-None overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        data = read_toml(path)
        faults = data.pop("fault", [])
        values.update(data.get("switch", data))
        values["faults"] = tuple(faults)
    values = merged(values, overrides)
    for key in _COUNTERS:
        if key in values:
            values[key] = checked_counters(key, values[key])
    if values.get("clock_rate") is not None and values.get("clock") is None:
        raise ValueError("a clock rate needs a clock to start from (--clock START)")
    values = checked_values(Config, values)
    try:
        ZoneInfo(values.get("tz", "UTC"))  # fails early on an unknown zone
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"tz: unknown time zone {values['tz']!r}: an IANA name such as UTC or Europe/Paris"
        ) from None
    return Config(**values)


class DataDirInUse(RuntimeError):
    """Another switch runs on this data directory."""


def lock_data_dir(data_dir: Path) -> IO[bytes]:
    """Create the data directory and hold its lock file for as long as the returned file is
    open: two switches must never share a journal."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if data_dir.stat().st_uid == os.getuid():
        data_dir.chmod(0o700)  # owner-only, also when an older switch made it
    handle = os.fdopen(os.open(data_dir / "switch.lock", os.O_CREAT | os.O_WRONLY, 0o600), "wb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirInUse(f"another switch is running on data directory {data_dir}") from None
    return handle
