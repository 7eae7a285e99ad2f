"""A damaged LESC store is told in a paragraph naming the file and what to do, never a
traceback; ``lesc-daemon check`` runs SQLite's integrity check; store files are owner-only."""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from lesc_daemon.seed import seed_store
from lesc_daemon.store import Store

PAGE = 4096


def lesc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lesc_daemon", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def seeded(path: Path, persons: int = 2_000) -> Path:
    store = Store(path)
    seed_store(store, persons, 1, date(2026, 1, 1))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def test_a_sound_store_passes_the_check(tmp_path: Path) -> None:
    db = seeded(tmp_path / "lesc.sqlite3")
    result = lesc("check", "--db", str(db))
    assert (result.returncode, result.stdout) == (0, f"{db}: integrity check passed\n")


def test_check_of_a_missing_store_says_so_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "none.sqlite3"
    result = lesc("check", "--db", str(db))
    assert result.returncode == 1
    assert result.stderr == f"Error: no LESC store at {db}\n"
    assert not db.exists()


def test_garbage_instead_of_a_store_gets_the_paragraph_from_every_command(
    tmp_path: Path,
) -> None:
    db = tmp_path / "lesc.sqlite3"
    db.write_bytes(b"NOT A DATABASE " * 1000)
    for command in (["check"], ["inbox", "list"], ["run", "--switch", "127.0.0.1:9"]):
        result = lesc(*command, "--db", str(db))
        assert result.returncode == 1, command
        assert "Traceback" not in result.stderr
        assert f"Error: The LESC store {db} is damaged (SQLite says: file is not a database)" in (
            result.stderr
        )
        assert f"lesc-daemon check --db {db}" in result.stderr


def test_damaged_pages_in_the_middle_fail_the_check(tmp_path: Path) -> None:
    db = seeded(tmp_path / "lesc.sqlite3")
    pages = db.stat().st_size // PAGE
    with db.open("r+b") as file:
        file.seek(pages // 2 * PAGE)
        file.write(b"\xa5" * 8 * PAGE)
    result = lesc("check", "--db", str(db))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"Error: The LESC store {db} is damaged" in result.stderr


def test_store_files_are_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "lesc.sqlite3"
    store = Store(db)
    store.schedule(datetime(2026, 1, 1), b"X")
    names = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in names}
    store.close()
    assert modes == {path.name: 0o600 for path in names}
