"""The labelled queries behind the matcher's benchmark: deterministic by seed, each class as
documented, strangers not in the store; on a small store the matcher meets its targets."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from bench.labelled_queries import NON_MEMBER, VARIANTS, labelled_queries
from lesc_daemon.lesc import Lesc
from lesc_daemon.matching import Outcome, Subject
from lesc_daemon.rules import load_rules
from lesc_daemon.seed import seed_store
from lesc_daemon.store import Store

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("lesc") / "lesc.db")
    seed_store(store, 4_000, 1, TODAY)
    return store


def test_the_same_seed_gives_the_same_queries(store: Store) -> None:
    first = labelled_queries(store, 300, 5, TODAY)
    assert first == labelled_queries(store, 300, 5, TODAY)
    assert first != labelled_queries(store, 300, 6, TODAY)


def test_classes_come_at_their_shares_and_strangers_are_not_held(store: Store) -> None:
    queries = labelled_queries(store, 2_000, 7, TODAY)
    counts = Counter(q.variant for q in queries)
    members = len(queries) - counts[NON_MEMBER]
    assert 0.07 < counts[NON_MEMBER] / len(queries) < 0.13
    for variant, share in VARIANTS:
        assert abs(counts[variant] / members - share) < 0.03, variant
    for query in queries:
        if query.person_id is None:  # nobody of that name (middle initial aside) and DOB
            iaq = query.iaq
            held = store.db.execute(
                "SELECT 1 FROM names WHERE name LIKE ? AND dob = ?",
                (iaq.nam + "%", f"{iaq.dob[:4]}-{iaq.dob[4:6]}-{iaq.dob[6:]}"),
            ).fetchone()
            assert held is None


def test_exact_queries_are_all_matched_and_strangers_never_matched(store: Store) -> None:
    responder = Lesc(store, load_rules(), frozenset({"VTINS07S0"}))
    for query in labelled_queries(store, 600, 9, TODAY):
        dob = query.iaq.birth_date(TODAY)
        assert dob is not None
        identity = responder.identify(
            Subject(query.iaq.nam, dob, query.iaq.sex, None, None, query.iaq.pob)
        )
        if query.variant == "exact":
            assert identity.outcome is Outcome.MATCH
            assert identity.person is not None
            assert identity.person.id == query.person_id
        if query.person_id is None:
            assert identity.outcome is not Outcome.MATCH
