"""The vendor's auth on the emulated endpoints (reference §1.2, §2.1, §2.2): the API Fabric
AccessToken with x-app-key, and the ccmessaging-token with its mid-session renewal."""

from __future__ import annotations

import pytest
from conftest import (
    APP_KEY,
    APP_SECRET,
    CCM,
    CHANNEL,
    TOKEN_PATH,
    MakeSim,
    RecordingReceiver,
    Sim,
    channel_doc,
    config_doc,
)

from simulator.core.clock import VirtualClock
from simulator.server.http import ERROR_TEXTS
from simulator.server.tokens import EXPIRED_TOKEN_TEXT, TOKENS, WRONG_CREDENTIALS_403

APPLY_BODY = {
    "userId": "auth-user",
    "userName": "A",
    "channelId": "202105284494222653",
    "locale": "en",
}


@pytest.fixture
async def clocked(make_sim: MakeSim, receiver: RecordingReceiver) -> Sim:
    """A simulator on a virtual clock, ccmessaging-tokens living 60 s; the idle timeout (on
    the same clock) is an hour, so that moving a minute on keeps sessions live."""
    return await make_sim(
        config_doc(
            [channel_doc(receiver.url, idle_timeout=3600)], tokens={"ccmessaging_token_ttl": 60}
        ),
        clock=VirtualClock(),
    )


@pytest.mark.parametrize(
    ("app_key", "app_secret"), [(APP_KEY, "wrong-secret"), ("unknown-key", APP_SECRET)]
)
async def test_token_by_ak_sk_refuses_a_wrong_pair_403_as_the_live_gateway(
    sim: Sim, app_key: str, app_secret: str
) -> None:
    # an integrator saw HTTP 403 from the live gateway (vendor web-channel pages, part 2, evidence)
    reply = await sim.request(
        "POST", TOKEN_PATH, json_body={"app_key": app_key, "app_secret": app_secret}
    )
    assert reply.status == 403, reply.text
    assert reply.json["errorCode"] == "0"  # the gateway's 403 shape (reference §1.2)
    assert reply.json["exceptionInfo"] == WRONG_CREDENTIALS_403
    assert reply.json["detail"] == "app_key or app_secret is wrong"
    assert "AccessToken" not in reply.json
    assert app_secret not in reply.text


@pytest.mark.parametrize(
    ("app_key", "app_secret", "status"),
    [
        (APP_KEY, "wrong-secret", 401),
        ("unknown-key", APP_SECRET, 401),
        ("", "", 400),  # empty strings break the schema before the pair is looked up
    ],
)
async def test_token_by_ak_sk_refuses_a_wrong_pair_401_when_configured(
    make_sim: MakeSim, receiver: RecordingReceiver, app_key: str, app_secret: str, status: int
) -> None:
    sim = await make_sim(
        config_doc([channel_doc(receiver.url)], contract={"wrong_credentials_status": 401})
    )
    reply = await sim.request(
        "POST", TOKEN_PATH, json_body={"app_key": app_key, "app_secret": app_secret}
    )
    assert reply.status == status, reply.text
    assert reply.json["errorCode"] == str(status)
    assert reply.json["exceptionInfo"] == ERROR_TEXTS[status]
    assert "AccessToken" not in reply.json


@pytest.mark.parametrize(
    ("expire", "expected"),
    [(None, "600"), ("1", "1"), ("3600", "3600"), ("7200", "3600"), (" 30 ", "30")],
)
async def test_token_lifetime_echoes_x_token_expire(
    sim: Sim, expire: str | None, expected: str
) -> None:
    reply = await sim.customer("u").token_by_ak_sk(expire)
    assert reply.status == 200, reply.text
    assert reply.json["Expires"] == expected


@pytest.mark.parametrize("expire", ["abc", "0", "-5", "1.5"])
async def test_bad_x_token_expire_is_400(sim: Sim, expire: str) -> None:
    reply = await sim.customer("u").token_by_ak_sk(expire)
    assert reply.status == 400, reply.text
    assert reply.json["violations"], reply.text


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no Authorization"),
        ({"Authorization": "Basic abc"}, "not Bearer"),
        ({"Authorization": "Bearer"}, "Bearer without a token"),
        ({"Authorization": "Bearer    "}, "Bearer with blanks"),
        ({"Authorization": "Bearer not-a-token"}, "unknown token"),
        ({"Authorization": "{good}"}, "no x-app-key"),
        ({"Authorization": "{good}", "x-app-key": "other-app"}, "wrong x-app-key"),
    ],
)
async def test_gateway_auth_failures_are_401(sim: Sim, headers: dict[str, str], why: str) -> None:
    customer = sim.customer("auth-user")
    await customer.token_by_ak_sk()
    sent = {k: v.replace("{good}", f"Bearer {customer.access_token}") for k, v in headers.items()}
    if "x-app-key" not in sent and why != "no x-app-key":
        sent["x-app-key"] = APP_KEY
    reply = await sim.request("POST", f"{CCM}/applyToken", json_body=APPLY_BODY, headers=sent)
    assert reply.status == 401, (why, reply.text)
    assert reply.json["errorCode"] == "401"
    assert reply.json["exceptionInfo"] == ERROR_TEXTS[401]
    assert reply.json["detail"]
    # the same on a session endpoint
    await customer.apply_token()
    session_headers = {**sent, "ccmessaging-token": customer.token}
    send = await sim.request(
        "POST", f"{CCM}/send", json_body=customer.message("CONNECT"), headers=session_headers
    )
    assert send.status == 401, (why, send.text)


