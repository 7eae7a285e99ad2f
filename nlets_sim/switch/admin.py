"""The switch's local admin interface: JSON lines over a Unix socket in the data directory.

Requests are one JSON object per line with a ``command``; each gets one JSON object back.
``status`` reports sessions, queues and counters; ``remove`` sets or clears an operator
"remove" status for a line and message key (SM ``.04.``); ``outage`` sends the operator's
status message (``until`` HHMM and ``tz``, or ``end``) to every line's control terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from formats.notices import IN_SERVICE, out_of_service
from nlets_sim.switch.faults import make_fault
from nlets_sim.switch.shell import SwitchShell


class AdminError(RuntimeError):
    """The admin socket is not there, or the switch refused the request."""


class AdminServer:
    def __init__(self, server: SwitchShell) -> None:
        self._switch_server = server
        self._server: asyncio.AbstractServer | None = None
        self._path: Path | None = None

    async def start(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self._path = path
        self._server = await asyncio.start_unix_server(self._handle, path=str(path))
        path.chmod(0o600)  # only the switch's owner may operate it

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._path is not None:
            self._path.unlink(missing_ok=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.closing(writer):
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    reply = self.answer(request)
                except (ValueError, KeyError, TypeError) as error:  # FaultError is a ValueError
                    reply = {"ok": False, "error": str(error)}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        server = self._switch_server
        match request.get("command"):
            case "status":
                return {"ok": True, **server.status()}
            case "remove":
                line, mke, on = str(request["line"]), str(request["mke"]), bool(request["on"])
                if line not in server.switch.directory.lines:
                    return {"ok": False, "error": f"unknown line {line}"}
                server.switch.set_removed(line, mke, on)
                server.schedule_flush()
                return {"ok": True, "removed": sorted(map(list, server.switch.removed))}
            case "outage":
                if request.get("end"):
                    text = IN_SERVICE
                else:
                    zone = server.config.zone_abbreviation(request.get("tz"))
                    text = out_of_service(str(request["until"]), zone)
                sent = server.switch.operator_status(text, server.config.now())
                server.schedule_flush()
                return {"ok": True, "text": text, "control_terminals": sent}
            case "fault-add":
                fault = make_fault(dict(request["fault"]))
                server.switch.faults.add(fault)
                return {"ok": True, "faults": _faults(server)}
            case "fault-list":
                return {"ok": True, "faults": _faults(server)}
            case "fault-remove":
                server.switch.faults.remove(int(request["id"]))
                return {"ok": True, "faults": _faults(server)}
            case "fault-clear":
                server.switch.faults.clear()
                return {"ok": True, "faults": []}
            case other:
                return {"ok": False, "error": f"unknown command {other!r}"}


async def admin_request(path: Path, request: dict[str, Any]) -> dict[str, Any]:
    """Send one request to a running switch's admin socket and return its answer."""
    try:
        reader, writer = await asyncio.open_unix_connection(str(path))
    except OSError as error:
        raise AdminError(f"no switch is running with admin socket {path}: {error}") from None
    with contextlib.closing(writer):
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        answer: dict[str, Any] = json.loads(await reader.readline())
    if not answer.get("ok"):
        raise AdminError(str(answer.get("error")))
    return answer


def _faults(server: SwitchShell) -> list[dict[str, Any]]:
    return [fault.describe() for fault in server.switch.faults.faults]
