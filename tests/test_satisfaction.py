"""The satisfaction survey over real sockets: getsatisfactionsurveymode, saveSatisfaction
(flat and wrapped), v1/robot/feedbacksatisfaction, the journal at /__admin/satisfaction,
a scenario branching on a rating, and a specific 400 for every kind of bad input."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import (
    CCM,
    CHANNEL,
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
    with_agent,
)


def rating(customer: Customer, **extra: Any) -> dict[str, Any]:
    """A flat saveSatisfaction body, as the vendor's example sends it."""
    return {
        "channel": "WEB",
        "userId": customer.user_id,
        "evaluation": "5",
        "comment": "great",
        "channelConfigId": customer.channel_id,
        **extra,
    }


def violation_at(reply: Reply, pointer: str) -> None:
    assert reply.status == 400, reply.text
    pointers = [v["pointer"] for v in reply.json["violations"]]
    assert pointer in pointers, reply.json


# ------------------------------------------------------------------- getsatisfactionsurveymode


async def test_survey_answers_the_default_language_without_a_body(sim: Sim) -> None:
    customer = sim.customer("survey-1")
    await customer.login()
    reply = await sim.request(
        "POST", f"{CCM}/getsatisfactionsurveymode", headers=customer.headers()
    )
    answer = valid("survey-mode-response", reply)
    survey = answer["satisfactionSurvey"]
    assert answer["resultCode"] == "0"
    assert survey["surveyType"] == "WEB"
    assert survey["language"] == "zh_CN"
    assert [level["satisfactionLevelDesc"] for level in survey["satisfactionLevel"]] == [
        "很不满意", "不满意", "一般", "满意", "很满意",
    ]  # fmt: skip
    assert [level["satisfactionLevelKey"] for level in survey["satisfactionLevel"]] == [
        "1", "2", "3", "4", "5",
    ]  # fmt: skip
    assert survey["satisfactionQuestion"] == ["CSAT"]


@pytest.mark.parametrize(
    ("language", "expected", "first"),
    [
        ("pt_BR", "pt_BR", "Muito insatisfeito"),
        ("en_US", "en_US", "Very dissatisfied"),
        ("", "zh_CN", "很不满意"),
        (None, "zh_CN", "很不满意"),
        ("de_DE", "zh_CN", "很不满意"),  # outside the tenant's list: the provisioning language
    ],
)
async def test_survey_language(sim: Sim, language: str | None, expected: str, first: str) -> None:
    customer = sim.customer("survey-2")
    await customer.login()
    answer = valid(
        "survey-mode-response",
        await customer.call("getsatisfactionsurveymode", {"language": language}),
    )
    assert answer["satisfactionSurvey"]["language"] == expected
    assert answer["satisfactionSurvey"]["satisfactionLevel"][0]["satisfactionLevelDesc"] == first


