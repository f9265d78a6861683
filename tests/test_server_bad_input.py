"""Bad input of every class gets a clear, specific JSON error, never a traceback or a 500,
and the server keeps serving (README.md "Emulated endpoints": never a traceback)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import (
    CCM,
    TOKEN_PATH,
    Customer,
    MakeSim,
    RecordingReceiver,
    Sim,
    channel_doc,
    config_doc,
)

from simulator.server.http import ERROR_TEXTS
from simulator.server.journal_entries import REQUESTS
from simulator.server.reasons import HEADER as REASON_HEADER


@pytest.fixture
async def small(make_sim: MakeSim, receiver: RecordingReceiver) -> Sim:
    """A simulator with a 8 KiB body limit (and a 1 KiB file limit to match)."""
    return await make_sim(
        config_doc(
            [channel_doc(receiver.url)],
            limits={"max_body_bytes": 8192, "max_file_bytes": 1024},
        )
    )


async def _still_serving(sim: Sim, customer: Customer) -> None:
    health = await sim.admin("GET", "/health")
    assert health.status == 200 and health.json["status"] == "ok"
    reply = await customer.send("CONNECT")
    assert reply.status == 200, reply.text


@pytest.fixture
async def customer(small: Sim) -> Customer:
    customer = small.customer("bad-input")
    await customer.login()
    return customer


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"", "body is not valid JSON"),
        (b'{"a": 1,}', "body is not valid JSON"),
        (b"\xef\xbb\xbf{}", "body is not valid JSON"),  # a UTF-8 BOM is not JSON
        (b"[" * 5_000, "nested too deeply"),
        (b'{"n": ' + b"1" * 5000 + b"}", "body is not acceptable JSON"),
        (b'{"n": NaN}', "NaN is not a JSON value"),
        (b'{"n": -Infinity}', "-Infinity is not a JSON value"),
        (b'{"content": "\\ud800"}', "lone UTF-16 surrogate"),
        (b"\xff\xfe{\x00}\x00", "body is not UTF-8"),  # UTF-16, which json.loads would guess
        (b'{"content": "caf\xe9"}', "body is not UTF-8"),  # Latin-1
    ],
)
async def test_unparseable_body_is_400_at_pointer_root(
    small: Sim, customer: Customer, raw: bytes, reason: str
) -> None:
    headers = {**customer.headers(), "Content-Type": "application/json"}
    reply = await small.request("POST", f"{CCM}/send", data=raw, headers=headers)
    assert reply.status == 400, reply.text
    body = reply.json
    assert body["errorCode"] == "400"
    assert body["exceptionInfo"] == ERROR_TEXTS[400]
    assert len(body["violations"]) == 1
    assert body["violations"][0]["pointer"] == ""
    assert reason in body["violations"][0]["message"]
    await _still_serving(small, customer)


async def test_wrong_types_list_every_violation(small: Sim, customer: Customer) -> None:
    body: dict[str, Any] = {
        "channel": 1,
        "controlType": "SHOUT",
        "from": 42,
        "to": ["x"],
        "mediaType": "TEXT",
        "sourceType": "AGENT",
        "messageId": "a,b",
    }
    reply = await customer.call("send", body)
    assert reply.status == 400, reply.text
    violations = reply.json["violations"]
    pointers = {v["pointer"] for v in violations}
    assert {"/channel", "/controlType", "/from", "/to", "/sourceType", "/messageId"} <= pointers
    assert all(v["message"] for v in violations)
    assert reply.json["detail"] == "request does not match send-request"
    await _still_serving(small, customer)


@pytest.mark.parametrize(
    ("path", "body", "pointers"),
    [
        (TOKEN_PATH, {"app_key": 1}, {"", "/app_key"}),
        (f"{CCM}/applyToken", {"userId": "x" * 33, "locale": 5}, {"", "/userId", "/locale"}),
    ],
)
async def test_each_endpoint_lists_all_violations(
    small: Sim, customer: Customer, path: str, body: dict[str, Any], pointers: set[str]
) -> None:
    headers = customer.headers() if path != TOKEN_PATH else {}
    reply = await small.request("POST", path, json_body=body, headers=headers)
    assert reply.status == 400, reply.text
    found = {v["pointer"] for v in reply.json["violations"]}
    assert pointers <= found, reply.text
    assert len(reply.json["violations"]) >= len(pointers)


#: endpoints whose pages document a code for bad parameters: (path, body, pointers, the
#: body's code member, the code); answered in the body unless contract.strict
VENDOR_CODE_CASES = [
    (
        f"{CCM}/queryQueueInfo",
        {"userId": "", "channelConfigId": 1, "channel": "SMS"},
        {"/userId", "/channelConfigId", "/channel"},
        "resultCode",
        "1",
    ),
    (
        f"{CCM}/uploadFileStream",
        {"fileType": "exe", "channel": "WEB"},
        {"", "/fileType"},
        "returnCode",
        "2",
    ),
    (f"{CCM}/doLeaveMessage", {"callId": 7}, {"", "/callId"}, "resultCode", "2"),
]


@pytest.mark.parametrize(("path", "body", "pointers", "member", "code"), VENDOR_CODE_CASES)
async def test_vendor_code_endpoints_answer_in_the_body_with_every_violation(
    small: Sim,
    customer: Customer,
    path: str,
    body: dict[str, Any],
    pointers: set[str],
    member: str,
    code: str,
) -> None:
    reply = await small.request("POST", path, json_body=body, headers=customer.headers())
    assert reply.status == 200, reply.text
    assert reply.json[member] == code, reply.text
    assert reply.json["resultDesc"]
    found = {v["pointer"] for v in reply.json["violations"]}
    assert pointers <= found, reply.text
    assert len(reply.json["violations"]) >= len(pointers)
    # journaled as refused, as a 400 would be: its violations counted, its reason kept
    entry = small.app[REQUESTS].list(limit=1, newest=True)[0].item
    assert (entry.path, entry.status) == (path, 200)
    assert entry.violations == len(reply.json["violations"]), entry
    assert entry.reason is not None and "does not match" in entry.reason
    assert reply.headers[REASON_HEADER] == entry.reason


@pytest.fixture
async def strict(make_sim: MakeSim, receiver: RecordingReceiver) -> Sim:
    """The ``small`` simulator with ``contract.strict: true``."""
    return await make_sim(
        config_doc(
            [channel_doc(receiver.url)],
            limits={"max_body_bytes": 8192, "max_file_bytes": 1024},
            contract={"strict": True},
        )
    )


@pytest.mark.parametrize(("path", "body", "pointers", "member", "code"), VENDOR_CODE_CASES)
async def test_strict_contract_keeps_the_400_listing_every_violation(
    strict: Sim,
    path: str,
    body: dict[str, Any],
    pointers: set[str],
    member: str,
    code: str,
) -> None:
    customer = strict.customer("bad-input")
    await customer.login()
    reply = await strict.request("POST", path, json_body=body, headers=customer.headers())
    assert reply.status == 400, reply.text
    assert member not in reply.json
    found = {v["pointer"] for v in reply.json["violations"]}
    assert pointers <= found, reply.text
    assert len(reply.json["violations"]) >= len(pointers)


@pytest.mark.parametrize("path", [p for p, *_ in VENDOR_CODE_CASES])
async def test_unparseable_body_stays_400_on_vendor_code_endpoints(
    small: Sim, customer: Customer, path: str
) -> None:
    # the gateway cannot read it at all: no vendor code can describe it
    headers = {**customer.headers(), "Content-Type": "application/json"}
    reply = await small.request("POST", path, data=b"{oops", headers=headers)
    assert reply.status == 400, reply.text
    assert reply.json["violations"][0]["pointer"] == ""


async def test_oversize_body_is_413(small: Sim, customer: Customer) -> None:
    body = customer.message("CHAT", "x" * 10_000)
    reply = await customer.call("send", body)
    assert reply.status == 413, reply.text
    assert reply.json["errorCode"] == "413"
    assert "8192" in reply.json["detail"]
    await _still_serving(small, customer)


@pytest.mark.parametrize(
    "path", ["/nope", f"{CCM}/sendSync", f"{CCM}/send/extra", "/__admin/nothing-here"]
)
async def test_unknown_path_is_404_json(small: Sim, customer: Customer, path: str) -> None:
    reply = await small.request("POST", path, json_body={})
    assert reply.status == 404, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json["errorCode"] == "404"
    assert path in reply.json["detail"]
    await _still_serving(small, customer)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", f"{CCM}/send", "POST"),
        ("PUT", f"{CCM}/applyToken", "POST"),
        ("DELETE", TOKEN_PATH, "POST"),
        ("POST", f"{CCM}/poll", "GET"),
        ("PUT", "/__admin/health", "GET"),
    ],
)
async def test_wrong_method_is_405_naming_the_allowed_one(
    small: Sim, customer: Customer, method: str, path: str, allowed: str
) -> None:
    reply = await small.request(method, path)
    assert reply.status == 405, reply.text
    assert reply.json["errorCode"] == "405"
    assert f"allowed: {allowed}" in reply.json["detail"]
    assert allowed in reply.headers["Allow"]
    await _still_serving(small, customer)


async def test_bad_admin_query_and_body(small: Sim) -> None:
    reply = await small.admin("GET", "/requests", params={"limit": "many"})
    assert reply.status == 400
    assert reply.json["violations"][0]["pointer"] == "/limit"
    reply = await small.admin("POST", "/scenarios/connected/runs", data=b"{oops")
    assert reply.status == 400
    assert reply.json["violations"][0]["pointer"] == ""
    reply = await small.admin("POST", "/sessions/u/messages", json_body={"messages": []})
    assert reply.status == 400


async def test_journal_lists_whatever_was_sent(small: Sim, customer: Customer) -> None:
    # bodies that broke the parser are journaled too, and listing them must not break
    headers = {**customer.headers(), "Content-Type": "application/json"}
    for raw in (b"[" * 5_000, b'{"n": ' + b"1" * 5000 + b"}", b"\xff\xfe"):
        await small.request("POST", f"{CCM}/send", data=raw, headers=headers)
    listing = await small.admin("GET", "/requests", params={"status": "400"})
    assert listing.status == 200
    assert len(listing.json["requests"]) == 3
    assert all(isinstance(r["body"], str) for r in listing.json["requests"])
    json.dumps(listing.json)  # plain JSON all the way down


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ({"since": "99999999999999999999999"}, "/since"),
        ({"limit": "-99999999999999999999999"}, "/limit"),
        ({"limit": "9" * 5000}, "/limit"),
        ({"status": "abc"}, "/status"),
        ({"since": "1.5"}, "/since"),
    ],
)
async def test_bad_admin_paging_is_400(small: Sim, query: dict[str, str], pointer: str) -> None:
    for path in ("/requests", "/deliveries"):
        if path == "/deliveries" and pointer == "/status":
            continue  # deliveries have no status filter
        reply = await small.admin("GET", path, params=query)
        assert reply.status == 400, (path, reply.text)
        assert reply.json["violations"][0]["pointer"] == pointer


_EMULATED_POSTS = [
    TOKEN_PATH,
    f"{CCM}/applyToken",
    f"{CCM}/send",
    f"{CCM}/sendAsync",
    f"{CCM}/queryQueueInfo",
    f"{CCM}/uploadFileStream",
    f"{CCM}/downloadFileStream",
    f"{CCM}/queryHistoryChatMessage",
    f"{CCM}/doLeaveMessage",
    f"{CCM}/pushMsg",
]


@pytest.mark.parametrize("depth", [65, 500, 975, 1000, 1024, 1025, 3000])
@pytest.mark.parametrize("path", _EMULATED_POSTS)
async def test_deep_json_is_400_at_any_depth_and_the_journal_still_renders(
    small: Sim, customer: Customer, path: str, depth: int
) -> None:
    # deep inside a field, so that the body is an object as every schema wants
    raw = b'{"channel": ' + b"[" * depth + b"]" * depth + b"}"
    headers = {**customer.headers(), "Content-Type": "application/json"}
    reply = await small.request("POST", path, data=raw, headers=headers)
    assert reply.status == 400, reply.text
    messages = [v["message"] for v in reply.json["violations"]]
    assert any("nested" in m for m in messages), reply.text
    listing = await small.admin("GET", "/requests?limit=5")
    assert listing.status == 200, listing.text
    await _still_serving(small, customer)


async def test_shallow_nesting_is_still_judged_by_the_schema(
    small: Sim, customer: Customer
) -> None:
    body = customer.message("CHAT", "hello")
    body["extra"] = [[[[{"a": [1]}]]]]
    reply = await customer.call("send", body)
    assert "nested" not in reply.text


@pytest.mark.parametrize(
    "raw",
    [
        b'["sim-app-key", {"app_secret": "TOPSECRET-1"}]',
        b'{"app_key": "sim-app-key", "app_secret": "TOPSECRET-1", "x": }',
        b'{"app_key": 5, "app_secret": "TOPSECRET-1"}',
        b'[{"app_key": "sim-app-key", "app_secret": "TOPSECRET-1"}]',
        b'"TOPSECRET-1"',
    ],
)
async def test_app_secret_never_comes_back(small: Sim, raw: bytes) -> None:
    reply = await small.request(
        "POST", TOKEN_PATH, data=raw, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400, reply.text
    assert "TOPSECRET" not in reply.text
    listing = await small.admin("GET", "/requests")
    assert listing.status == 200
    assert "TOPSECRET" not in listing.text
