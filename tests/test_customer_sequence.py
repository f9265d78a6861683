"""The vendor's official call sequence (reference §7.1) end to end, as an integration walks
it, over real sockets: steps 0-16 including the phrase lookup (step 9), the satisfaction
survey after an agent chat (steps 12-14) and after a robot chat (step 15), and a
click-to-call during the agent chat (vendor web-channel pages, part 2 §2), in push mode and in poll
mode."""

from __future__ import annotations

from typing import Any

from conftest import (
    CCM,
    GREETING,
    ROBOT_GREETING,
    Customer,
    MakeSim,
    RecordingReceiver,
    Reply,
    Sim,
    channel_doc,
    config_doc,
    valid,
)


def ok(schema: str, reply: Reply, code_field: str = "resultCode") -> Any:
    """The answer of a successful step: HTTP 200, valid against ``schema``, code "0"."""
    answer = valid(schema, reply)
    assert answer[code_field] == "0", reply.text
    return answer


class Integration:
    """The integration side: messages arrive by push (the receiver) or by poll."""

    def __init__(self, customer: Customer, receiver: RecordingReceiver, *, poll: bool) -> None:
        self.customer = customer
        self.receiver = receiver
        self.polling = poll
        self.seen: list[dict[str, Any]] = []

    async def wait_for(self, **fields: Any) -> dict[str, Any]:
        """Step 5: the first downlink message with ``fields`` (polled or pushed)."""
        if not self.polling:
            return await self.receiver.wait_message(self.customer.user_id, **fields)
        for _ in range(100):  # each empty poll waits out its window: no busy loop
            for message in self.seen:
                if all(message.get(k) == v for k, v in fields.items()):
                    return message
            reply = await self.customer.poll()
            self.seen.extend(ok("poll-response", reply)["downlinkMessages"])
        raise AssertionError(f"no message {fields}; got {self.seen}")

    async def survey(self, language: str) -> dict[str, Any]:
        """Step 12: getsatisfactionsurveymode."""
        reply = await self.customer.call("getsatisfactionsurveymode", {"language": language})
        survey: dict[str, Any] = ok("survey-mode-response", reply)["satisfactionSurvey"]
        return survey


async def agent_sequence(sim: Sim, receiver: RecordingReceiver, user: str, *, poll: bool) -> None:
    """The agent side of §7.1 against the built-in rated-conversation (which keeps the chat
    open until the rating, so every step meets a live chat)."""
    customer = sim.customer(user)
    walk = Integration(customer, receiver, poll=poll)
    # 0-1: AccessToken, ccmessaging-token
    await customer.login()
    # 2: history before the chat
    history = await customer.call(
        "queryHistoryChatMessage",
        {
            "channelId": customer.channel_id,
            "userId": user,
            "limit": "10",
            "offset": "0",
            "channel": "WEB",
        },
    )
    ok("history-response", history)
    # 3: CONNECT
    ok("send-response", await customer.send("CONNECT"))
    # 5, 7: poll / pushes; the queue while queuing, then 160021 once with the agent
    await walk.wait_for(content="Queuing...")
    await walk.wait_for(content=GREETING)
    queue = await customer.queue_info()
    assert queue.json["resultCode"] == "160021", queue.text
    # 9: phrase suggestions for what the customer types
    phrases = ok(
        "phrase-response",
        await customer.call(
            "queryPhraseByKeyword", {"strContent": "order", "locale": "en", "channel": "WEB"}
        ),
    )
    assert phrases["question"] == ["How do I track my order?", "How do I cancel my order?"]
    # 8, 11: chat
    ok("send-response", await customer.send("CHAT", phrases["question"][0], messageId="m-1"))
    await walk.wait_for(content=f"Done: {phrases['question'][0]}. Please rate this chat.")
    # click-to-call during the agent chat
    support = await sim.request(
        "GET",
        f"{CCM}/v1/checkClickToCallSupport",
        headers=customer.headers(),
        params={"channel": "WEB"},
    )
    assert ok("click-to-call-support-response", support)["clickToCallSupported"] is True
    ok(
        "create-click-to-call-response",
        await customer.call("v1/createClickToCall", {"channel": "WEB", "mediaAbility": "1"}),
    )
    events: list[dict[str, Any]] = []
    while len(events) < 2:
        reply = await sim.request(
            "GET",
            f"{CCM}/v1/getClickToCallEvents",
            headers=customer.headers(),
            params={"channel": "WEB"},
        )
        answer = ok("click-to-call-events-response", reply)
        if "eventId" in answer:
            events.append(answer)
    assert [e["resultDesc"] for e in events] == ["Call in queue", "Call connected"]
    assert events[1]["content"]["gwAddresses"] and events[1]["content"]["domain"]
    ok(
        "drop-click-to-call-response",
        await customer.call("v1/dropClickToCall", {"channel": "WEB"}),
    )
    # 12, 14: the survey, then saveSatisfaction
    survey = await walk.survey("en_US")
    assert survey["surveyType"] == "WEB"
    best = survey["satisfactionLevel"][-1]
    assert best == {"satisfactionLevelKey": "5", "satisfactionLevelDesc": "Very satisfied"}
    saved = await customer.call(
        "saveSatisfaction",
        {
            "channel": "WEB",
            "userId": user,
            "evaluation": best["satisfactionLevelKey"],
            "comment": "quick and kind",
            "channelConfigId": customer.channel_id,
        },
    )
    assert ok("save-satisfaction-response", saved, "returnCode")["resultCode"] == "0"
    # the agent thanks for the rating (the scenario branched on it), then DISCONNECT (14)
    await walk.wait_for(content="Thank you for your rating!")
    assert ok("send-response", await customer.send("DISCONNECT"))["resultDesc"] == (
        "disconnect successfully"
    )
    [entry] = (await sim.admin("GET", f"/satisfaction?userId={user}")).json["ratings"]
    assert (entry["kind"], entry["evaluation"], entry["accepted"]) == ("agent", "5", True)


