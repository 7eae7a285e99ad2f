"""The decision rules as data (``rules.toml``, overridable): facts in, RES/FAP/actions out."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from formats.iar import Firearms, Result

Facts = dict[str, str | bool]
TABLES = ("result", "firearms", "action")


class RulesError(ValueError):
    """A rules file that cannot be used."""


@dataclass(frozen=True, slots=True)
class Rule:
    conditions: dict[str, tuple[str | bool, ...]]
    outcome: dict[str, Any]

    def holds(self, facts: Facts) -> bool:
        return all(facts.get(name) in values for name, values in self.conditions.items())


@dataclass(frozen=True, slots=True)
class Decision:
    res: Result
    fap: Firearms | None
    detainer: bool
    lead: bool


@dataclass(frozen=True, slots=True)
class Rules:
    tables: dict[str, tuple[Rule, ...]]
    # Decisions already taken, by the facts: the rules are pure and the facts take few values.
    _decided: dict[tuple[tuple[str, str | bool], ...], Decision] = field(
        default_factory=dict, compare=False, repr=False
    )

    def first(self, table: str, facts: Facts) -> dict[str, Any]:
        for rule in self.tables[table]:
            if rule.holds(facts):
                return rule.outcome
        raise RulesError(f"no rule of [[{table}]] holds for {facts}; end it with an empty if")

    def decide(self, facts: Facts) -> Decision:
        key = tuple(facts.items())
        decision = self._decided.get(key)
        if decision is None:
            decision = self._decided[key] = self._decide(facts)
        return decision

    def _decide(self, facts: Facts) -> Decision:
        res = Result(self.first("result", facts)["res"])
        with_res: Facts = {**facts, "res": res.value}
        fap = Firearms(self.first("firearms", with_res)["fap"]) if facts["purpose"] == "F" else None
        action = self.first("action", with_res)
        return Decision(res, fap, bool(action.get("detainer")), bool(action.get("lead")))


def _rule(table: str, index: int, data: Any) -> Rule:
    if not isinstance(data, dict) or "if" not in data or not isinstance(data["if"], dict):
        raise RulesError(f"[[{table}]] number {index + 1}: needs an `if` table")
    conditions = {
        name: tuple(value) if isinstance(value, list) else (value,)
        for name, value in data["if"].items()
    }
    outcome = {key: value for key, value in data.items() if key != "if"}
    try:
        if table == "result":
            Result(outcome["res"])
        elif table == "firearms":
            Firearms(outcome["fap"])
    except (KeyError, ValueError) as error:
        raise RulesError(f"[[{table}]] number {index + 1}: bad outcome {error}") from None
    return Rule(conditions, outcome)


def parse_rules(text: str) -> Rules:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesError(str(error)) from None
    tables = {}
    for table in TABLES:
        rows = data.get(table)
        if not isinstance(rows, list) or not rows:
            raise RulesError(f"missing [[{table}]] rules")
        tables[table] = tuple(_rule(table, index, row) for index, row in enumerate(rows))
    return Rules(tables)


def load_rules(path: Path | None = None) -> Rules:
    """The rules in ``path``, or the ones shipped with the package."""
    if path is None:
        return parse_rules(resources.files("lesc_daemon").joinpath("rules.toml").read_text())
    return parse_rules(path.read_text("utf-8"))
