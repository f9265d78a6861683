"""The bounded journal: cap and drop count, sequence numbers, queries, JSONL, wait_for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulator.core.errors import FileError
from simulator.core.journal import Entry, Journal, read_jsonl


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    n: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "n": self.n}


def test_cap_drops_oldest_and_counts() -> None:
    journal: Journal[int] = Journal(capacity=3)
    seqs = [journal.append(i) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert [e.item for e in journal.list()] == [2, 3, 4]
    assert [e.seq for e in journal.list()] == [3, 4, 5]
    assert (len(journal), journal.total, journal.dropped, journal.capacity) == (3, 5, 2, 3)


def test_clear_keeps_sequence_numbers_and_lifetime_counters() -> None:
    journal: Journal[str] = Journal(capacity=2)
    for word in "abc":
        journal.append(word)
    journal.clear()
    assert journal.list() == []
    assert (journal.total, journal.dropped, journal.last_seq) == (3, 1, 3)
    assert journal.append("d") == 4
    assert journal.list() == [Entry(4, "d")]
    assert journal.dropped == 1  # one slot was free again: nothing dropped


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ({"since": 7}, [8, 9, 10]),
        ({"since": 0}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ({"since": 10}, []),
        ({"since": 99}, []),
        ({"limit": 3}, [1, 2, 3]),
        ({"limit": 3, "newest": True}, [8, 9, 10]),
        ({"limit": 0}, []),
        ({"since": 4, "limit": 2}, [5, 6]),
        ({"where": lambda i: i % 2 == 0}, [2, 4, 6, 8, 10]),
        ({"where": lambda i: i % 2 == 0, "since": 5, "limit": 2}, [6, 8]),
        ({"where": lambda i: i % 2 == 0, "limit": 2, "newest": True}, [8, 10]),
    ],
)
def test_list_filters(kwargs: dict[str, Any], expected: list[int]) -> None:
    journal: Journal[int] = Journal(capacity=100)
    for i in range(1, 11):
        journal.append(i)
    assert [e.item for e in journal.list(**kwargs)] == expected


def test_since_after_drops_uses_sequence_numbers_not_positions() -> None:
    journal: Journal[int] = Journal(capacity=4)
    for i in range(1, 11):
        journal.append(i * 10)
    assert [e.seq for e in journal.list(since=2)] == [7, 8, 9, 10]  # 3..6 are gone
    assert [e.seq for e in journal.list(since=8)] == [9, 10]


def test_bad_capacity_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Journal(capacity=0)


def test_jsonl_round_trip_with_to_json(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal: Journal[Item] = Journal(capacity=2, path=path, flush_every=1000)
    items = [Item("ä", 1), Item("b", 2), Item("c", 3)]
    for item in items:
        journal.append(item)
    journal.close()
    # persistence is append-only and not capped: all three survive
    assert list(read_jsonl(path)) == [(i + 1, item.to_json()) for i, item in enumerate(items)]
    # a second journal on the same file appends
    again: Journal[Item] = Journal(path=path)
    again.append(Item("d", 4))
    again.close()
    # ... and continues the sequence (a since cursor stays meaningful across restarts)
    assert [seq for seq, _ in read_jsonl(path)] == [1, 2, 3, 4]


def test_buffered_lines_reach_the_file_on_flush_every_and_flush(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal: Journal[int] = Journal(path=path, serializer=lambda i: {"i": i}, flush_every=2)
    journal.append(1)
    journal.append(2)  # second append flushes
    assert path.read_text(encoding="utf-8").count("\n") == 2
    journal.append(3)
    journal.flush()
    assert [json.loads(line) for line in path.read_text().splitlines()][-1] == {
        "seq": 3,
        "entry": {"i": 3},
    }
    journal.close()


def test_unopenable_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(FileError) as caught:
        Journal(path=tmp_path / "missing-dir" / "j.jsonl")
    assert "missing-dir" in str(caught.value)


def test_unserialisable_entry_stops_persistence_but_not_the_journal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal: Journal[object] = Journal(path=tmp_path / "j.jsonl")
    journal.append(object())  # no to_json()
    assert journal.persistence_error is not None
    assert "to_json" in journal.persistence_error
    assert "persistence" in caplog.text
    journal.append(2)
    assert len(journal) == 2
    journal.close()


def test_read_jsonl_reports_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"seq": 1, "entry": 1}\nnot json\n', encoding="utf-8")
    with pytest.raises(FileError) as caught:
        list(read_jsonl(path))
    assert caught.value.line == 2


async def test_wait_for_an_entry_already_there() -> None:
    journal: Journal[int] = Journal()
    journal.append(5)
    assert await journal.wait_for(lambda i: i == 5, 1) == Entry(1, 5)


async def test_wait_for_is_woken_by_append_not_polling() -> None:
    journal: Journal[int] = Journal()
    journal.append(1)
    waiting = asyncio.ensure_future(journal.wait_for(lambda i: i > 1, 5, since=journal.last_seq))
    await asyncio.sleep(0)  # let it register
    assert not waiting.done()
    journal.append(0)  # does not match
    await asyncio.sleep(0)
    assert not waiting.done()
    journal.append(7)
    # append resolved the waiter's future: the task finishes within a couple of loop turns
    # (a polling implementation would still be asleep)
    for _ in range(3):
        await asyncio.sleep(0)
    assert waiting.done()
    assert await waiting == Entry(3, 7)


async def test_wait_for_since_ignores_older_matches() -> None:
    journal: Journal[int] = Journal()
    journal.append(7)
    waiting = asyncio.ensure_future(journal.wait_for(lambda i: i == 7, 5, since=1))
    await asyncio.sleep(0)
    assert not waiting.done()
    journal.append(7)
    assert (await waiting).seq == 2


async def test_wait_for_times_out_and_unregisters() -> None:
    journal: Journal[int] = Journal()
    with pytest.raises(TimeoutError, match="no matching journal entry"):
        await journal.wait_for(lambda i: i == 1, 0.01)
    journal.append(1)  # no stale waiter left to wake
    assert journal._waiters == []


async def test_a_raising_predicate_fails_its_waiter_not_the_appender() -> None:
    journal: Journal[int] = Journal()

    def broken(item: int) -> bool:
        raise KeyError("bug in the test's predicate")

    waiting = asyncio.ensure_future(journal.wait_for(broken, 5, since=0))
    await asyncio.sleep(0)
    assert journal.append(1) == 1
    with pytest.raises(KeyError):
        await waiting


async def test_many_waiters_each_get_their_own_entry() -> None:
    journal: Journal[int] = Journal()

    def equal_to(n: int) -> Callable[[int], bool]:
        return lambda i: i == n

    waits = [asyncio.ensure_future(journal.wait_for(equal_to(n), 5)) for n in range(3)]
    await asyncio.sleep(0)
    for n in reversed(range(3)):
        journal.append(n)
    assert [(await w).item for w in waits] == [0, 1, 2]


@pytest.mark.parametrize("chunk", [7, 64, 65536])
@pytest.mark.parametrize(
    "tail",
    [b"", b'{"seq": 4, "en', b'{"seq": 4, "en\n', b"\n\n", b'{"seq": 4, "entry": 4}garbage'],
)
def test_a_reopened_file_continues_after_its_last_intact_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    chunk: int,
    tail: bytes,
) -> None:
    import simulator.core.journal as journal_module

    monkeypatch.setattr(journal_module, "_TAIL_CHUNK", chunk)
    path = tmp_path / "j.jsonl"
    intact = b"".join(b'{"seq": %d, "entry": %d}\n' % (i, i) for i in (1, 2, 3))
    path.write_bytes(intact + tail)
    journal: Journal[int] = Journal(path=path, serializer=lambda i: i)
    assert journal.append(40) == 4
    journal.close()
    assert list(read_jsonl(path)) == [(1, 1), (2, 2), (3, 3), (4, 40)]
    torn = bool(tail.strip())
    assert ("cut off" in caplog.text) is torn


def test_a_file_with_no_intact_line_is_started_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"seq": 1, "ent')
    journal: Journal[int] = Journal(path=path, serializer=lambda i: i)
    assert journal.append(1) == 1
    journal.close()
    assert list(read_jsonl(path)) == [(1, 1)]
    assert "no intact line" in caplog.text


def test_read_jsonl_skips_a_torn_last_line_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"seq": 1, "entry": 1}\n{"seq": 2, "en', encoding="utf-8")
    assert list(read_jsonl(path)) == [(1, 1)]
    assert "torn last line 2" in caplog.text
