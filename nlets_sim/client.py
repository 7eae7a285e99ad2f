"""The terminal library under the path the README first documented: ``from nlets_sim.client
import Terminal`` keeps working. It lives in :mod:`nlets_sim.link.terminal`; package code
imports it from there (tests/test_layering.py)."""

from nlets_sim.link.terminal import (
    Delivery,
    LinkClosed,
    LogonRejected,
    SessionTakenOver,
    Terminal,
    parse_address,
)

__all__ = [
    "Delivery",
    "LinkClosed",
    "LogonRejected",
    "SessionTakenOver",
    "Terminal",
    "parse_address",
]
