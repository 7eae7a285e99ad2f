"""What can go wrong with the LESC's SQLite file, in words: a store that cannot write now (a
full disk, an I/O error: the daemon waits and tries again) and a damaged store (which no retry
mends: the operator must act)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Primary result codes (the low byte) of an error that may pass: the write can be tried again
# once there is room, the device answers, or the lock is released.
_PASSING = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)
_DAMAGED = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def _code(error: BaseException) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def cannot_write_now(error: BaseException) -> bool:
    """A storage fault that may pass (disk full, I/O error, busy): nothing of the transaction
    was kept; try it again later."""
    return isinstance(error, sqlite3.Error) and _code(error) in _PASSING


def is_damaged(error: BaseException) -> bool:
    return isinstance(error, sqlite3.DatabaseError) and _code(error) in _DAMAGED


class StoreDamaged(Exception):
    """The store's file is not a sound SQLite database; the text says what to do."""

    def __init__(self, path: Path, error: BaseException) -> None:
        super().__init__(damaged_text(path, str(error)))
        self.path = path


def damaged_text(path: Path, problem: str) -> str:
    return (
        f"The LESC store {path} is damaged (SQLite says: {problem}), so the LESC cannot use"
        " it. Stop every lesc-daemon that uses it and keep the file for inspection. Then"
        f" recover what can be read into a new file (sqlite3 {path} .recover | sqlite3"
        " NEW.sqlite3), or restore a backup, or build a new store (lesc-daemon seed --db NEW,"
        " or lesc-daemon import); start the daemon with --db NEW. `lesc-daemon check --db"
        f" {path}` runs SQLite's integrity check. Queries waiting for the LESC stay queued in"
        " the switch until a daemon logs on again."
    )


def integrity_problems(path: Path, limit: int = 20) -> list[str]:
    """SQLite's integrity check of an existing store: [] when sound, else what it found (at
    most ``limit`` lines). Opens the file as it is: nothing is created or changed."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
    except sqlite3.Error as error:
        return [str(error)]
    try:
        rows = db.execute(f"PRAGMA integrity_check({limit})").fetchall()
    except sqlite3.DatabaseError as error:
        return [str(error)]
    finally:
        db.close()
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found
