"""What a forward carries, as JSON: an input for the receiving node to route to its own lines
(``in``), or a message for it to deliver to one of its terminals (``dl``: to that session;
``to``: to the ORI's session, else its line's control terminal, else its queue)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from nlets_sim.switch.state import Outgoing, Received


def input_body(received: Received, seq: int) -> str:
    return json.dumps(
        {
            "k": "in",
            "logon": received.logon_ori,
            "seq": seq,
            "raw": received.raw.decode("latin-1"),
            "at": received.at.isoformat(),
            "num": received.input_number,
        },
        separators=(",", ":"),
    )


def delivery_body(
    kind: str,
    session_ori: str,
    addressed: str,
    outgoing: Outgoing,
    *,
    expires: datetime | None,
    notify: str | None,
) -> str:
    return json.dumps(
        {
            "k": kind,
            "session": session_ori,
            "to": addressed,
            "mke": outgoing.mke,
            "from": outgoing.originator,
            "control": outgoing.control,
            "text": outgoing.text,
            "at": outgoing.received_at.isoformat(),
            "num": outgoing.input_number,
            "expires": expires.isoformat() if expires is not None else None,
            "notify": notify,
        },
        separators=(",", ":"),
    )


def received_of(body: dict[str, Any]) -> tuple[Received, int]:
    at = datetime.fromisoformat(body["at"])
    raw = str(body["raw"]).encode("latin-1")
    return Received(str(body["logon"]), raw, at, int(body["num"])), int(body["seq"])


def outgoing_of(body: dict[str, Any]) -> Outgoing:
    return Outgoing(
        str(body["mke"]),
        str(body["from"]),
        body["control"],
        str(body["text"]),
        datetime.fromisoformat(body["at"]),
        int(body["num"]),
        None,
    )


def expiry_of(body: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(body["expires"]) if body.get("expires") else None
