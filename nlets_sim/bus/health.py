"""A link to the broker as an operator sees it: up, or down with one sentence saying why.

Both links a switch may keep (its event publisher and, on a switch node, its cluster link) go
on retrying with backoff whatever went wrong, so that the switch never stops for the broker.
What the operator needs is the reason in words (a refused password, an untrusted
certificate, nothing listening), said once in the log when it starts or changes (not at every
retry) and shown by ``nlets-sim status``. No sentence here ever holds the user name's password:
they are made from the address's ``str()`` and from the client library's errors, which name
neither.
"""

from __future__ import annotations

import aiomqtt
import structlog

from nlets_sim.bus.address import PASSWORD_ENV, USERNAME_ENV, BrokerAddress

log = structlog.get_logger("nlets_sim.bus")

# CONNACK reason codes: MQTT 5 (134 bad user name or password, 135 not authorized) and
# MQTT 3.1.1 (4, 5), as aiomqtt reports them.
REFUSED_CREDENTIALS = frozenset({4, 5, 134, 135})


def link_problem(error: BaseException, address: BrokerAddress) -> str:
    """One sentence on why the link to ``address`` failed."""
    if isinstance(error, aiomqtt.MqttCodeError) and _code(error) in REFUSED_CREDENTIALS:
        if address.username is None:
            return (
                f"the broker {address} wants a user name and password: give them in the URL "
                f"or in {USERNAME_ENV} and {PASSWORD_ENV}"
            )
        return f"the broker {address} refused the user name or password"
    text = str(error)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        reason = text.partition("certificate verify failed: ")[2].partition(" (_ssl")[0]
        return (
            f"the certificate of the broker {address} is not trusted ({reason or 'unknown CA'}): "
            "give its CA with --mqtt-ca"
        )
    if "Connection refused" in text and not isinstance(error, aiomqtt.MqttCodeError):
        return f"nothing listens at {address}"
    return f"the broker {address} cannot be reached: {text or type(error).__name__}"


def _code(error: aiomqtt.MqttCodeError) -> int | None:
    code = error.rc
    return code if isinstance(code, int) or code is None else int(code.value)


class LinkHealth:
    """Whether a link (``what``: ``events``, ``cluster``) is up, and if not, why."""

    def __init__(self, address: BrokerAddress, what: str) -> None:
        self.address = address
        self.what = what
        self.connected = False
        self.problem: str | None = "not connected yet"

    def up(self, **context: str) -> None:
        self.connected, self.problem = True, None
        log.info(f"{self.what} link to the broker up", broker=str(self.address), **context)

    def down(self, error: BaseException, **context: str) -> None:
        """The link broke or could not be made: logged when the reason is new."""
        problem = link_problem(error, self.address)
        if problem != self.problem or self.connected:
            log.warning(f"{self.what} link to the broker down: {problem}; retrying", **context)
        self.connected, self.problem = False, problem
