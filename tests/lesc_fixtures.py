"""A LESC store loaded from the catalogue of test identities, through the import format."""

from __future__ import annotations

from pathlib import Path

from lesc_daemon.person_json import parse_person
from lesc_daemon.store import Store

CATALOGUE = Path(__file__).resolve().parent.parent / "fixtures" / "lesc_identities.jsonl"


def catalogue_store(path: Path) -> Store:
    store = Store(path)
    store.add_persons(parse_person(line) for line in CATALOGUE.read_text().splitlines())
    return store
