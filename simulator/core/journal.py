"""A bounded, typed, in-memory journal with optional JSON Lines persistence.

Every request and every delivery attempt is appended here, so :meth:`Journal.append` is O(1)
and cheap: a ``collections.deque(maxlen=capacity)`` holds ``(seq, entry)`` pairs; when it is
full the oldest entry falls out and is counted in :attr:`Journal.dropped`. Sequence numbers
start at 1 and only grow (``clear()`` does not reset them, so a reader's ``since`` cursor stays
meaningful); ``total`` and ``dropped`` are lifetime counters (Prometheus counters must never go
down).

Persistence (optional): each appended entry is written as one JSON line
``{"seq": N, "entry": ...}`` to a file opened in append mode, through Python's own write
buffer, so an append costs a ``json.dumps`` and a memory copy, not a syscall. The buffer is
flushed every ``flush_every`` entries, on :meth:`Journal.flush` and on :meth:`Journal.close`;
a crash can lose at most the unflushed tail. A file that already holds entries is continued:
sequence numbers go on from its last intact line (so ``since`` cursors and ``seq`` stay
unique across restarts), and a torn last line (a crash in the middle of a write) is cut off
with a warning before anything is appended. A write error is logged once, kept in
:attr:`Journal.persistence_error` and switches persistence off: the in-memory journal and the
request being served carry on.

Not thread-safe: use it from one event loop.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
from collections import deque
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO, Any, Generic, NamedTuple, TypeVar

from simulator.core.errors import FileError

__all__ = ["Entry", "Journal", "read_jsonl"]

T = TypeVar("T")

_log = logging.getLogger(__name__)


class Entry(NamedTuple, Generic[T]):
    """One journaled item with its sequence number."""

    seq: int
    item: T


_new_entry = tuple.__new__


def _to_json_method(item: Any) -> Any:
    to_json = getattr(item, "to_json", None)
    if to_json is None:
        raise TypeError(f"{type(item).__name__} has no to_json(); pass serializer= to Journal")
    return to_json()


class _Waiter(Generic[T]):
    __slots__ = ("future", "predicate")

    def __init__(self, predicate: Callable[[T], bool], future: asyncio.Future[Entry[T]]) -> None:
        self.predicate = predicate
        self.future = future


class Journal(Generic[T]):
    """A capped, append-only log of ``T`` values, newest last."""

    def __init__(
        self,
        capacity: int = 10_000,
        *,
        path: str | Path | None = None,
        serializer: Callable[[T], Any] | None = None,
        flush_every: int = 256,
    ) -> None:
        """``path`` turns on JSON Lines persistence; entries are turned into JSON values by
        ``serializer`` or, without one, by their own ``to_json()`` method."""
        if capacity < 1:
            raise ValueError(f"journal capacity must be at least 1, got {capacity}")
        self._entries: deque[Entry[T]] = deque(maxlen=capacity)
        self._capacity = capacity
        self._seq = 0
        self._dropped = 0
        self._waiters: builtins.list[_Waiter[T]] = []
        self._serializer: Callable[[T], Any] = serializer or _to_json_method
        self._flush_every = max(1, flush_every)
        self._unflushed = 0
        self._file: IO[str] | None = None
        self._path = Path(path) if path is not None else None
        self.persistence_error: str | None = None
        """Why persistence stopped, if a write failed."""
        if self._path is not None:
            try:
                self._seq = _resume(self._path)
                self._file = self._path.open("a", encoding="utf-8")
            except OSError as exc:
                raise FileError(str(self._path), None, f"cannot open journal file: {exc}") from exc

    # -- counters -----------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        """The most entries kept in memory."""
        return self._capacity

    @property
    def total(self) -> int:
        """Entries ever appended (lifetime; equals the last sequence number)."""
        return self._seq

    @property
    def dropped(self) -> int:
        """Entries pushed out by the capacity cap (lifetime; ``clear()`` does not count)."""
        return self._dropped

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest entry ever appended (0 before the first)."""
        return self._seq

    def __len__(self) -> int:
        return len(self._entries)

    # -- writing ------------------------------------------------------------------------------
    def append(self, item: T) -> int:
        """Add ``item``; return its sequence number. O(1)."""
        self._seq += 1
        entry: Entry[T] = _new_entry(Entry, (self._seq, item))  # Entry() is a Python call
        if len(self._entries) == self._capacity:
            self._dropped += 1
        self._entries.append(entry)
        if self._file is not None:
            self._persist(entry)
        if self._waiters:
            self._wake(entry)
        return self._seq

    def _persist(self, entry: Entry[T]) -> None:
        assert self._file is not None
        try:
            line = json.dumps(
                {"seq": entry.seq, "entry": self._serializer(entry.item)}, ensure_ascii=False
            )
            self._file.write(line + "\n")
            self._unflushed += 1
            if self._unflushed >= self._flush_every:
                self._file.flush()
                self._unflushed = 0
        except (OSError, TypeError, ValueError) as exc:
            # Persistence is a side channel: a full disk must not fail the request being
            # journaled. Say so loudly once and stop writing.
            self.persistence_error = f"{type(exc).__name__}: {exc}"
            _log.error("journal persistence to %s stopped: %s", self._path, self.persistence_error)
            self._close_file()

    def _wake(self, entry: Entry[T]) -> None:
        keep: builtins.list[_Waiter[T]] = []
        for waiter in self._waiters:
            if waiter.future.done():
                continue
            try:
                matched = waiter.predicate(entry.item)
            except Exception as exc:  # the waiter's own bug: report it to the waiter
                waiter.future.set_exception(exc)
                continue
            if matched:
                waiter.future.set_result(entry)
            else:
                keep.append(waiter)
        self._waiters = keep

    def clear(self) -> None:
        """Forget every entry in memory (sequence numbers and counters keep growing)."""
        self._entries.clear()

    def flush(self) -> None:
        """Push buffered JSON lines to the file."""
        if self._file is not None:
            try:
                self._file.flush()
            except OSError as exc:
                self.persistence_error = f"{type(exc).__name__}: {exc}"
                _log.error("journal persistence to %s stopped: %s", self._path, exc)
                self._close_file()
            self._unflushed = 0

    def _close_file(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError as exc:
                _log.error("closing journal file %s failed: %s", self._path, exc)

    def close(self) -> None:
        """Flush and close the persistence file (the in-memory journal stays readable)."""
        self.flush()
        self._close_file()

    # -- reading ------------------------------------------------------------------------------
    def _after(self, since: int | None) -> Iterator[Entry[T]]:
        if since is None or not self._entries:
            return iter(self._entries)
        # seqs in the deque are contiguous, so the start index is arithmetic
        start = max(0, since + 1 - self._entries[0].seq)
        return islice(self._entries, start, None)

    def list(
        self,
        where: Callable[[T], bool] | None = None,
        *,
        since: int | None = None,
        limit: int | None = None,
        newest: bool = False,
    ) -> builtins.list[Entry[T]]:
        """Entries in sequence order with ``seq > since`` for which ``where(item)`` is true.

        ``limit`` keeps the first ``limit`` matches (cursor paging with ``since``), or with
        ``newest=True`` the last ``limit`` matches (still oldest first).
        """
        found: Iterator[Entry[T]] = self._after(since)
        if where is not None:
            found = (entry for entry in found if where(entry.item))
        if limit is None:
            return list(found)
        if limit <= 0:
            return []
        if newest:
            return list(deque(found, maxlen=limit))
        return list(islice(found, limit))

    # A timeout parameter on purpose: test helpers call wait_for(pred, 5) like asyncio.wait_for.
    async def wait_for(
        self,
        predicate: Callable[[T], bool],
        timeout: float,  # noqa: ASYNC109
        *,
        since: int | None = None,
    ) -> Entry[T]:
        """The first entry (already journaled with ``seq > since``, or appended later) for
        which ``predicate`` is true; ``TimeoutError`` after ``timeout`` seconds.

        Woken by :meth:`append`, never by polling. ``since=journal.last_seq`` waits for a new
        entry only.
        """
        for entry in self._after(since):
            if predicate(entry.item):
                return entry
        future: asyncio.Future[Entry[T]] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(predicate, future)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise TimeoutError(
                f"no matching journal entry within {timeout:g} s "
                f"(journal has {len(self)} entries, last seq {self._seq})"
            ) from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


_TAIL_CHUNK = 64 * 1024


def _seq_of(line: bytes) -> int | None:
    """The sequence number of one journal line, or None when it is not one."""
    try:
        record = json.loads(line)
        return int(record["seq"]) if isinstance(record, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


def _resume(path: Path) -> int:
    """The last sequence number written to ``path`` (0 for a missing or empty file).

    Reads backwards from the end, so a large file costs only its tail. Whatever follows the
    last intact line (a line cut short by a crash, with or without its newline) is cut off
    with a warning: appending after it would glue the next entry to the torn one."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    with path.open("r+b") as file:
        region_end = size  # the end of the bytes not yet examined: a newline's position or EOF
        carry = b""  # the start of a line cut by the previous chunk's boundary
        first = True
        while region_end > 0:
            start = max(0, region_end - len(carry) - _TAIL_CHUNK)
            file.seek(start)
            data = file.read(region_end - len(carry) - start) + carry
            parts = data.split(b"\n")
            # the first iteration's last part follows the last newline: unterminated
            cur = region_end - (len(parts[-1]) + 1 if first else 0)
            candidates = parts[:-1] if first else parts
            lowest = 0 if start == 0 else 1  # parts[0] may be cut at the chunk boundary
            for index in range(len(candidates) - 1, lowest - 1, -1):
                line = candidates[index]
                seq = _seq_of(line) if line.strip() else None
                if seq is not None:
                    good_end = cur + 1
                    if good_end < size:
                        file.seek(good_end)
                        if file.read().strip():
                            _log.warning(
                                "journal file %s: cut off %d bytes after the last intact "
                                "line (a write interrupted by a crash)",
                                path,
                                size - good_end,
                            )
                        file.truncate(good_end)
                    return seq
                cur -= len(line) + 1
            if start == 0:
                break
            carry = parts[0]
            region_end = start + len(parts[0])
            first = False
        if size:
            _log.warning("journal file %s: no intact line found; the file is cut to empty", path)
            file.truncate(0)
    return 0


def read_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """Read back a journal file: ``(seq, entry JSON value)`` per line. A torn last line (no
    newline: a crash in the middle of a write) is skipped with a warning; any other bad line
    is a :class:`FileError` with its line number."""
    with Path(path).open(encoding="utf-8", errors="replace") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                yield int(record["seq"]), record["entry"]
            except (ValueError, KeyError, TypeError) as exc:
                if not line.endswith("\n"):
                    _log.warning("journal file %s: skipped a torn last line %d", path, number)
                    return
                raise FileError(str(path), number, f"not a journal line: {exc}") from None
