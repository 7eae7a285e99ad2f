"""A LESC store holding the catalogue of test identities (``lesc_daemon.seed.catalogue``, the
source of ``fixtures/lesc_identities.jsonl``: test_lesc_rules checks the file is what it
writes), built one way for every test."""

from __future__ import annotations

from pathlib import Path

from lesc_daemon.seed import catalogue
from lesc_daemon.store import Store

CATALOGUE = Path(__file__).resolve().parent.parent / "fixtures" / "lesc_identities.jsonl"


def catalogue_store(path: Path) -> Store:
    """A store at ``path`` holding the test identities (open: close it when done)."""
    store = Store(path)
    store.add_persons(catalogue())
    return store
