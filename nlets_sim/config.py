"""The switch's configuration under the path the README first documented: ``from
nlets_sim.config import Config`` (an overridden ``nlets_config`` fixture, say) keeps working.
It lives in :mod:`nlets_sim.switch.config`; package code imports it from there
(tests/test_layering.py)."""

from nlets_sim.switch.config import (
    DEFAULT_PORT,
    PINNED_CLOCK,
    Config,
    ConfigError,
    default_directory,
    load_config,
)

__all__ = [
    "DEFAULT_PORT",
    "PINNED_CLOCK",
    "Config",
    "ConfigError",
    "default_directory",
    "load_config",
]
