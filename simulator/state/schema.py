"""The state file's tables, and how it is opened (WAL, ``synchronous=NORMAL``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from simulator.core.errors import ConfigError

__all__ = ["SCHEMA_VERSION", "connect"]

#: bumped when the tables change incompatibly; a file of another version is refused
SCHEMA_VERSION = 1

# Rows keep insertion order in their rowid (``id``): restored in that order, oldest first,
# as the in-memory stores evict. An upsert (INSERT OR REPLACE) moves a row to the end.
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, value TEXT NOT NULL, doc TEXT NOT NULL,
    UNIQUE (kind, value));
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY, channel_id TEXT NOT NULL, user_id TEXT NOT NULL,
    session TEXT NOT NULL, history TEXT NOT NULL, UNIQUE (channel_id, user_id));
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, file_id TEXT NOT NULL UNIQUE, file_type TEXT NOT NULL,
    channel_id TEXT NOT NULL, user_id TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS left_messages (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ratings (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
"""


def connect(path: str | Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open (creating if needed) the state file at ``path``: WAL journal mode and
    ``synchronous=NORMAL`` (a commit is in the WAL, in the operating system's hands, when it
    returns: it survives the process being killed; an fsync at checkpoints only, so a power
    cut may lose the last commits). Raises :class:`ConfigError` for a file that is not a
    state file of this version."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=check_same_thread)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_TABLES)
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            conn.close()
            raise ConfigError(
                str(path),
                None,
                f"state file of schema version {row[0]}; this simulator reads version "
                f"{SCHEMA_VERSION} (move the file away to start afresh)",
            )
    except sqlite3.DatabaseError as exc:
        raise ConfigError(str(path), None, f"not a usable state file: {exc}") from exc
    return conn
