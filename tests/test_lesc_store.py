"""The LESC store gives back what was loaded: persons whole (names in order, the latest status,
NCIC records by NIC), by id, by identifier and by name."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import date, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lesc_daemon.matching import Subject, candidate_dobs, identify
from lesc_daemon.persons import NCIC_TYPES, NcicRecord, Person, Status, StatusCode
from lesc_daemon.store import QUERY_NUMBER_BLOCK, Store

DOB = date(1980, 1, 15)
MEMORY = Path(":memory:")

words = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
days = st.dates(date(1900, 1, 1), date(2030, 12, 31))
names = st.builds(lambda last, first: f"{last}, {first}", words, words)
statuses = st.builds(
    Status,
    st.sampled_from(StatusCode),
    st.none() | st.sampled_from(["B2", "F1", "H1B"]),
    st.none() | days,
    st.none() | days,
)
records = st.builds(
    NcicRecord,
    st.from_regex(r"[A-Z]\d{9}", fullmatch=True),
    st.sampled_from(sorted(NCIC_TYPES)),
    st.from_regex(r"[A-Z]{2}[A-Z0-9]{7}", fullmatch=True),
    st.none() | st.just("ICE-0001"),
    st.booleans(),
    st.none() | days,
)


@st.composite
def persons(draw: st.DrawFn) -> Person:
    return Person(
        id=draw(st.from_regex(r"P\d{7}", fullmatch=True)),
        names=tuple(draw(st.lists(names, min_size=1, max_size=4, unique=True))),
        dob=draw(days),
        sex=draw(st.sampled_from([None, "M", "F", "U"])),
        pob=draw(st.none() | st.just("MX")),
        citizenship=draw(st.none() | st.just("MX")),
        arn=draw(st.none() | st.from_regex(r"\d{9}", fullmatch=True)),
        fbi=draw(st.none() | st.from_regex(r"[A-Z0-9]{1,9}", fullmatch=True)),
        sid=draw(st.none() | st.just("NY12345678")),
        soc=draw(st.none() | st.from_regex(r"\d{9}", fullmatch=True)),
        firearms_exception=draw(st.booleans()),
        status=draw(st.none() | statuses),
        ncic=tuple(draw(st.lists(records, max_size=3, unique_by=lambda r: r.nic))),
    )


def by_nic(person: Person) -> Person:
    return dataclasses.replace(person, ncic=tuple(sorted(person.ncic, key=lambda r: r.nic)))


@settings(max_examples=60)
@given(persons())
def test_a_person_comes_back_whole(person: Person) -> None:
    store = Store(MEMORY)
    store.add_persons([person])
    expected = by_nic(person)
    assert store.person(person.id) == expected
    if person.arn or person.fbi:
        assert store.by_identifiers(person.arn, person.fbi) == [expected]
    assert expected in store.by_name(person.names[-1].split(",")[0], [person.dob])


def test_unknown_id_and_no_identifiers_find_nobody() -> None:
    store = Store(MEMORY)
    store.add_persons([Person("P1", ("DOE, JOHN",), DOB, arn="012345678")])
    assert store.person("P2") is None
    assert store.by_identifiers(None, None) == []
    assert store.by_identifiers("", "") == []
    assert store.by_identifiers("999999999", None) == []


def test_identifiers_find_each_person_once_by_id() -> None:
    store = Store(MEMORY)
    store.add_persons(
        [
            Person("P2", ("DOE, JOHN",), DOB, arn="012345678", fbi="123456AB1"),
            Person("P1", ("ROE, RICHARD",), DOB, fbi="999999ZZ9"),
        ]
    )
    assert [p.id for p in store.by_identifiers("012345678", "123456AB1")] == ["P2"]
    assert [p.id for p in store.by_identifiers("012345678", "999999ZZ9")] == ["P1", "P2"]
    assert [p.id for p in store.by_identifiers(None, "999999ZZ9")] == ["P1"]


def test_name_lookup_by_sound_and_candidate_birth_dates_in_id_order() -> None:
    store = Store(MEMORY)
    store.add_persons(
        [
            Person("P3", ("SMYTH, JANE",), DOB),  # Soundex and NYSIIS equal to SMITH
            Person("P1", ("GARCIA, ANA", "SMITH, ANA"), DOB.replace(year=1981)),  # alias
            Person("P2", ("SMITH, JOHN",), date(1980, 2, 15)),  # not a candidate date
            Person("P4", ("JONES, JANE",), DOB),  # another sound
        ]
    )
    found = store.by_name("SMITH", candidate_dobs(DOB))
    assert [p.id for p in found] == ["P1", "P3"]
    assert found[0].names == ("GARCIA, ANA", "SMITH, ANA")


def test_the_latest_status_counts_later_rows_breaking_ties() -> None:
    store = Store(MEMORY)
    store.add_persons([Person("P1", ("DOE, JOHN",), DOB, status=Status(StatusCode.NIV, "B2", DOB))])
    rows = [("LPR", None, "2010-05-01", None), ("FO", None, "2001-01-01", None)]
    store.db.executemany("INSERT INTO status_history VALUES ('P1', ?, ?, ?, ?)", rows)
    assert store.person("P1") == Person(
        "P1", ("DOE, JOHN",), DOB, status=Status(StatusCode.LPR, since=date(2010, 5, 1))
    )
    store.db.execute("INSERT INTO status_history VALUES ('P1', 'TPS', NULL, '2010-05-01', NULL)")
    person = store.person("P1")
    assert person is not None
    assert person.status == Status(StatusCode.TPS, since=date(2010, 5, 1))


def test_the_latest_status_is_read_from_an_index_without_a_sort(tmp_path: Path) -> None:
    """A store made before ``status_latest`` gains it on opening; fetching a person then plans
    no temporary b-tree (a sort per person had cost more than the rest of a name lookup)."""
    path = tmp_path / "store.sqlite3"
    older = Store(path)
    older.db.execute("DROP INDEX status_latest")
    older.db.execute("CREATE INDEX status_person ON status_history (person_id)")
    older.close()
    store = Store(path)
    indexes = {row[0] for row in store.db.execute("SELECT name FROM sqlite_master")}
    assert "status_latest" in indexes
    assert "status_person" not in indexes
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    store.person("P1")
    store.db.set_trace_callback(None)
    (select,) = statements
    plan = [row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {select}")]
    assert "SEARCH s USING INDEX status_latest (person_id=?)" in plan
    assert not [step for step in plan if "TEMP B-TREE" in step]


def test_ncic_record_by_nic() -> None:
    store = Store(MEMORY)
    record = NcicRecord("W123456789", "ADMIN_WARRANT", "VTINS07S0", None, True, None)
    store.add_persons([Person("P1", ("DOE, JOHN",), DOB, ncic=(record,))])
    assert store.ncic_record("W123456789") == (record, "P1")
    assert store.ncic_record("W000000000") is None


def test_query_numbers_run_on_per_day_and_two_stores_never_share_one(tmp_path: Path) -> None:
    first, second = Store(tmp_path / "lesc.db"), Store(tmp_path / "lesc.db")
    today = date(2026, 11, 23)
    assert [first.next_query_number(today) for _ in range(2)] == [
        "L261123000001",
        "L261123000002",
    ]
    assert second.next_query_number(today) == f"L261123{QUERY_NUMBER_BLOCK + 1:06d}"
    assert first.next_query_number(date(2026, 11, 24)) == "L261124000001"
    first.close()
    restarted = Store(tmp_path / "lesc.db")  # the rest of the first block is skipped
    assert restarted.next_query_number(today) == f"L261123{2 * QUERY_NUMBER_BLOCK + 1:06d}"


def test_after_999999_a_days_query_numbers_start_again_at_1() -> None:
    store = Store(MEMORY)
    store.db.execute("INSERT INTO query_numbers VALUES ('261123', 999998)")
    numbers = [store.next_query_number(date(2026, 11, 23)) for _ in range(3)]
    assert numbers == ["L261123999999", "L261123000001", "L261123000002"]


def test_a_rolled_back_transaction_leaves_no_audit_row_and_no_query_number() -> None:
    store = Store(MEMORY)
    today = date(2026, 11, 23)
    with contextlib.suppress(RuntimeError), store.transaction():
        assert store.next_query_number(today) == "L261123000001"
        store.audit("IAQ", datetime(2026, 11, 23, 9), "NY0303000", "NR")
        raise RuntimeError
    assert store.audit_rows() == []
    assert store.next_query_number(today) == "L261123000001"


def test_audit_rows_are_written_when_the_transaction_ends() -> None:
    store = Store(MEMORY)
    at = datetime(2026, 11, 23, 9)
    with store.transaction():
        store.audit("IAQ", at, "NY0303000", "NR", reference="L261123000001")
        store.audit("AM", at, "NJ0000000", "INBOX 1")
        assert store.db.execute("SELECT COUNT(*) FROM audit").fetchone() == (0,)
    assert [(row[1], row[4], row[9]) for row in store.audit_rows()] == [
        ("IAQ", "NY0303000", "NR"),
        ("AM", "NJ0000000", "INBOX 1"),
    ]
    store.audit("YQ", at, "PA0000000", "CON/N")  # outside a transaction: at once
    assert store.db.execute("SELECT COUNT(*) FROM audit").fetchone() == (3,)


similar_surnames = st.sampled_from(["SMITH", "SMYTH", "SMYTHE", "SCHMIDT", "JONES"])
similar_given = st.sampled_from(["ANA", "ANNA M", "BOB", "A", "BEA"])
near_days = st.sampled_from([DOB, date(1980, 1, 16), date(1981, 1, 15), date(1980, 3, 1)])
sexes = st.sampled_from([None, "M", "F", "U"])


@st.composite
def look_alikes(draw: st.DrawFn) -> list[Person]:
    count = draw(st.integers(1, 6))
    return [
        Person(
            f"P{number}",
            tuple(
                f"{surname}, {given}"
                for surname, given in draw(
                    st.lists(st.tuples(similar_surnames, similar_given), min_size=1, max_size=2)
                )
            ),
            draw(near_days),
            draw(sexes),
        )
        for number in range(count)
    ]


@settings(max_examples=80)
@given(look_alikes(), similar_surnames, similar_given, near_days, sexes)
def test_filtering_candidates_in_the_store_never_changes_the_identity(
    persons: list[Person], surname: str, given: str, dob: date, sex: str | None
) -> None:
    """The name lookup's initial and sex filters drop only candidates matching would refuse."""
    store = Store(MEMORY)
    store.add_persons(persons)
    subject = Subject(f"{surname}, {given}", dob, sex)
    dobs = candidate_dobs(dob)
    everyone = store.by_name(surname, dobs)
    filtered = store.by_name(surname, dobs, given[:1], sex)
    assert {p.id for p in filtered} <= {p.id for p in everyone}
    assert identify(subject, [], filtered) == identify(subject, [], everyone)


def test_name_lookup_filters_by_initial_and_known_sex() -> None:
    store = Store(MEMORY)
    store.add_persons(
        [
            Person("P1", ("SMITH, ANA",), DOB, "F"),
            Person("P2", ("SMITH, BOB",), DOB, "M"),
            Person("P3", ("SMITH, AL",), DOB, "M"),
            Person("P4", ("SMITH, ABE",), DOB, None),
            Person("P5", ("SMITH, AMY",), DOB, "U"),
        ]
    )
    ids = [p.id for p in store.by_name("SMITH", [DOB], "A", "M")]
    assert ids == ["P3", "P4", "P5"]
    assert [p.id for p in store.by_name("SMITH", [DOB], "A", "U")] == ["P1", "P3", "P4", "P5"]
    assert len(store.by_name("SMITH", [DOB])) == 5