async def test_survey_configured_per_channel(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    satisfaction = {
        "survey_type": "NO",
        "questions": ["NPS", "FCR"],
        "default_language": "en_US",
        "levels": {"en_US": ["1", "2", "3", "4", "five"]},
    }
    sim = await make_sim(config_doc([channel_doc(receiver.url, satisfaction=satisfaction)]))
    customer = sim.customer("survey-3")
    await customer.login()
    answer = valid("survey-mode-response", await customer.call("getsatisfactionsurveymode", {}))
    survey = answer["satisfactionSurvey"]
    assert (survey["surveyType"], survey["satisfactionQuestion"]) == ("NO", ["NPS", "FCR"])
    assert survey["satisfactionLevel"][4] == {
        "satisfactionLevelKey": "5",
        "satisfactionLevelDesc": "five",
    }


async def test_survey_bad_input(sim: Sim) -> None:
    customer = sim.customer("survey-4")
    await customer.login()
    violation_at(await customer.call("getsatisfactionsurveymode", {"language": 5}), "/language")
    broken = await sim.request(
        "POST", f"{CCM}/getsatisfactionsurveymode", data="{nope", headers=customer.headers()
    )
    violation_at(broken, "")
    assert "not valid JSON" in broken.json["violations"][0]["message"]
    violation_at(await customer.call("getsatisfactionsurveymode", [1]), "")
    unauthenticated = await sim.request("POST", f"{CCM}/getsatisfactionsurveymode", data="{}")
    assert unauthenticated.status == 401, unauthenticated.text


# ----------------------------------------------------------------------------- saveSatisfaction


async def test_save_after_an_agent_chat_answers_both_spellings_and_is_journaled(
    sim: Sim, receiver: RecordingReceiver
) -> None:
    customer = await with_agent(sim, receiver, "rate-1")
    answer = valid(
        "save-satisfaction-response",
        await customer.call("saveSatisfaction", rating(customer, npsScore=9, fcrValue="1")),
    )
    assert answer == {
        "returnCode": "0",
        "resultCode": "0",
        "resultDesc": "Save satisfaction success!",
    }
    listed = (await sim.admin("GET", "/satisfaction", params={"userId": "rate-1"})).json
    [entry] = listed["ratings"]
    assert entry["kind"] == "agent" and entry["accepted"] is True
    assert (entry["evaluation"], entry["comment"], entry["npsScore"], entry["fcrValue"]) == (
        "5",
        "great",
        "9",
        "1",
    )
    assert entry["form"] == "flat" and entry["channelId"] == CHANNEL
    assert isinstance(entry["contactStartedAt"], int)


async def test_save_wrapped_form(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = await with_agent(sim, receiver, "rate-2")
    body = {"satisfication": rating(customer, evaluation=1, comment="")}
    answer = valid("save-satisfaction-response", await customer.call("saveSatisfaction", body))
    assert answer["resultCode"] == "0"
    [entry] = (await sim.admin("GET", "/satisfaction?userId=rate-2")).json["ratings"]
    assert (entry["form"], entry["evaluation"], entry["comment"]) == ("wrapped", "1", "")


async def test_save_without_a_call_to_rate_is_13(sim: Sim) -> None:
    customer = sim.customer("rate-3")
    await customer.login()  # never connected
    answer = valid(
        "save-satisfaction-response", await customer.call("saveSatisfaction", rating(customer))
    )
    assert answer == {
        "returnCode": "13",
        "resultCode": "13",
        "resultDesc": "The callIdString obtained failed!",
    }
    listed = await sim.admin("GET", "/satisfaction", params={"accepted": "false"})
    assert [r["userId"] for r in listed.json["ratings"]] == ["rate-3"]
    assert (await sim.admin("GET", "/satisfaction?accepted=true")).json["ratings"] == []


async def test_save_while_only_queuing_is_13(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url, on_connect="queuing")]))
    customer = sim.customer("rate-4")
    await customer.connect()
    await receiver.wait_message("rate-4", content="Queuing...")
    answer = (await customer.call("saveSatisfaction", rating(customer))).json
    assert answer["resultCode"] == "13"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"evaluation": "6"}, "/evaluation"),
        ({"evaluation": "five"}, "/evaluation"),
        ({"evaluation": True}, "/evaluation"),
        ({"comment": "x" * 512}, "/comment"),
        ({"comment": None}, "/comment"),
        ({"npsScore": 10}, "/npsScore"),
        ({"npsScore": "-1"}, "/npsScore"),
        ({"fcrValue": 3}, "/fcrValue"),
        ({"channel": "WECHAT"}, "/channel"),
        ({"userId": ""}, "/userId"),
        ({"userId": "someone-else"}, "/userId"),  # not the token's user
        ({"channelConfigId": "999"}, "/channelConfigId"),  # not the token's channel
    ],
)
async def test_save_bad_input(
    sim: Sim, receiver: RecordingReceiver, change: dict[str, Any], pointer: str
) -> None:
    customer = await with_agent(sim, receiver, "rate-bad")
    violation_at(await customer.call("saveSatisfaction", rating(customer, **change)), pointer)
    wrapped = {"satisfication": rating(customer, **change)}
    violation_at(await customer.call("saveSatisfaction", wrapped), "/satisfication" + pointer)
    # nothing refused is journaled
    assert (await sim.admin("GET", "/satisfaction")).json["ratings"] == []


async def test_save_missing_fields_and_wrong_shapes(sim: Sim) -> None:
    customer = sim.customer("rate-5")
    await customer.login()
    body = rating(customer)
    del body["comment"]
    missing = await customer.call("saveSatisfaction", body)
    assert missing.status == 400 and "comment" in missing.text
    violation_at(await customer.call("saveSatisfaction", {"satisfication": "5"}), "/satisfication")
    violation_at(await customer.call("saveSatisfaction", []), "")


# -------------------------------------------------------------------- robot feedbacksatisfaction



async def robot_sim(make_sim: MakeSim, receiver: RecordingReceiver) -> Sim:
    channel = channel_doc(receiver.url, robot=True, on_connect="robot-transfer")
    return await make_sim(config_doc([channel]))


