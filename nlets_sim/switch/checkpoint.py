"""Checkpointing an SQLite WAL database from a thread of its own, so that the thread that
serves terminals commits without also copying pages into the database file."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class Checkpointer:
    """A thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` every ``every_s`` seconds on its
    own connection (SQLite releases the GIL while it copies pages)."""

    def __init__(self, path: Path, every_s: float) -> None:
        self._stopped = threading.Event()
        self.ran = threading.Event()  # set after each checkpoint
        self.error: str | None = None  # why the last checkpoint failed; None when it ran
        self._thread = threading.Thread(
            target=self._run, args=(path, every_s), name="journal-checkpoint", daemon=True
        )
        self._thread.start()

    def _run(self, path: Path, every_s: float) -> None:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopped.wait(every_s):
                self._checkpoint(db)
        finally:
            self._checkpoint(db)
            db.close()

    def _checkpoint(self, db: sqlite3.Connection) -> None:
        """One checkpoint; a failure (disk full, I/O error) is kept for ``status`` and the
        next period tries again: the thread never dies of it."""
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as error:
            self.error = str(error)
        else:
            self.error = None
        self.ran.set()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
