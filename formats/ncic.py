"""NCIC code tables shipped as package data (copied from NIEM's public FBI NCIC code lists;
see ``formats/data/SOURCE.md``)."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources


@cache
def _table(name: str) -> dict[str, str]:
    raw = resources.files("formats").joinpath("data", f"{name}.csv").read_text("ascii")
    return {row["code"]: row["description"] for row in csv.DictReader(io.StringIO(raw))}


def offense_codes() -> dict[str, str]:
    """4-digit Uniform Offense Classification codes (OFF) and their descriptions."""
    return _table("offense_codes")


def place_of_birth_codes() -> dict[str, str]:
    """POB codes: US states, territories, Canadian provinces, Mexican states and countries."""
    return _table("pob_codes")


def sex_codes() -> dict[str, str]:
    """SEX codes: M, F, U."""
    return _table("sex_codes")
