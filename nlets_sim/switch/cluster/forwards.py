"""The bookkeeping of forwards between switch nodes: pure, over the node's own journal.

A forward is a JSON object (the body) numbered per destination node: ``n`` = 1, 2, 3, ...
The sender writes it to its journal in the batch that routes the message, so it is durable
before the sender's terminal gets its ``AK``; publishes it after that batch commits; and
publishes it again, with every forward to that node not yet acknowledged, until the receiver
acknowledges it. The receiver applies forwards from each node strictly in order: ``n`` equal
to the last applied + 1 is applied (its deliveries and the new count journaled in one batch),
a lower ``n`` is one it holds already (dropped, acknowledged again), a higher one waits for
the re-send of the gap. Its acknowledgement ("everything up to ``n``") leaves only after the
batch that applied them commits. So each forward is applied exactly once, in order, whatever
the broker loses or repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

from nlets_sim.switch.journal import Journal

SCHEMA = """
CREATE TABLE IF NOT EXISTS cluster_out (
    node TEXT NOT NULL, n INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (node, n)
);
CREATE TABLE IF NOT EXISTS cluster_peers (
    node TEXT PRIMARY KEY,
    sent INTEGER NOT NULL DEFAULT 0,
    acked INTEGER NOT NULL DEFAULT 0,
    applied INTEGER NOT NULL DEFAULT 0
);
"""
RESEND_S = 1.0  # a forward not acknowledged for this long is published again


@dataclass(slots=True)
class NodeState:
    sent: int = 0  # the last n given to a forward to this node
    acked: int = 0  # the last n it acknowledged
    applied: int = 0  # the last n from it applied here
    published_at: float = 0.0  # monotonic time of the last publish to it


class Forwards:
    def __init__(
        self,
        me: str,
        node_of_line: dict[str, str],
        journal: Journal,
        addresses: dict[str, str] | None = None,
    ) -> None:
        self.me = me
        self.node_of_line = node_of_line
        self.addresses = addresses or {}  # node -> where its terminals connect (for LJ)
        self.journal = journal
        journal.add_tables(SCHEMA)
        self.nodes: dict[str, NodeState] = {}
        self.unacked: dict[str, dict[int, str]] = {}
        self.outbox: dict[str, list[tuple[int, str]]] = {}
        self.acks_due: set[str] = set()
        self._dirty: set[str] = set()
        self.reload()

    def reload(self) -> None:
        """State as the journal holds it (at start, and after a batch was refused)."""
        self.nodes = {
            str(node): NodeState(int(sent), int(acked), int(applied))  # type: ignore[call-overload]
            for node, sent, acked, applied in self.journal.read(
                "SELECT node, sent, acked, applied FROM cluster_peers"
            )
        }
        self.unacked = {}
        for node, n, body in self.journal.read("SELECT node, n, body FROM cluster_out ORDER BY n"):
            self.unacked.setdefault(str(node), {})[int(n)] = str(body)  # type: ignore[call-overload]
        self.outbox.clear()
        self.acks_due.clear()
        self._dirty.clear()

    def remote_node(self, line: str) -> str | None:
        """The node serving ``line``, or None when it is this one."""
        node = self.node_of_line.get(line, self.me)
        return None if node == self.me else node

    def elsewhere(self, line: str) -> str | None:
        """The LJ text for a terminal of ``line`` logging on here when another node serves
        it; None when this node does."""
        node = self.remote_node(line)
        if node is None:
            return None
        address = self.addresses.get(node)
        return f"ORI SERVED BY NODE {node}" + (f" AT {address}" if address else "")

    def _node(self, name: str) -> NodeState:
        state = self.nodes.get(name)
        if state is None:
            state = self.nodes[name] = NodeState()
        return state

    # Sending ---------------------------------------------------------------------------

    def send(self, node: str, body: str) -> None:
        """Number ``body`` (a JSON object) for ``node`` and journal it in this batch."""
        state = self._node(node)
        state.sent += 1
        self._dirty.add(node)
        self.journal.write(
            "INSERT INTO cluster_out (node, n, body) VALUES (?, ?, ?)", (node, state.sent, body)
        )
        self.unacked.setdefault(node, {})[state.sent] = body
        self.outbox.setdefault(node, []).append((state.sent, body))

    def acknowledged(self, node: str, upto: int) -> None:
        """``node`` holds every forward up to ``upto``: they are settled."""
        state = self._node(node)
        if upto <= state.acked:
            return
        state.acked = min(upto, state.sent)
        self._dirty.add(node)
        self.journal.write("DELETE FROM cluster_out WHERE node = ? AND n <= ?", (node, upto))
        waiting = self.unacked.get(node, {})
        for n in [n for n in waiting if n <= upto]:
            del waiting[n]

    def take_outbox(self, now: float) -> dict[str, list[tuple[int, str]]]:
        """The forwards of the committed batch, to publish now."""
        outbox, self.outbox = self.outbox, {}
        for node in outbox:
            self._node(node).published_at = now
        return outbox

    def due_again(
        self, now: float, *, everything: bool = False
    ) -> dict[str, list[tuple[int, str]]]:
        """Unacknowledged forwards to publish again: to each node whose oldest has waited
        ``RESEND_S`` since the last publish (or to every node, with ``everything``)."""
        due = {}
        for node, waiting in self.unacked.items():
            state = self._node(node)
            if waiting and (everything or now - state.published_at >= RESEND_S):
                due[node] = sorted(waiting.items())
                state.published_at = now
        return due

    # Receiving -------------------------------------------------------------------------

    def arrived(self, node: str, n: int) -> bool:
        """Forward ``n`` from ``node`` is here: True when it is the next to apply."""
        state = self._node(node)
        if n <= state.applied:
            self.acks_due.add(node)  # held already: say so again
            return False
        if n != state.applied + 1:
            return False  # a gap: the sender publishes it again
        state.applied = n
        self._dirty.add(node)
        self.acks_due.add(node)
        return True

    def take_acks(self) -> dict[str, int]:
        """For each node owed an acknowledgement (after the batch committed): up to where."""
        acks = {node: self.nodes[node].applied for node in self.acks_due}
        self.acks_due.clear()
        return acks

    # The batch boundary ----------------------------------------------------------------

    def save(self) -> None:
        for node in self._dirty:
            state = self.nodes[node]
            self.journal.write(
                "INSERT OR REPLACE INTO cluster_peers (node, sent, acked, applied) "
                "VALUES (?, ?, ?, ?)",
                (node, state.sent, state.acked, state.applied),
            )
        self._dirty.clear()

    def waiting(self) -> dict[str, int]:
        """Forwards not yet acknowledged, per node."""
        return {node: len(waiting) for node, waiting in sorted(self.unacked.items()) if waiting}
