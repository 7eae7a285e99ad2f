"""One error tree, split by blame.

``RemoteProtocolError`` is the peer's fault and carries what to answer: a link ``NK`` reason
(``FrameError``) or an Nlets ``ER`` code with its detail lines (``MessageRejected``).
``LocalProtocolError`` is our own bug: we were asked to build something the protocol forbids.
"""

from __future__ import annotations

from formats.codes import ErCode


class NletsError(Exception):
    """Root of every error this project raises on purpose."""


class LocalProtocolError(NletsError):
    """Our side tried to build bytes that break the protocol."""


class RemoteProtocolError(NletsError):
    """The peer sent something that breaks the protocol."""


class FrameError(RemoteProtocolError):
    """A link frame that cannot be read; ``reason`` is the ``NK`` payload text to send."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FrameTooLong(FrameError):
    """A well-formed header whose length is above the reader's maximum: ``kind`` (``"DT"``)
    and ``seq`` say which frame, so that a receiver can refuse that DT by its seq."""

    def __init__(self, reason: str, kind: str, seq: int) -> None:
        super().__init__(reason)
        self.kind = kind
        self.seq = seq


class MessageRejected(RemoteProtocolError):
    """An Nlets message the switch rejects with ``ER``.

    ``code`` is the numbered error, ``mke`` fills the ``<MKE>`` of ``.22.``, ``details`` are the
    detail lines printed under the error line.
    """

    def __init__(self, code: ErCode, *details: str, mke: str = "") -> None:
        self.code = code
        self.mke = mke
        self.details = details
        super().__init__(" / ".join((code.line(mke), *details)))