async def test_robot_feedback(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    sim = await robot_sim(make_sim, receiver)
    customer = sim.customer("bot-1")
    await customer.connect()
    await receiver.wait_message("bot-1", content=ROBOT_GREETING)
    path = "v1/robot/feedbacksatisfaction"
    good = {"feedback": 1, "from": "bot-1", "interIdx": "2"}
    assert valid("robot-feedback-response", await customer.call(path, good)) == {
        "resultCode": "0",
        "resultDesc": "success",
    }
    empty = await customer.call(path, {"feedback": 0, "from": "bot-1", "feedbackContent": " "})
    assert valid("robot-feedback-response", empty)["resultCode"] == "30000000008"
    spoofed = await customer.call(path, {**good, "from": "bot-2"})
    assert valid("robot-feedback-response", spoofed)["resultCode"] == "10010000001"
    unhappy = {"feedback": "0", "feedbackContent": "dissatisfied", "from": "bot-1", "interIdx": 3}
    assert (await customer.call(path, unhappy)).json["resultCode"] == "0"
    ratings = (await sim.admin("GET", "/satisfaction?kind=robot")).json["ratings"]
    assert [(r["feedback"], r["resultCode"]) for r in ratings] == [
        ("1", "0"),
        ("0", "30000000008"),
        ("1", "10010000001"),
        ("0", "0"),
    ]
    assert ratings[3]["interIdx"] == "3" and ratings[3]["feedbackContent"] == "dissatisfied"


async def test_robot_feedback_on_an_agent_chat_is_30000000019(
    sim: Sim, receiver: RecordingReceiver
) -> None:
    customer = await with_agent(sim, receiver, "bot-3")
    reply = await customer.call("v1/robot/feedbacksatisfaction", {"feedback": 1, "from": "bot-3"})
    assert valid("robot-feedback-response", reply)["resultCode"] == "30000000019"
    stranger = sim.customer("bot-4")
    await stranger.login()
    reply = await stranger.call("v1/robot/feedbacksatisfaction", {"feedback": 1, "from": "bot-4"})
    assert reply.json["resultCode"] == "30000000019"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"feedback": 2, "from": "u"}, "/feedback"),
        ({"feedback": True, "from": "u"}, "/feedback"),
        ({"feedback": 0, "from": "u", "feedbackContent": "x" * 65}, "/feedbackContent"),
        ({"feedback": 1, "from": ""}, "/from"),
        ({"feedback": 1, "from": "u", "interIdx": 1.5}, "/interIdx"),
        ({"from": "u"}, ""),
    ],
)
async def test_robot_feedback_bad_input(sim: Sim, body: dict[str, Any], pointer: str) -> None:
    customer = sim.customer("u")
    await customer.login()
    violation_at(await customer.call("v1/robot/feedbacksatisfaction", body), pointer)


# --------------------------------------------------------------------- a scenario branches on it


@pytest.mark.parametrize(
    ("evaluation", "answer"),
    [
        ("1", "I am sorry we let you down. A supervisor will call you back."),
        ("5", "Thank you for your rating!"),
    ],
)
async def test_a_scenario_branches_on_the_rating(
    make_sim: MakeSim, receiver: RecordingReceiver, evaluation: str, answer: str
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url, on_connect="rated-conversation")]))
    user = f"branch-{evaluation}"
    customer = sim.customer(user)
    await customer.connect()
    await receiver.wait_message(user, content=GREETING)
    await customer.send("CHAT", "my parcel is late")
    await receiver.wait_message(user, content="Done: my parcel is late. Please rate this chat.")
    reply = await customer.call("saveSatisfaction", rating(customer, evaluation=evaluation))
    assert reply.json["resultCode"] == "0", reply.text
    await receiver.wait_message(user, content=answer)
    assert (await customer.send("DISCONNECT")).json["resultDesc"] == "disconnect successfully"
    contents = [m["content"] for m in receiver.messages(user)]
    assert contents.count(answer) == 1
    other = {"1": "Thank you for your rating!", "5": "I am sorry we let you down."}[evaluation]
    assert not any(other in (c or "") for c in contents)


async def test_admin_listing_paging_and_bad_queries(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = await with_agent(sim, receiver, "rate-6")
    for evaluation in ("1", "2", "3"):
        await customer.call("saveSatisfaction", rating(customer, evaluation=evaluation))
    first = (await sim.admin("GET", "/satisfaction?limit=2")).json
    assert [r["evaluation"] for r in first["ratings"]] == ["1", "2"]
    rest = (await sim.admin("GET", f"/satisfaction?since={first['ratings'][-1]['seq']}")).json
    assert [r["evaluation"] for r in rest["ratings"]] == ["3"]
    assert rest["total"] == 3 and rest["dropped"] == 0
    bad = (("limit=x", "/limit"), ("since=1.5", "/since"), ("accepted=maybe", "/accepted"))
    for query, pointer in bad:
        reply = await sim.admin("GET", f"/satisfaction?{query}")
        assert reply.status == 400, reply.text
        assert [v["pointer"] for v in reply.json["violations"]] == [pointer]
    await sim.admin("POST", "/reset")
    assert (await sim.admin("GET", "/satisfaction")).json["ratings"] == []
