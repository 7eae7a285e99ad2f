"""The matcher measured against labelled queries (``bench/labelled_queries.py``) on the
1,000,000-person store: recall of true matches (found as the person, or ``PI`` naming them),
wrong-person answers (a match on somebody else), the confusion table of the final RES, the
outcome by variant class, and the time per lookup (``Lesc.respond``, nothing stored).

Targets: recall >= 0.98, wrong-person answers <= 1 in 1,000, median lookup < 1 ms, p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.bench_lesc import NOW, build_store, percentile
from bench.labelled_queries import NON_MEMBER, VARIANTS, Labelled, labelled_queries
from lesc_daemon.lesc import Lesc
from lesc_daemon.matching import Identity, Outcome, Subject
from lesc_daemon.oris import LESC_ORI
from lesc_daemon.responder import facts
from lesc_daemon.rules import load_rules
from lesc_daemon.store import Store

RESULTS = ("US", "LS", "RM", "WT", "PI", "NR")


def verdict(identity: Identity, person_id: str | None) -> str:
    """right (matched the person), named (PI naming them), wrong (matched somebody else),
    missed (a member not found), or for a stranger: none (NR) or possible (PI)."""
    if identity.outcome is Outcome.MATCH:
        assert identity.person is not None
        return "right" if identity.person.id == person_id else "wrong"
    if person_id is None:
        return "possible" if identity.outcome is Outcome.POSSIBLE else "none"
    if identity.outcome is Outcome.POSSIBLE and person_id in {p.id for p in identity.candidates}:
        return "named"
    return "missed"


def evaluate(store: Store, queries: list[Labelled]) -> None:
    responder = Lesc(store, load_rules(), frozenset({LESC_ORI}))
    latencies: list[float] = []
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    by_variant: dict[str, Counter[str]] = defaultdict(Counter)
    for labelled in queries:
        iaq = labelled.iaq
        start = time.perf_counter()
        iar = responder.respond(iaq, "L261123000000", "NY0303000", NOW, act=False)
        latencies.append((time.perf_counter() - start) * 1000)
        dob = iaq.birth_date(NOW.date())
        assert dob is not None
        assert iar.res is not None
        identity = responder.identify(Subject(iaq.nam, dob, iaq.sex, iaq.arn, iaq.fbi, iaq.pob))
        expected = NON_MEMBER
        if labelled.person_id is not None:
            person = store.person(labelled.person_id)
            assert person is not None
            truth = Identity(Outcome.MATCH, person)
            expected = responder.rules.decide(facts(truth, iaq, NOW.date())).res.value
        confusion[expected][iar.res.value] += 1
        by_variant[labelled.variant][verdict(identity, labelled.person_id)] += 1
    report(confusion, by_variant, latencies, len(queries))


def report(
    confusion: dict[str, Counter[str]],
    by_variant: dict[str, Counter[str]],
    latencies: list[float],
    total: int,
) -> None:
    members = sum(sum(c.values()) for v, c in by_variant.items() if v != NON_MEMBER)
    found = sum(c["right"] + c["named"] for v, c in by_variant.items() if v != NON_MEMBER)
    wrong = sum(c["wrong"] for c in by_variant.values())
    matched = sum(c["right"] + c["wrong"] for c in by_variant.values())
    right = sum(c["right"] for c in by_variant.values())
    print(f"matching: {total:,} labelled queries ({members:,} for persons of the store)")
    print(f"  recall (the person matched, or named by PI) {found / members:.4f}   target >= 0.98")
    print(f"  wrong-person answers {wrong} = {wrong / total * 1000:.2f} per 1,000   target <= 1")
    print(f"  precision of matches (the right person) {right / max(1, matched):.4f}")
    median, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    print(f"  lookup median {median:.2f} ms  p99 {p99:.2f} ms   target < 1 ms, < 5 ms")
    print("  final RES (columns) by the RES the true person gets (rows):")
    print("  | expected | " + " | ".join(RESULTS) + " |")
    print("  |---|" + "---|" * len(RESULTS))
    for expected in (*RESULTS, NON_MEMBER):
        if expected in confusion:
            row = confusion[expected]
            print(f"  | {expected} | " + " | ".join(str(row[r]) for r in RESULTS) + " |")
    kinds = ("right", "named", "missed", "wrong", "none", "possible")
    print("  by variant class:")
    print("  | class | queries | " + " | ".join(kinds) + " |")
    print("  |---|---|" + "---|" * len(kinds))
    for variant in (*(name for name, _ in VARIANTS), NON_MEMBER):
        row = by_variant.get(variant, Counter())
        counts = " | ".join(str(row[k]) for k in kinds)
        print(f"  | {variant} | {sum(row.values())} | {counts} |")


def warm(path: Path) -> None:
    """Read the store file once, so that the lookups find it in the page cache as a running
    LESC does (timed cold, the first touch of each page is a disk read: p99 10 ms)."""
    with path.open("rb") as store_file:
        while store_file.read(1 << 20):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=Path("data/bench/lesc-1m.sqlite3"))
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    store = build_store(args.store, args.persons)
    warm(args.store)
    queries = labelled_queries(store, args.queries, args.seed, NOW.date())
    evaluate(store, queries)
    store.close()


if __name__ == "__main__":
    main()
