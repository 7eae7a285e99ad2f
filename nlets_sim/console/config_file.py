"""A daemon's frozen settings from a TOML file and command-line flags: what the switch's
``Config`` and the LESC's ``DaemonConfig`` share. Defaults, then the file, then the flags that
were given; every value checked against the type its field declares, so that a wrong one stops
the daemon before it starts."""

from __future__ import annotations

import dataclasses
import tomllib
import types
from datetime import datetime
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from nlets_sim.link.simclock import clock_rate

_TYPE_WORDS = {int: "a whole number", float: "a number", str: "text", Path: "a path"}


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables; ``ValueError`` naming the file when it is not TOML."""
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid TOML: {error}") from None


def merged(values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the overrides that were given (not None) on top."""
    return values | {key: value for key, value in overrides.items() if value is not None}


def checked_values(settings: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` for the dataclass ``settings``: unknown names refused, paths and ISO 8601
    times read from text, a clock rate checked, each value of its field's type.
    Raises ``ValueError`` saying which value and why."""
    known = {field.name for field in dataclasses.fields(settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown configuration keys: {', '.join(unknown)}")
    hints = get_type_hints(settings)
    values = dict(values)
    for name, value in values.items():
        if isinstance(value, str) and Path in _allowed(hints[name]):
            values[name] = Path(value)
    if isinstance(values.get("clock"), str):
        try:
            values["clock"] = datetime.fromisoformat(values["clock"])
        except ValueError:
            raise ValueError(f"clock: not an ISO 8601 time: {values['clock']!r}") from None
    if values.get("clock_rate") is not None:
        clock_rate(values["clock_rate"])
    for name, value in values.items():
        _check_type(name, value, _allowed(hints[name]))
    return values


def _allowed(hint: Any) -> tuple[type, ...]:
    kinds = get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    allowed = tuple(get_origin(kind) or kind for kind in kinds)
    return (*allowed, int) if float in allowed else allowed


def _check_type(name: str, value: object, allowed: tuple[type, ...]) -> None:
    if value is None and type(None) in allowed:
        return
    if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
        wanted = " or ".join(_TYPE_WORDS.get(kind, kind.__name__) for kind in allowed)
        raise ValueError(f"{name} must be {wanted}, not {value!r}")