async def test_agent_sequence_in_push_mode(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    channel = channel_doc(receiver.url, on_connect="rated-conversation")
    sim = await make_sim(config_doc([channel]))
    await agent_sequence(sim, receiver, "walk-push", poll=False)


async def test_agent_sequence_in_poll_mode(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    channel = channel_doc(receiver.url, on_connect="rated-conversation", delivery="poll")
    sim = await make_sim(config_doc([channel]))
    await agent_sequence(sim, receiver, "walk-poll", poll=True)
    assert receiver.messages("walk-poll") == []  # poll mode: nothing was pushed


async def robot_sequence(sim: Sim, receiver: RecordingReceiver, user: str, *, poll: bool) -> None:
    customer = sim.customer(user)
    walk = Integration(customer, receiver, poll=poll)
    await customer.login()
    connected = ok("send-response", await customer.send("CONNECT"))
    assert connected["resultDesc"] == "connect to robot successfully."
    await walk.wait_for(content=ROBOT_GREETING)
    ok("send-response", await customer.send("CHAT", "opening hours"))
    answer = await walk.wait_for(sourceType="ROBOT", content=(
        'Here is what I found about "opening hours". Not helpful? Ask for an agent.'
    ))  # fmt: skip
    assert answer["controlType"] == "CHAT"
    # 12, 15: the survey, then the robot's feedbacksatisfaction, then DISCONNECT
    survey = await walk.survey("pt_BR")
    assert survey["satisfactionLevel"][0]["satisfactionLevelDesc"] == "Muito insatisfeito"
    feedback = await customer.call(
        "v1/robot/feedbacksatisfaction",
        {"feedback": 0, "feedbackContent": "not what I asked", "from": user, "interIdx": "2"},
    )
    ok("robot-feedback-response", feedback)
    bye = ok("send-response", await customer.send("DISCONNECT"))
    assert bye["resultDesc"] == "Disconnect robot successfully"
    [entry] = (await sim.admin("GET", f"/satisfaction?userId={user}")).json["ratings"]
    assert (entry["kind"], entry["feedback"], entry["feedbackContent"]) == (
        "robot",
        "0",
        "not what I asked",
    )
    # a robot chat has no agent call to rate
    saved = await customer.call(
        "saveSatisfaction",
        {
            "channel": "WEB",
            "userId": user,
            "evaluation": "3",
            "comment": "",
            "channelConfigId": customer.channel_id,
        },
    )
    assert saved.json["resultCode"] == "13"


async def test_robot_sequence_in_push_mode(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    channel = channel_doc(receiver.url, robot=True, on_connect="robot-transfer")
    sim = await make_sim(config_doc([channel]))
    await robot_sequence(sim, receiver, "robot-push", poll=False)


async def test_robot_sequence_in_poll_mode(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    channel = channel_doc(receiver.url, robot=True, on_connect="robot-transfer", delivery="poll")
    sim = await make_sim(config_doc([channel]))
    await robot_sequence(sim, receiver, "robot-poll", poll=True)


async def test_full_conversation_can_be_rated_after_the_agents_goodbye(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    """full-conversation closes the chat itself (a receiver's first look needs no customer);
    §7.1 steps 12 and 14 still work after the agent's DISCONNECT, as a web chat's rating
    form after the chat ends: the chat reached an agent, so the rating is accepted."""
    sim = await make_sim(config_doc([channel_doc(receiver.url, on_connect="full-conversation")]))
    customer = sim.customer("full-rated")
    walk = Integration(customer, receiver, poll=False)
    await customer.login()
    ok("send-response", await customer.send("CONNECT"))
    await walk.wait_for(content=GREETING)
    ok("send-response", await customer.send("CHAT", "where is my order?", messageId="m-1"))
    await walk.wait_for(content="Thank you, I have noted: where is my order?")
    await walk.wait_for(controlType="DISCONNECT", sourceType="AGENT")
    survey = await walk.survey("en_US")
    assert survey["surveyType"] == "WEB"
    saved = await customer.call(
        "saveSatisfaction",
        {
            "channel": "WEB",
            "userId": "full-rated",
            "evaluation": "4",
            "comment": "ok",
            "channelConfigId": customer.channel_id,
        },
    )
    assert ok("save-satisfaction-response", saved, "returnCode")["resultDesc"] == (
        "Save satisfaction success!"
    )
    [entry] = (await sim.admin("GET", "/satisfaction?userId=full-rated")).json["ratings"]
    assert (entry["evaluation"], entry["accepted"]) == ("4", True)
