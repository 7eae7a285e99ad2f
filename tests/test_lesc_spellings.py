"""The matcher's variant classes: every row of ``fixtures/LESC_IDENTITIES.md``'s "Spellings"
table, sent as an IAQ to the responder over a seeded store, gets its RES and its
``MATCHED ON`` line."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.iaq import Iaq
from lesc_daemon import names
from lesc_daemon.lesc import Lesc
from lesc_daemon.names import key, plain, sound
from lesc_daemon.rules import load_rules
from lesc_daemon.seed import seed_store
from lesc_daemon.store import Store

NOW = datetime(2026, 1, 1, 8, 0)
TABLE = Path(__file__).resolve().parent.parent / "fixtures" / "LESC_IDENTITIES.md"


def spellings() -> list[tuple[str, ...]]:
    section = TABLE.read_text("utf-8").split("## Spellings", 1)[1]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) == 7 and re.fullmatch(r"\d{8}", cells[2]):
            rows.append(tuple(cells))
    return rows


@pytest.fixture(scope="module")
def responder(tmp_path_factory: pytest.TempPathFactory) -> Lesc:
    store = Store(tmp_path_factory.mktemp("lesc") / "lesc.db")
    seed_store(store, 5_000, 1, NOW.date())  # generated persons must not get in the way
    return Lesc(store, load_rules(), frozenset({"VTINS07S0"}))


def test_the_table_holds_every_class() -> None:
    assert len(spellings()) == 23


@pytest.mark.parametrize(("kind", "nam", "dob", "sex", "pob", "res", "matched"), spellings())
def test_each_spelling_gets_its_answer(
    responder: Lesc, kind: str, nam: str, dob: str, sex: str, pob: str, res: str, matched: str
) -> None:
    iaq = Iaq("C", "DET SMITH", "5185551212", nam, dob, sex, pob, "N", "0399")
    iar = responder.respond(iaq, "L260101000001", "NY0303000", NOW, act=False)
    assert iar.res is not None
    assert iar.res.value == res, kind
    label = "CLOSEST CANDIDATE: " if res == "PI" else "MATCHED ON: "
    said = [line[len(label) :] for line in iar.lines if line.startswith(label)]
    assert said == ([matched] if matched else []), kind


def test_names_normalise_the_same_way_on_both_sides() -> None:
    assert plain("García-López") == plain("GARCIA LOPEZ") == "GARCIA LOPEZ"
    assert plain("O'Brien") == "OBRIEN"
    assert sound("PHILLIPS") == sound("FILIPS")
    assert key("KARIMOV") == key("QARIMOV") == key("CARIMOV")
    assert key("YURI") == key("IURI") == key("JURI")


def test_a_store_made_before_the_name_blocks_gets_them_when_opened(tmp_path: Path) -> None:
    store = Store(tmp_path / "old.db")
    seed_store(store, 50, 1, NOW.date())
    blocks = store.db.execute("SELECT * FROM name_keys ORDER BY 1, 2, 3").fetchall()
    store.db.execute("DELETE FROM name_keys")
    store.close()
    reopened = Store(tmp_path / "old.db")
    assert reopened.db.execute("SELECT * FROM name_keys ORDER BY 1, 2, 3").fetchall() == blocks
    found = reopened.name_candidates([key("KARIMOV")], [datetime(1977, 4, 21).date()])
    assert [p.id for p in found] == ["T000011"]


# parts that set off the rules: silent and initial letters, transliterations, endings
_SOUNDS = [
    "KN",
    "GN",
    "PN",
    "PS",
    "WR",
    "TCH",
    "H",
    "Y",
    "I",
    "J",
    "G",
    "X",
    "W",
    "PH",
    "SCH",
    "SZ",
    "SH",
    "ZH",
    "CZ",
    "CH",
    "KH",
    "CE",
    "CK",
    "C",
    "Q",
    "KU",
    "GH",
    "OV",
    "EW",
    "OFF",
    "V",
    "Z",
    "OU",
    "EE",
    "IE",
    "A",
    "E",
    "O",
    "U",
    "T",
    "S",
    "R",
    "N",
    "L",
    "M",
]


@given(
    st.lists(st.sampled_from(_SOUNDS), max_size=6).map("".join)
    | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=14)
)
def test_a_rule_skipped_for_its_missing_needle_would_have_changed_nothing(part: str) -> None:
    every_rule = part
    for pattern, replacement, _needle in names._RULES:
        every_rule = pattern.sub(replacement, every_rule)
    assert names.sound.__wrapped__(part) == every_rule
