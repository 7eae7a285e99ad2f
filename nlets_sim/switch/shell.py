"""What the server shell's parts (the admin socket, the door, a cluster node) see of the
server and of one connection. Protocols, so that the parts do not import ``server.py``, which
composes them: imports point one way."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from nlets_sim.link.protocol import SwitchLink
from nlets_sim.switch.config import Config
from nlets_sim.switch.core import Switch
from nlets_sim.switch.journal import Journal


class SwitchShell(Protocol):
    """The running server: its settings, core and journal, and a flush to ask for."""

    config: Config
    switch: Switch
    journal: Journal

    def schedule_flush(self) -> None: ...

    def status(self) -> dict[str, Any]: ...


class Peer(Protocol):
    """One terminal's connection, as the door deciding its logon sees it."""

    conn: int
    link: SwitchLink
    peer: str  # host:port, for the log
    address: str  # the IP address, for logon throttling
    certificate: frozenset[str] | None  # the client certificate's names, if required

    def logon_decided(self, now: datetime) -> None: ...
