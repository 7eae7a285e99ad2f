"""What can go wrong under the journal, and what the switch says about it: a write the disk
refuses (full, I/O error), a file or page that SQLite finds damaged, and SQLite's own
integrity check for ``nlets-sim journal check``."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class JournalUnavailable(Exception):
    """A batch could not be committed (disk full, I/O error): it was rolled back whole."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JournalDamaged(Exception):
    """SQLite found the journal file, or the pages a read needed, damaged. ``str()`` is the
    paragraph to show an operator: which file, what SQLite said, what to do."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"The journal {path} is damaged: SQLite says {reason!r}. Stop the switch, keep a"
            f" copy of the file (with its -wal and -shm files), and run `nlets-sim journal"
            f" check --data-dir {path.parent}` to see what is wrong. To keep what can still be"
            f" read, run `sqlite3 {path} .recover | sqlite3 {path}.recovered` and put the"
            f" recovered file in its place; to start afresh instead, move the journal files"
            f" aside (the messages still queued in them are then not delivered)."
        )


@dataclass(slots=True)
class WriteFailure:
    """Why the journal cannot write now, since when (``time.time()``) and how many batches
    it has refused since."""

    reason: str
    since: float
    batches: int = 1


def storage_error(error: sqlite3.DatabaseError) -> str:
    """The text of an error of the disk or the file (full, I/O, damaged); any other error of
    SQLite is a bug of ours and goes on up."""
    if isinstance(error, sqlite3.OperationalError) or type(error) is sqlite3.DatabaseError:
        return str(error)
    raise error


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Reads inside raise ``JournalDamaged`` for a damaged file or page."""
    try:
        yield
    except sqlite3.DatabaseError as error:
        raise JournalDamaged(path, storage_error(error)) from error


def integrity_problems(path: Path) -> list[str]:
    """SQLite's ``PRAGMA integrity_check`` of a journal, opened read-only: [] when it is
    sound, else each problem SQLite reports (or why it cannot read the file at all)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            rows = [str(row[0]) for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        return [str(error)]
    return [] if rows == ["ok"] else rows