async def test_expired_access_token_is_403_with_the_gateway_text(clocked: Sim) -> None:
    assert clocked.clock is not None
    customer = clocked.customer("expiring")
    reply = await customer.token_by_ak_sk("1")
    assert reply.json["Expires"] == "1"
    assert (await customer.apply_token()).status == 200  # still valid
    clocked.clock.advance(1_000)
    expired = await customer.apply_token()
    assert expired.status == 403
    assert expired.json == {"errorCode": "0", "exceptionInfo": EXPIRED_TOKEN_TEXT}
    assert EXPIRED_TOKEN_TEXT == (
        "auth fail! illegal or expired token info. please apply or refresh the access token "
        "from the server!"
    )
    # and on the session endpoints too
    send = await customer.send("CONNECT")
    assert send.status == 403
    assert send.json["exceptionInfo"] == EXPIRED_TOKEN_TEXT
    # a new AccessToken works again
    await customer.token_by_ak_sk("600")
    assert (await customer.send("CONNECT")).json["resultCode"] == "0"


@pytest.mark.parametrize("token", [None, "", "bm90LWEtdG9rZW4%3D"])
async def test_ccmessaging_token_missing_or_unknown_is_401(sim: Sim, token: str | None) -> None:
    customer = sim.customer("tok-user")
    await customer.login()
    headers = customer.gateway_headers()
    if token is not None:
        headers["ccmessaging-token"] = token
    for name, body in [
        ("send", customer.message("CONNECT")),
        ("doLeaveMessage", {"callId": "1", "caller": "2", "leaveMessage": "x", "channel": "WEB"}),
    ]:
        reply = await customer.call(name, body, headers=headers)
        assert reply.status == 401, reply.text
        assert reply.json["exceptionInfo"] == ERROR_TEXTS[401]
    poll = await sim.request(
        "GET", f"{CCM}/poll", headers=headers, params={"receiverId": "tok-user", "channel": "WEB"}
    )
    assert poll.status == 401


async def test_expired_ccmessaging_token_is_renewed_in_a_live_session(clocked: Sim) -> None:
    assert clocked.clock is not None
    customer = clocked.customer("renew-me")
    await customer.login(expire="3600")
    await customer.connect()
    old = customer.token
    clocked.clock.advance(61_000)
    reply = await customer.send("CHAT", "still there?")
    assert reply.status == 200, reply.text
    assert reply.json["resultCode"] == "0"
    renewed = reply.headers.get("ccmessaging-token")
    assert renewed and renewed != old
    # the renewed token works from then on, with no header of its own
    customer.token = renewed
    again = await customer.send("CHAT", "hello again")
    assert again.status == 200 and again.json["resultCode"] == "0"
    assert "ccmessaging-token" not in again.headers
    # a fresh token is not renewed
    fresh = await customer.send("INPUT")
    assert "ccmessaging-token" not in fresh.headers
    # and the client "must use it from then on": the old one is refused, saying why
    customer.token = old
    stale = await customer.send("CHAT", "with the old token")
    assert stale.status == 401
    assert "renewed" in stale.json["detail"]


async def test_expired_ccmessaging_token_without_session_is_401(clocked: Sim) -> None:
    assert clocked.clock is not None
    customer = clocked.customer("no-session")
    await customer.login(expire="3600")
    clocked.clock.advance(61_000)
    reply = await customer.send("CONNECT")
    assert reply.status == 401, reply.text
    assert "expired" in reply.json["detail"]
    # applyToken again → works
    await customer.apply_token()
    assert (await customer.send("CONNECT")).json["resultCode"] == "0"


async def test_ccmessaging_token_of_another_app_is_401(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    doc = config_doc([channel_doc(receiver.url)])
    doc["credentials"].append({"app_key": "second-app", "app_secret": "second-secret"})
    sim = await make_sim(doc)
    first = sim.customer("shared-user")
    await first.login()
    second = sim.customer("shared-user", app_key="second-app", app_secret="second-secret")
    await second.token_by_ak_sk()
    headers = {**second.gateway_headers(), "ccmessaging-token": first.token}
    reply = await second.call("send", second.message("CONNECT"), headers=headers)
    assert reply.status == 401


async def test_query_queue_info_headers_are_optional_but_checked_when_sent(sim: Sim) -> None:
    customer = sim.customer("queued-quietly")
    await customer.connect()
    body = {"userId": "queued-quietly", "channelConfigId": CHANNEL, "channel": "WEB"}
    bare = await customer.call("queryQueueInfo", body, headers={"Content-Type": "application/json"})
    assert bare.status == 200
    assert bare.json["resultCode"] in {"0", "160021"}
    for name in ("x-app-key", "Authorization", "ccmessaging-token"):
        alone = {name: customer.headers()[name]}
        half = await customer.call("queryQueueInfo", body, headers=alone)
        assert half.status == 401, (name, half.text)
    wrong_key = {**customer.headers(), "x-app-key": "not-the-app"}
    assert (await customer.call("queryQueueInfo", body, headers=wrong_key)).status == 401
    assert (await customer.queue_info()).status == 200


async def test_other_users_apply_token_never_evicts_a_live_sessions_token(sim: Sim) -> None:
    """Hardening defect 3, end to end: a flood of applyToken calls by other users (here past a
    small capacity; 100,000 with the default) leaves the live customer's token working."""
    sim.app[TOKENS].store._capacity = 20  # the default bound is 100,000: make it short
    alice = sim.customer("alice-live")
    await alice.connect()
    for n in range(60):  # the integration's one AccessToken, applyToken per customer
        other = sim.customer(f"flood-{n}")
        other.access_token = alice.access_token
        reply = await other.apply_token()
        assert reply.status == 200, reply.text
    reply = await alice.send("CHAT", "still here")
    assert reply.status == 200 and reply.json["resultCode"] == "0", reply.text
