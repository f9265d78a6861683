"""The example backend against the AICC Simulator (the ``aicc_sim`` fixture): every
conversation a real tenant cannot produce on demand.

The simulator runs in its own thread; the backend runs on the test's loop, so the tests
wait with ``await aicc_sim.await_delivery(...)``, which leaves this loop free to serve the
pushes. A delivery is journaled once the backend has answered it, so when the wait returns
the backend has filed the message.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator.testing.pytest_plugin import SimulatorHandle

from .support import Backend, StartBackend

# Scenario waits (the agent's one-second pick-up, …) twenty times faster.
pytestmark = pytest.mark.aicc_sim_config({"channels": [{"speed": 20}]})

CONNECTED_TEXT = "The call is connected to an agent."
PUSH_KEY = "SimulatorPushKey0123456789abcdefghijklmnopq"


async def _post(backend: Backend, path: str, body: dict[str, Any] | None = None) -> Any:
    response = await backend.post(path, json=body or {})
    assert response.status == 200, await response.text()
    return await response.json()


async def _conversation(backend: Backend, customer: str) -> dict[str, Any]:
    response = await backend.get(f"/chat/{customer}")
    assert response.status == 200
    result: dict[str, Any] = await response.json()
    return result


async def _connect(backend: Backend, customer: str) -> dict[str, Any]:
    answer: dict[str, Any] = await _post(backend, f"/chat/{customer}/connect", {"name": "Ann"})
    return answer


@pytest.mark.aicc_sim_config({"channels": [{"on_connect": "queuing"}]})
async def test_a_customer_waits_in_the_queue(
    aicc_sim: SimulatorHandle, backend: Backend
) -> None:
    answer = await _connect(backend, "c-queue")
    assert (answer["resultCode"], answer["resultDesc"]) == ("0", "success")
    await aicc_sim.await_delivery(user_id="c-queue", content="Queuing...", verdict="accepted")
    assert (await _conversation(backend, "c-queue"))["state"] == "queuing"


async def test_a_customer_is_connected_and_greeted(
    aicc_sim: SimulatorHandle, backend: Backend
) -> None:
    await _connect(backend, "c-conn")
    await aicc_sim.await_delivery(user_id="c-conn", source_type="AGENT", verdict="accepted")
    conversation = await _conversation(backend, "c-conn")
    assert conversation["state"] == "connected"
    assert [m["content"] for m in conversation["downlinks"]] == [
        "Queuing...",
        CONNECTED_TEXT,
        "Hello, this is Alice. How can I help you?",
    ]
    # the backend made the vendor's call sequence
    calls = [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in aicc_sim.requests()]
    assert calls == [("tokenByAkSk", 200), ("applyToken", 200), ("send", 200)]


async def test_the_agent_reads_the_customers_messages(
    aicc_sim: SimulatorHandle, backend: Backend
) -> None:
    await _connect(backend, "c-read")
    await aicc_sim.await_delivery(user_id="c-read", source_type="AGENT")
    sent = await _post(backend, "/chat/c-read/messages", {"text": "hi", "messageId": "m-1"})
    assert (sent["resultCode"], sent["resultDesc"]) == ("0", "sendUserMessage successfully.")
    receipt = await aicc_sim.await_delivery(user_id="c-read", control_type="READ")
    assert receipt["verdict"] == "accepted"
    await aicc_sim.await_delivery(user_id="c-read", content="You said: hi")
    conversation = await _conversation(backend, "c-read")
    assert conversation["sent"] == [{"messageId": "m-1", "text": "hi", "read": True}]
    assert conversation["agentMessages"][-1] == "You said: hi"


@pytest.mark.parametrize("how", ["admin run", "inject"])
async def test_the_agent_ends_the_conversation(
    aicc_sim: SimulatorHandle, backend: Backend, how: str
) -> None:
    await _connect(backend, "c-bye")
    await aicc_sim.await_delivery(user_id="c-bye", content=CONNECTED_TEXT)
    if how == "admin run":
        run_id = aicc_sim.start_run("agent-disconnect", user_id="c-bye")
        await aicc_sim.await_delivery(run_id=run_id, control_type="DISCONNECT")
    else:
        aicc_sim.inject(
            "c-bye",
            {"controlType": "DISCONNECT", "mediaType": None, "senderNickname": None},
        )
        await aicc_sim.await_delivery(user_id="c-bye", control_type="DISCONNECT")
    conversation = await _conversation(backend, "c-bye")
    assert (conversation["state"], conversation["endedBy"]) == ("ended", "agent")
    # the customer can no longer chat
    response = await backend.post("/chat/c-bye/messages", json={"text": "hello?"})
    assert response.status == 409


@pytest.mark.aicc_sim_config({"channels": [{"idle_timeout": 0.3, "async_switch": False}]})
async def test_an_idle_customer_times_out_with_the_async_switch_off(
    aicc_sim: SimulatorHandle, backend: Backend
) -> None:
    await _connect(backend, "c-idle")
    push = await aicc_sim.await_delivery(
        user_id="c-idle", control_type="DISCONNECT", source_type="SYSTEM"
    )
    assert push["verdict"] == "accepted"
    conversation = await _conversation(backend, "c-idle")
    assert conversation["state"] == "ended"
    assert (conversation["endedBy"], conversation["offlineAllowed"]) == ("timeout", False)


@pytest.mark.aicc_sim_config(
    {"channels": [{"idle_timeout": 0.3, "async_switch": True, "tips": "Leave us a message."}]}
)
async def test_an_idle_customer_times_out_with_the_async_switch_on(
    aicc_sim: SimulatorHandle, backend: Backend
) -> None:
    await _connect(backend, "c-off")
    await aicc_sim.await_delivery(user_id="c-off", control_type="DISCONNECT", source_type="SYSTEM")
    conversation = await _conversation(backend, "c-off")
    assert (conversation["endedBy"], conversation["offlineAllowed"]) == ("timeout", True)
    assert conversation["offlineTips"] == "Leave us a message."


async def test_the_customer_leaves(aicc_sim: SimulatorHandle, backend: Backend) -> None:
    await _connect(backend, "c-leave")
    await aicc_sim.await_delivery(user_id="c-leave", content=CONNECTED_TEXT)
    answer = await _post(backend, "/chat/c-leave/disconnect")
    assert (answer["resultCode"], answer["resultDesc"]) == ("0", "disconnect successfully")
    [session] = aicc_sim.session("c-leave")["sessions"]
    assert (session["state"], session["endedReason"]) == ("ended", "customer-disconnect")


@pytest.mark.aicc_sim_config({"channels": [{"working_hours": "never"}]})
async def test_outside_working_hours_the_connect_is_refused(
    aicc_sim: SimulatorHandle, backend: Backend
) -> None:
    answer = await _connect(backend, "c-late")
    assert answer["resultCode"] == "12"
    assert answer["conversation"]["state"] == "refused"
    assert aicc_sim.deliveries() == []


@pytest.mark.aicc_sim_config({"channels": [{"push_mode": "signature", "push_key": PUSH_KEY}]})
async def test_signed_pushes_are_verified_and_accepted(
    aicc_sim: SimulatorHandle, backend: Backend
) -> None:
    await _connect(backend, "c-sig")
    push = await aicc_sim.await_delivery(user_id="c-sig", source_type="AGENT")
    assert push["verdict"] == "accepted"
    assert push["url"].endswith("/aicc/webhooks/v1/messages")
    assert push["requestHeaders"]["Authorization"].startswith("auth-v2/")
    assert (await _conversation(backend, "c-sig"))["state"] == "connected"


@pytest.mark.aicc_sim_config({"channels": [{"push_mode": "signature", "push_key": PUSH_KEY}]})
@pytest.mark.aicc_sim_expect_violations  # the backend's wrong key refuses pushes on purpose
async def test_pushes_signed_with_another_key_are_refused(
    aicc_sim: SimulatorHandle, start_backend: StartBackend
) -> None:
    backend = await start_backend(push_key="X" * 43)
    await _connect(backend, "c-bad")
    push = await aicc_sim.await_delivery(user_id="c-bad", verdict="http-error")
    assert push["responseStatus"] == 401
    assert "signature" in push["responseBody"]
    assert (await _conversation(backend, "c-bad"))["downlinks"] == []


async def test_oauth_pushes_without_a_bearer_are_refused(backend: Backend) -> None:
    body = {"timestamp": 1, "messages": [{"to": "c-x", "controlType": "CHAT"}]}
    response = await backend.post("/aicc", json=body, headers={"x-app-key": "sim-app-key"})
    assert response.status == 401
    assert (await response.json())["resultCode"] == "1"
    assert (await backend.get("/chat/c-x")).status == 404


async def test_the_official_sequence_with_suggestions_and_a_rating(
    aicc_sim: SimulatorHandle, backend: Backend
) -> None:
    await _connect(backend, "c-rate")
    await aicc_sim.await_delivery(user_id="c-rate", source_type="AGENT", verdict="accepted")
    response = await backend.get("/chat/c-rate/suggestions", params={"q": "order"})
    found = await response.json()
    assert found == {
        "resultCode": "0",
        "suggestions": ["How do I track my order?", "How do I cancel my order?"],
    }
    await _post(backend, "/chat/c-rate/messages", {"text": found["suggestions"][0]})
    survey = await (await backend.get("/chat/c-rate/survey", params={"language": "en_US"})).json()
    assert survey["satisfactionSurvey"]["surveyType"] == "WEB"
    levels = survey["satisfactionSurvey"]["satisfactionLevel"]
    assert levels[-1] == {"satisfactionLevelKey": "5", "satisfactionLevelDesc": "Very satisfied"}
    rated = await _post(backend, "/chat/c-rate/rating", {"evaluation": 5, "comment": "thanks"})
    assert rated == {"resultCode": "0", "resultDesc": "Save satisfaction success!"}
    answer = await _post(backend, "/chat/c-rate/disconnect")
    assert answer["resultCode"] == "0"
    # the vendor's call sequence (reference §7.1), steps 0-3, 9, 11-14
    calls = [r["path"].rsplit("/", 1)[-1] for r in aicc_sim.requests()]
    assert calls == [
        "tokenByAkSk",
        "applyToken",
        "send",
        "queryPhraseByKeyword",
        "send",
        "getsatisfactionsurveymode",
        "saveSatisfaction",
        "send",
    ]
