"""The pure side of fault rules: parsing, matching, counting, lifetimes (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.core.clock import VirtualClock
from simulator.core.errors import ValidationFailed
from simulator.core.faults import (
    CallView,
    FaultStore,
    parse_rule,
    resolve_pointer,
    rule_document,
)
from simulator.core.faults.matcher import MISSING, matches
from simulator.core.faults.operations import MESSAGE_OPERATIONS, OPERATIONS
from simulator.core.validation import default_store


def rule(document: dict[str, Any]) -> Any:
    return parse_rule(document, default_store())


def call(**fields: Any) -> CallView:
    base: dict[str, Any] = {
        "endpoint": "send",
        "method": "POST",
        "user_id": "u1",
        "channel": "c1",
        "headers": {},
        "body": {"controlType": "CHAT", "mediaType": "TEXT", "content": "hi"},
    }
    base.update(fields)
    return CallView(**base)


def test_json_pointers_resolve_with_escapes_and_indexes() -> None:
    document = {"a/b": {"m~n": [1, {"x": True}]}}
    assert resolve_pointer(document, "/a~1b/m~0n/1/x") is True
    assert resolve_pointer(document, "/a~1b/m~0n/2") is MISSING
    assert resolve_pointer(document, "/nope") is MISSING
    assert resolve_pointer(document, "") == document


def test_body_equality_is_json_equality() -> None:
    match = rule({"match": {"body": {"/n": 1}}, "action": {"status": 500}}).match
    assert matches(match, call(body={"n": 1.0}))
    assert not matches(match, call(body={"n": True}))
    assert not matches(match, call(body={}))


def test_every_condition_must_hold() -> None:
    match = rule(
        {
            "match": {
                "endpoint": ["send", "sendAsync"],
                "method": "POST",
                "userId": "u1",
                "channel": "c1",
                "controlType": "CHAT",
                "mediaType": "TEXT",
                "headers": {"X-A": "1"},
            },
            "action": {"status": 500},
        }
    ).match
    assert matches(match, call(headers={"x-a": "1"}))
    assert not matches(match, call(headers={"x-a": "2"}))
    assert not matches(match, call(endpoint="poll", headers={"x-a": "1"}))
    assert not matches(match, call(user_id="u2", headers={"x-a": "1"}))
    assert not matches(match, call(body=None, headers={"x-a": "1"}))


def test_nth_counts_only_the_calls_a_rule_could_take() -> None:
    store = FaultStore(VirtualClock(0))
    store.add(rule({"id": "second-chat", "match": {"nth": 2, "controlType": "CHAT"},
                    "action": {"status": 500}}))  # fmt: skip
    connect = call(body={"controlType": "CONNECT"})
    picked = [store.pick(c) for c in (connect, call(), connect, call(), call())]
    assert [p is not None for p in picked] == [False, False, False, True, False]


def test_priority_then_newest_acts_and_times_remove_the_rule() -> None:
    store = FaultStore(VirtualClock(0))
    store.add(rule({"id": "old", "action": {"status": 500}}))
    store.add(rule({"id": "new", "action": {"status": 501}}))
    store.add(rule({"id": "vip", "priority": 5, "action": {"status": 502}, "times": 1}))
    chosen = [store.pick(call()) for _ in range(2)]
    assert [c.rule.id for c in chosen if c] == ["vip", "new"]
    assert [i.rule.id for i in store.rules] == ["new", "old"]
    assert [i.seen for i in store.rules] == [2, 2]


def test_until_removes_the_rule_when_its_time_has_come() -> None:
    clock = VirtualClock(0)
    store = FaultStore(clock)
    store.add(rule({"action": {"status": 500}, "until": 1000}))
    assert store.pick(call()) is not None
    clock.advance(999)
    assert store.pick(call()) is not None
    clock.advance(1)
    assert store.pick(call()) is None
    assert store.rules == []


def test_probability_is_seeded() -> None:
    def draws(seed: int) -> list[bool]:
        store = FaultStore(VirtualClock(0))
        store.add(rule({"match": {"probability": 0.3, "seed": seed}, "action": {"status": 500}}))
        return [store.pick(call()) is not None for _ in range(50)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    assert 0 < sum(draws(1)) < 50


def test_flat_keywords_make_the_document() -> None:
    assert rule_document(endpoint="send", control_type="CHAT", status=503, times=2) == {
        "times": 2,
        "match": {"endpoint": "send", "controlType": "CHAT"},
        "action": {"status": 503},
    }
    assert rule_document(calls=(2, 3), body_equals={"/a": 1}, delay_ms=5)["match"] == {
        "calls": [2, 3],
        "body": {"/a": 1},
    }


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ({"action": {}}, "/action"),
        ({"action": {"connection": "close", "token": "expire_access"}}, "/action/token"),
        ({"action": {"interval_ms": 5}}, "/action/interval_ms"),
        ({"action": {"body_mode": "not_json", "body": "x"}}, "/action/body"),
        ({"action": {"status": 500}, "match": {"nth": 1, "calls": [1, 2]}}, "/match/nth"),
        ({"action": {"status": 500}, "match": {"seed": 1}}, "/match/seed"),
        ({"action": {"status": 500}, "match": {"body": {"no-slash": 1}}}, "/match/body"),
    ],
)
def test_mistakes_are_refused_with_their_pointer(document: dict[str, Any], pointer: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        rule(document)
    assert pointer in [v.pointer for v in caught.value.violations]


# ------------------------------------------------------------ names no call can meet


def _refused(document: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        rule(document)
    return {v.pointer: v.message for v in caught.value.violations}


def test_an_unknown_endpoint_is_refused_with_a_close_match() -> None:
    found = _refused({"match": {"endpoint": "sendd"}, "action": {"status": 503}})
    assert found == {
        "/match/endpoint": "'sendd' is not an endpoint of the emulated AICC; did you mean 'send'?"
    }
    # a case slip is a close match too, however short the name
    found = _refused({"match": {"endpoint": "POLL"}, "action": {"status": 503}})
    assert "did you mean 'poll'?" in found["/match/endpoint"]


def test_an_unknown_endpoint_without_a_close_match_lists_the_known_names() -> None:
    found = _refused({"match": {"endpoint": ["send", "xyz"]}, "action": {"status": 503}})
    message = found["/match/endpoint/1"]
    assert message.startswith("'xyz' is not an endpoint of the emulated AICC; known: ")
    assert all(name in message for name in OPERATIONS)
    assert list(found) == ["/match/endpoint/1"]  # send is known


@pytest.mark.parametrize(
    ("match", "pointer", "message"),
    [
        ({"endpoint": "send", "method": "GET"}, "/match/method",
         "GET never meets it: send is called with POST"),
        ({"method": "PUT"}, "/match/method", "no endpoint is called with PUT (GET or POST)"),
        ({"endpoint": ["poll", "send"], "method": "DELETE"}, "/match/method",
         "DELETE never meets it: poll is called with GET, send is called with POST"),
        ({"endpoint": "poll", "controlType": "CHAT"}, "/match/controlType",
         "only the bodies of send and sendAsync carry a controlType; poll never matches"),
        ({"endpoint": ["applyToken"], "mediaType": "TEXT"}, "/match/mediaType",
         "only the bodies of send and sendAsync carry a mediaType; applyToken never matches"),
    ],
)  # fmt: skip
def test_a_rule_that_no_call_can_meet_is_refused(
    match: dict[str, Any], pointer: str, message: str
) -> None:
    assert _refused({"match": match, "action": {"status": 503}}) == {pointer: message}


@pytest.mark.parametrize(
    "match",
    [
        {"endpoint": "poll", "method": "GET"},
        {"endpoint": ["poll", "send"], "method": "POST"},
        {"endpoint": ["poll", "send"], "controlType": "CHAT"},
        {"method": "GET"},
        {"controlType": "CONNECT", "mediaType": "TEXT"},
        {"endpoint": "files"},
    ],
)
def test_rules_some_call_can_meet_are_taken(match: dict[str, Any]) -> None:
    # parsed without a complaint
    assert rule({"match": match, "action": {"status": 503}}).document["match"] == match


def test_other_names_of_a_rule_are_the_schemas_enums() -> None:
    # the action kinds and the vendor's controlType/mediaType values: refused by the schema
    # with the pointer of the member (and the values it takes)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"match": {"mediaType": "TXT"}, "action": {"status": 503}}, "/match/mediaType"),
        ({"match": {"controlType": "chat"}, "action": {"status": 503}}, "/match/controlType"),
        ({"action": {"connection": "hangup"}}, "/action/connection"),
        ({"action": {"body_mode": "broken"}}, "/action/body_mode"),
        ({"action": {"token": "expire"}}, "/action/token"),
    ]
    for document, pointer in cases:
        found = _refused(document)
        assert pointer in found, found


def test_the_names_rules_take_are_the_route_tables() -> None:
    # written out in core (the config's and scenarios' checks come before the server);
    # this keeps them the route table's row names, each with its method
    from simulator.server.routes import EMULATED

    assert {(route.name, route.method) for route in EMULATED} == set(OPERATIONS.items())
    carries = {
        route.name
        for route in EMULATED
        if route.request_schema is not None
        and "controlType" in default_store().schema(route.request_schema).get("properties", {})
    }
    assert carries == MESSAGE_OPERATIONS


def test_a_rules_control_and_media_types_are_the_send_bodys() -> None:
    store = default_store()
    rule_match = store.schema("fault-rule")["$defs"]["match"]["properties"]
    send = store.schema("send-request")["properties"]
    for member in ("controlType", "mediaType"):
        assert rule_match[member]["enum"] == send[member]["enum"], member
