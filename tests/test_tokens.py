"""TokenStore eviction: other users' applyToken calls never take a live session's token
(hardening defect 3)."""

from __future__ import annotations

import pytest

from simulator.core.clock import VirtualClock
from simulator.core.errors import AuthError
from simulator.server.token_store import TokenStore

CHANNEL = "202105284494222653"


def _issue(store: TokenStore, user: str, lifetime: int = 3600) -> str:
    return store.issue_messaging(
        "app", user_id=user, user_name=user, channel_id=CHANNEL, locale="en", lifetime=lifetime
    ).value


def test_a_live_sessions_token_survives_a_flood_of_other_users() -> None:
    live = {"alice"}
    store = TokenStore(VirtualClock(), capacity=100, is_live=lambda _c, u: u in live)
    alice = _issue(store, "alice")
    for n in range(10_000):
        _issue(store, f"other-{n}")
    assert store.find_messaging(alice).user_id == "alice"
    # ended sessions' tokens went instead: the store stays at its bound (+ the live one)
    assert len(store._messaging) <= 101


def test_expired_tokens_go_first_even_of_live_users() -> None:
    now = VirtualClock()
    live = {"alice", "bob"}
    store = TokenStore(now, capacity=2, is_live=lambda _c, u: u in live)
    old = _issue(store, "alice", lifetime=10)
    bob = _issue(store, "bob")
    now.advance(60_000)  # alice's token has expired
    carol = _issue(store, "carol")  # over capacity: the expired one goes, not bob's
    assert store.find_messaging(bob).user_id == "bob"
    assert store.find_messaging(carol).user_id == "carol"
    with pytest.raises(AuthError, match="unknown"):
        store.find_messaging(old)


def test_when_everything_is_live_the_store_grows_past_capacity_rather_than_evict() -> None:
    store = TokenStore(VirtualClock(), capacity=3, is_live=lambda _c, _u: True)
    values = [_issue(store, f"user-{n}") for n in range(10)]
    for value in values:
        store.find_messaging(value)


def test_without_a_liveness_check_the_oldest_go() -> None:
    store = TokenStore(VirtualClock(), capacity=3)
    first = _issue(store, "a")
    for n in range(3):
        _issue(store, f"b{n}")
    with pytest.raises(AuthError, match="unknown"):
        store.find_messaging(first)


def test_expired_access_tokens_go_before_valid_ones() -> None:
    now = VirtualClock()
    store = TokenStore(now, capacity=2)
    short = store.issue_access("app", 10)
    valid = store.issue_access("app", 3600)
    now.advance(60_000)
    store.issue_access("app", 3600)  # over capacity: the expired one goes
    assert store.check_access(f"Bearer {valid.value}", "app") == valid
    with pytest.raises(AuthError, match="unknown"):
        store.check_access(f"Bearer {short.value}", "app")
