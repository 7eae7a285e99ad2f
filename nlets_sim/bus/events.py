"""Events: what the switch and the LESC tell the bus, and where on the bus each one goes.

The cores emit events as ``(kind, line, fields)`` tuples (the line is the code the event
concerns); the publisher numbers and time-stamps them and carries them, several per MQTT
publish, on the topic tree

    nlets/v2/<node>/<kind>/<line>

so that a subscriber filters by node, kind and line with MQTT wildcards
(``nlets/v2/+/delivered/NY``, ``nlets/v2/east/#``). Each publish's payload is a JSON object
``{"v": 2, "node": ..., "kind": ..., "line": ..., "events": [...]}``: the topic's levels once,
then its events, each with ``n`` (the publisher's running number: a gap is an event it
dropped) and ``at`` (switch-local time) and its own fields. ``docs/events.schema.json`` is the
contract; ``v`` changes when a field changes meaning or moves (version 1 repeated ``v``,
``node``, ``kind`` and ``line`` in every event).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import orjson

VERSION = 2
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
ENVELOPE = ("v", "node", "kind", "line", "n", "at")  # an event as ``unpack`` gives it

# Fields that may hold names, dates of birth, identifiers or message text: left out of what
# is published unless the operator asks for them (--events-with-text).
PRIVATE_FIELDS = frozenset({"text", "subject", "dob", "nic"})


# (kind, the line code it concerns, its own fields): a tuple, made at full rate by the core
Event = tuple[str, str, dict[str, Any]]
# one flush's events as the publisher holds them: (at, the number of the first, the events)
Batch = tuple[str, int, list[Event]]


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


def strip_private(fields: dict[str, Any]) -> None:
    """Leave out the fields that may name a person or hold message text."""
    for key in PRIVATE_FIELDS.intersection(fields):
        del fields[key]


def in_order(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its envelope fields first, for people to read."""
    return {**{key: event[key] for key in ENVELOPE if key in event}, **event}


def publishes(
    node: str, batches: list[Batch], most: int = 500, *, with_text: bool = False
) -> Iterator[tuple[str, bytes]]:
    """The MQTT publishes carrying ``batches``: one per topic (at most ``most`` events each),
    each topic's events in their order, each event numbered and stamped with its batch's
    time, and without its private fields unless ``with_text``."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    private = PRIVATE_FIELDS.isdisjoint
    for at, first, events in batches:
        for number, (kind, line, fields) in enumerate(events, first):
            if not (with_text or private(fields)):
                strip_private(fields)
            fields["n"] = number
            fields["at"] = at
            groups[kind, line].append(fields)
    for (kind, line), group in groups.items():
        name = topic(node, kind, line)
        for start in range(0, len(group), most):
            body = {"v": VERSION, "node": node, "kind": kind, "line": line or "-"}
            body["events"] = group[start : start + most]
            yield name, orjson.dumps(body)


def unpack(data: bytes) -> Iterator[dict[str, Any]]:
    """The events of one publish, each with the publish's ``v``, ``node``, ``kind`` and
    ``line``; a payload that is not ours yields nothing."""
    try:
        body = json.loads(data)
    except ValueError:
        return
    if not isinstance(body, dict) or body.get("v") != VERSION:
        return
    events = body.get("events")
    if isinstance(events, list):
        envelope = {key: body.get(key) for key in ENVELOPE[:4]}
        yield from ({**envelope, **event} for event in events if isinstance(event, dict))
