"""History belongs to the customer, not the session (issue 10 item 4): the store's
bookkeeping, without a server."""

from __future__ import annotations

from simulator.server.sessions import CustomerHistory, Session, SessionStore


def _session(store: SessionStore, user: str, now_ms: int) -> Session:
    session = Session(
        "ch", user, user, robot=False, now_ms=now_ms, history=store.history_for("ch", user)
    )
    store.put(session)
    return session


def test_a_new_session_keeps_the_customers_records_each_with_its_call_id() -> None:
    store = SessionStore()
    first = _session(store, "u", 1_659_938_875_000)
    first.record({"controlType": "CONNECT"}, from_customer=True, now_ms=1)
    first.end("customer-disconnect")
    second = _session(store, "u", 1_659_938_999_000)
    second.record({"controlType": "CONNECT"}, from_customer=True, now_ms=2)
    history = store.history_of("ch", "u")
    assert history is second.history is first.history
    records = history.records()
    assert [r["callId"] for r in records] == [first.call_id, second.call_id]
    assert first.call_id != second.call_id
    assert first.call_id.startswith("1659938875-")
    assert store.history_of("ch", "someone-else") is None  # nothing made by asking


def test_history_is_bounded_by_the_live_limit_and_counts_what_it_drops() -> None:
    limit = [3]
    history = CustomerHistory(lambda: limit[0])
    for n in range(5):
        history.append({"content": str(n)}, from_customer=True, now_ms=n, call_id="c")
    assert [r["content"] for r in history.records()] == ["2", "3", "4"]
    assert history.dropped == 2
    limit[0] = 1  # a config change applies on the next record
    history.append({"content": "5"}, from_customer=True, now_ms=5, call_id="c")
    assert [r["content"] for r in history.records()] == ["5"]
    assert history.dropped == 5


def test_a_forgotten_session_takes_its_history_with_it() -> None:
    store = SessionStore(capacity=1)
    old = _session(store, "old", 0)
    old.record({"content": "x"}, from_customer=True, now_ms=0)
    old.end("timeout")
    _session(store, "new", 1)  # past capacity: the ended "old" is forgotten
    assert store.get("ch", "old") is None
    assert store.history_of("ch", "old") is None
    store.clear()
    assert store.history_of("ch", "new") is None


def test_records_keep_their_numbers_and_objects_in_order_through_trimming_and_restore() -> None:
    limit = [3]
    history = CustomerHistory(lambda: limit[0])
    messages = [{"content": str(n), "sourceType": "AGENT"} for n in range(5)]
    for n, message in enumerate(messages):
        history.append(message, from_customer=n % 2 == 0, now_ms=1_000 + n, call_id=f"c{n // 3}")
    entries = history.entries
    assert [(m, mine, ms, call) for _, m, mine, ms, call in entries] == [
        (messages[2], True, 1_002, "c0"),
        (messages[3], False, 1_003, "c1"),
        (messages[4], True, 1_004, "c1"),
    ]
    ids = [rid for rid, *_ in entries]
    assert ids == sorted(ids) and len(set(ids)) == 3 and history.last_id == ids[-1]
    assert all(entry[2] is True or entry[2] is False for entry in entries)  # bools, not 0/1
    assert list(history.pushed_in("c1")) == [messages[3]]
    assert list(history.pushed_in("c0")) == []  # c0's pushed record (1) was dropped
    restored = CustomerHistory(lambda: limit[0], entries, history.dropped)
    assert (restored.entries, restored.dropped, len(restored)) == (entries, 2, 3)
    assert restored.records() == history.records()
    assert CustomerHistory().last_id is None
    twin = history.copy()
    history.append(messages[0], from_customer=False, now_ms=2_000, call_id="c2")
    assert (twin.entries, twin.dropped) == (entries, 2)  # a copy, not a view
