"""``value_type``: the decorator for the value types made once or more per message.

A frozen dataclass assigns each field through ``object.__setattr__``, several times the cost of a
plain slotted dataclass, and the switch makes about ten such values per message (the figures:
BENCHMARKS.md, "Figures behind choices in the code"). ``value_type`` makes a plain slotted dataclass
at run time and tells the type checker (``dataclass_transform(frozen_default=True)``) that it is
frozen, so ``mypy --strict`` still refuses any assignment to a field.

Unlike a frozen dataclass, a value type is not hashable; none is used as a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def value_type(cls: type[T]) -> type[T]:
    """A slotted dataclass, immutable to the type checker."""
    return dataclass(slots=True)(cls)
