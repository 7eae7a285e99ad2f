"""Events: what the switch and the LESC tell the bus, and where on the bus each one goes.

The cores emit ``Event`` values (a kind, the line it concerns, fields); the publisher numbers
and time-stamps them and carries them, several per MQTT publish, on the topic tree

    nlets/v1/<node>/<kind>/<line>

so that a subscriber filters by node, kind and line with MQTT wildcards
(``nlets/v1/+/delivered/NY``, ``nlets/v1/east/#``). Each publish's payload is a JSON object
``{"v": 1, "events": [...]}``; each event carries ``v``, ``node``, ``kind``, ``line``, ``n``
(the publisher's running number: a gap is an event it dropped) and ``at`` (switch-local time).
``docs/events.schema.json`` is the contract; ``v`` changes when a field changes meaning.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

VERSION = 1
TOPIC_ROOT = f"nlets/v{VERSION}"

SWITCH_KINDS = (
    "accepted",  # a message passed the switch's checks and was journaled
    "rejected",  # answered with ER (or an injected SM); ``code`` is the numbered line
    "delivered",  # sent to the logged-on terminal (or its line's control terminal)
    "stored",  # queued for a terminal that is not logged on
    "forwarded",  # a stored message sent when its terminal logged on
    "expired",  # a stored message that waited too long (SM .07. to its sender)
    "logon",
    "logoff",
    "takeover",  # a second logon of an ORI displaced the first
    "closed",  # a link closed, with the reason
    "removed",  # an operator put a line in remove status for a key
    "restored",  # ... and took it out again
)
LESC_KINDS = (
    "query-answered",  # IAR RSP or REJ: res, fap, purpose, state, elapsed_ms
    "detainer-lodged",
    "lead-referred",
    "hit-confirmation-answered",  # YR: con, on_time against the YQ's window
)
KINDS = SWITCH_KINDS + LESC_KINDS
ENVELOPE = ("v", "node", "kind", "line", "n", "at")

# Fields that may hold names, dates of birth, identifiers or message text: left out of what
# is published unless the operator asks for them (--events-with-text).
PRIVATE_FIELDS = frozenset({"text", "subject", "dob", "nic"})


@dataclass(slots=True)
class Event:
    kind: str
    line: str  # the line code the event concerns (the topic's last level)
    fields: dict[str, Any]


def check_node_name(node: str) -> str:
    """``node``, if it can be a topic level and a client id: letters, digits, ``-`` and ``_``."""
    if not node or len(node) > 32 or not node.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"node name {node!r} must be 1-32 letters, digits, - or _")
    return node


def topic(node: str, kind: str, line: str) -> str:
    return f"{TOPIC_ROOT}/{node}/{kind}/{line or '-'}"


def subscription(node: str | None = None, kind: str | None = None, line: str | None = None) -> str:
    """The topic filter for one node, kind and/or line (``None``: any)."""
    return f"{TOPIC_ROOT}/{node or '+'}/{kind or '+'}/{line or '+'}"


def stamped(
    event: Event, node: str, number: int, at: str, *, with_text: bool = False
) -> dict[str, Any]:
    """An event as published, private fields left out: its own ``fields``, completed (the
    event is not used again; the switch makes one per event at full rate, so no copy)."""
    fields = event.fields
    if not with_text and not PRIVATE_FIELDS.isdisjoint(fields):
        for key in PRIVATE_FIELDS:
            fields.pop(key, None)
    fields["v"] = VERSION
    fields["node"] = node
    fields["kind"] = event.kind
    fields["line"] = event.line
    fields["n"] = number
    fields["at"] = at
    return fields


def in_order(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its envelope fields first, for people to read."""
    return {**{key: event[key] for key in ENVELOPE if key in event}, **event}


def payload(events: list[dict[str, Any]]) -> bytes:
    """One MQTT publish carrying ``events`` (all of one topic)."""
    return orjson.dumps({"v": VERSION, "events": events})


def unpack(data: bytes) -> Iterator[dict[str, Any]]:
    """The events of one publish; a payload that is not ours yields nothing."""
    try:
        body = json.loads(data)
    except ValueError:
        return
    if isinstance(body, dict) and body.get("v") == VERSION:
        events = body.get("events")
        if isinstance(events, list):
            yield from (event for event in events if isinstance(event, dict))


def by_topic(node: str, events: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Stamped events grouped by the topic each goes to, in order within each topic."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in events:
        key = (event["kind"], event["line"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = []
        group.append(event)
    return {topic(node, kind, line): group for (kind, line), group in groups.items()}
