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
