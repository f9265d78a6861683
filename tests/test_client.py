"""The admin client (``simulator.testing.client``): pure matching, and every call against a real
simulator served from a thread."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import pytest

import simulator.testing.client as client_module
from simulator.core.errors import AdminApiError, SimulatorError, WaitTimeout
from simulator.testing.client import (
    AdminClient,
    DeliveryFilters,
    DeliveryMatch,
    RequestFilters,
    RequestMatch,
    inject_messages,
    messages_of,
    timeout_message,
)
from simulator.testing.pytest_plugin import InProcessSimulator

# --------------------------------------------------------------------------- pure matching


def _push(*messages: dict[str, Any], conversation: str = "ch/u1", **extra: Any) -> dict[str, Any]:
    body = json.dumps({"timestamp": 1, "messages": list(messages)})
    return {
        "seq": 1,
        "conversation": conversation,
        "runId": "run-1",
        "verdict": "accepted",
        "requestBody": body,
        **extra,
    }


QUEUING = {"controlType": "CHAT", "sourceType": "SYSTEM", "mediaType": "TEXT", "content": "Q"}
BYE = {"controlType": "DISCONNECT", "sourceType": "AGENT", "mediaType": None, "content": None}


@pytest.mark.parametrize(
    ("entry", "messages"),
    [
        (_push(QUEUING, BYE), [QUEUING, BYE]),
        ({"kind": "poll", "messages": [QUEUING]}, [QUEUING]),
        ({"requestBody": "{not json"}, []),
        ({"requestBody": '{"messages": "x"}'}, []),
        ({"requestBody": "[1, 2]"}, []),
        ({}, []),
    ],
)
def test_messages_of(entry: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    assert messages_of(entry) == messages


@pytest.mark.parametrize(
    ("match", "entry", "expected"),
    [
        (DeliveryMatch(), _push(QUEUING), True),
        (DeliveryMatch(user_id="u1"), _push(QUEUING), True),
        (DeliveryMatch(user_id="u2"), _push(QUEUING), False),
        (DeliveryMatch(user_id="a/b"), _push(QUEUING, conversation="ch/a/b"), True),
        (DeliveryMatch(channel_id="ch"), _push(QUEUING), True),
        (DeliveryMatch(channel_id="other"), _push(QUEUING), False),
        (DeliveryMatch(run_id="run-2"), _push(QUEUING), False),
        (DeliveryMatch(verdict="accepted"), _push(QUEUING), True),
        (DeliveryMatch(verdict="timeout"), _push(QUEUING), False),
        (DeliveryMatch(control_type="DISCONNECT"), _push(QUEUING, BYE), True),
        (DeliveryMatch(control_type="READ"), _push(QUEUING, BYE), False),
        # message fields must hold for one and the same message
        (DeliveryMatch(control_type="CHAT", source_type="AGENT"), _push(QUEUING, BYE), False),
        (DeliveryMatch(control_type="CHAT", content="Q"), _push(QUEUING, BYE), True),
        (DeliveryMatch(media_type="TEXT"), _push(QUEUING), True),
        (DeliveryMatch(lambda e: e["seq"] == 1), _push(QUEUING), True),
        (DeliveryMatch(lambda e: False, user_id="u1"), _push(QUEUING), False),
    ],
)
def test_delivery_match(match: DeliveryMatch, entry: dict[str, Any], expected: bool) -> None:
    assert match(entry) is expected


REQUEST = {
    "seq": 3,
    "method": "POST",
    "path": "/apiaccess/ccmessaging/send",
    "status": 200,
    "userId": "u1",
    "body": {"controlType": "CONNECT"},
}


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        (RequestMatch(path="send"), True),
        (RequestMatch(path="/apiaccess/ccmessaging/send"), True),
        (RequestMatch(path="end"), False),
        (RequestMatch(method="post"), True),
        (RequestMatch(method="GET"), False),
        (RequestMatch(user_id="u1", status=200), True),
        (RequestMatch(status=400), False),
        (RequestMatch(control_type="CONNECT"), True),
        (RequestMatch(control_type="CHAT"), False),
        (RequestMatch(lambda e: e["seq"] > 5), False),
    ],
)
def test_request_match(match: RequestMatch, expected: bool) -> None:
    assert match(REQUEST) is expected


def test_a_match_describes_itself_and_what_the_admin_api_filters() -> None:
    match = DeliveryMatch(lambda e: True, user_id="u1", control_type="READ", verdict="accepted")
    assert str(match) == "user_id='u1', verdict='accepted', control_type='READ', predicate"
    assert match.query() == {"userId": "u1", "verdict": "accepted"}
    assert str(RequestMatch()) == "anything"
    assert RequestMatch(path="send", status=200).query() == {"path": "send", "status": "200"}


@pytest.mark.parametrize(
    ("filters", "match"), [(DeliveryFilters, DeliveryMatch), (RequestFilters, RequestMatch)]
)
def test_the_wait_keywords_are_the_fields_of_the_match(filters: type, match: type) -> None:
    # mypy refuses a filter the match lacks; this catches a match field the waits lack
    assert list(filters.__annotations__) == [f.name for f in fields(match)][1:]


def test_an_unknown_wait_keyword_is_refused_before_any_call() -> None:
    client = AdminClient(f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(TypeError, match="user"):
        client.wait_for_delivery(user="u1", timeout=0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="verdict"):
        client.wait_for_request(verdict="accepted", timeout=0)  # type: ignore[call-arg]


def test_timeout_messages_show_the_newest_entries() -> None:
    entries = [{**_push(QUEUING), "seq": n} for n in range(1, 15)]
    text = timeout_message("delivery", DeliveryMatch(user_id="u9"), 2, entries)
    assert text.startswith("no delivery matching user_id='u9' within 2 s; the newest")
    assert "#5 " in text and "#4 " not in text  # the last ten only
    assert timeout_message("request", RequestMatch(), 1, []).endswith("journal is empty")


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("Hello", [{"content": "Hello"}]),
        ({"controlType": "DISCONNECT"}, [{"controlType": "DISCONNECT"}]),
        ([{"content": "a"}, {"content": "b"}], [{"content": "a"}, {"content": "b"}]),
    ],
)
def test_inject_messages_shapes(given: Any, sent: list[dict[str, Any]]) -> None:
    assert inject_messages(given) == sent


def test_from_env() -> None:
    default = AdminClient.from_env({})
    assert default.base_url == "http://127.0.0.1:8080"
    chosen = AdminClient.from_env({"AICC_SIM_URL": "http://sim:9/", "AICC_SIM_ADMIN_TOKEN": "t"})
    assert (chosen.base_url, chosen.admin_url) == ("http://sim:9", "http://sim:9/__admin")


# --------------------------------------------------------------------------- against a server


@pytest.fixture
def server() -> Iterator[InProcessSimulator]:
    with InProcessSimulator.from_overrides({"channels.0.speed": 50}) as running:
        yield running


@pytest.fixture
def client(server: InProcessSimulator) -> AdminClient:
    # a plain HTTP client, as from another container: no in-process shortcuts
    return AdminClient(server.base_url, poll_interval=0.01)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_health(client: AdminClient) -> None:
    assert client.health()["status"] == "ok"
    assert client.wait_until_healthy(timeout=5)["status"] == "ok"


def test_waiting_for_health_gives_up_with_the_last_error() -> None:
    client = AdminClient(f"http://127.0.0.1:{_closed_port()}", poll_interval=0.01)
    with pytest.raises(WaitTimeout, match=r"not healthy within 0\.1 s .*no answer"):
        client.wait_until_healthy(timeout=0.1)


def test_an_unreachable_simulator_is_an_admin_error_without_status() -> None:
    client = AdminClient(f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(AdminApiError) as caught:
        client.sessions()
    assert caught.value.status is None
    assert "GET http://127.0.0.1:" in str(caught.value)


def test_a_fault_naming_an_unknown_endpoint_is_refused_with_the_servers_words(
    client: AdminClient,
) -> None:
    # the pytest handle's fault(...) is this client's
    with pytest.raises(AdminApiError) as caught, client.fault(endpoint="sendAsnc", status=503):
        pass
    assert caught.value.status == 400
    assert (
        "/match/endpoint: 'sendAsnc' is not an endpoint of the emulated AICC; "
        "did you mean 'sendAsync'?"
    ) in str(caught.value)
    assert client.faults() == []


def test_runs_and_scenarios(client: AdminClient) -> None:
    names = {s["name"] for s in client.scenarios()}
    assert {"queuing", "connected", "agent-disconnect", "read-receipt"} <= names
    run_id = client.start_run("queuing", "u1")
    push = client.wait_for_delivery(run_id=run_id, verdict="accepted")
    assert messages_of(push)[0]["content"] == "Queuing..."
    assert client.run(run_id)["userId"] == "u1"
    assert [r["runId"] for r in client.runs()] == [run_id]


def test_wait_for_delivery_polls_until_a_later_push(client: AdminClient) -> None:
    client.start_run("connected", "u1", vars={"queueWait": 0.5})  # 10 ms at speed 50
    push = client.wait_for_delivery(
        user_id="u1", source_type="AGENT", content="Hello, this is Alice. How can I help you?"
    )
    assert push["verdict"] == "accepted"
    # since= skips what was seen: nothing newer comes
    with pytest.raises(WaitTimeout, match="source_type='AGENT'"):
        client.wait_for_delivery(user_id="u1", source_type="AGENT", since=push["seq"], timeout=0.05)


def test_a_wait_pages_through_a_long_journal(
    client: AdminClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "_PAGE", 2)
    for number in range(5):
        client.start_run("queuing", f"u{number}")
    push = client.wait_for_delivery(user_id="u4")
    assert push["conversation"].endswith("/u4")


def test_a_wait_that_times_out_shows_the_newest_entries(client: AdminClient) -> None:
    client.start_run("queuing", "u1")
    client.wait_for_delivery(user_id="u1")
    with pytest.raises(WaitTimeout) as caught:
        client.wait_for_delivery(user_id="u1", control_type="READ", timeout=0.05)
    assert "CHAT/SYSTEM 'Queuing...'" in str(caught.value)


def test_requests_are_listed_filtered_and_cleared(
    client: AdminClient, server: InProcessSimulator
) -> None:
    client.start_run("queuing", "u1")  # pushes to the built-in echo receiver
    echo = client.wait_for_request(path="/__echo/aicc", method="POST", status=200)
    assert echo["body"]["messages"][0]["to"] == "u1"
    assert [r["seq"] for r in client.requests(path="/__echo/aicc")] == [echo["seq"]]
    assert client.requests(status=404) == []
    client.clear_requests()
    assert client.requests() == []


def test_sessions_inject_and_reset(client: AdminClient) -> None:
    client.start_run("queuing", "u1")
    answer = client.inject("u1", [{"content": "one"}, {"content": "two"}])
    assert [m["content"] for m in answer["messages"]] == ["one", "two"]
    push = client.wait_for_delivery(user_id="u1", content="two")
    assert [m["content"] for m in messages_of(push)] == ["one", "two"]
    assert client.session("u1")["sessions"][0]["state"] == "agent"
    assert len(client.sessions()) == 1
    assert client.deliveries(user_id="u1", verdict="accepted")
    assert client.running_config()["channels"][0]["speed"] == 50
    client.reset()
    assert client.sessions() == [] and client.deliveries() == []


@pytest.mark.parametrize(
    ("call", "status", "message"),
    [
        (lambda c: c.start_run("no-such", "u1"), 404, "unknown scenario 'no-such'"),
        (lambda c: c.start_run("queuing", ""), 400, "/userId"),
        (lambda c: c.run("run-0"), 404, "no run 'run-0'"),
        (lambda c: c.session("nobody"), 404, "no session for userId 'nobody'"),
        (lambda c: c.inject("nobody", "hi"), 404, "no live session"),
        (lambda c: c.deliveries(limit="x"), 400, "/limit: must be an integer"),
    ],
)
def test_errors_carry_the_status_and_the_servers_reason(
    client: AdminClient, call: Any, status: int, message: str
) -> None:
    with pytest.raises(AdminApiError) as caught:
        call(client)
    error = caught.value
    assert isinstance(error, SimulatorError)
    assert error.status == status
    assert message in str(error)
    assert isinstance(error.body, dict) and error.body["errorCode"] == str(status)


def test_the_admin_token_is_sent() -> None:
    with InProcessSimulator.from_overrides({"admin": {"token": "s3cret"}}) as server:
        assert AdminClient(server.base_url, "s3cret").sessions() == []
        with pytest.raises(AdminApiError) as caught:
            AdminClient(server.base_url).sessions()
        assert caught.value.status == 401
        # health never needs it (container probes)
        assert AdminClient(server.base_url).health()["status"] == "ok"
