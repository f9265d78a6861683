"""What live tenants do where the vendor's pages disagree or are silent (issue 10 items 3 to
6; vendor web-channel pages, part 2, "Evidence from live tenants"), end to end over real sockets:
vendor codes in the body (and ``contract.strict`` keeping the 400), both spellings of the
upload answer, pdf uploads, FILE with an empty name, null optional fields, the live
ccmessaging-token shape, history that belongs to the customer, and the consistency
checks (identity on queryQueueInfo / doLeaveMessage, download type and owner, a poll
without a live session, a second TRANS2AGENT)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any
from urllib.parse import unquote

import pytest
from conftest import (
    CCM,
    CHANNEL,
    Customer,
    MakeSim,
    RecordingReceiver,
    Sim,
    channel_doc,
    config_doc,
)

from simulator.core.clock import VirtualClock
from simulator.core.validation import default_store
from simulator.server.live_config import CONFIG
from simulator.server.poll import POLL

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _upload(data: bytes, file_type: str) -> dict[str, str]:
    return {"fileType": file_type, "channel": "WEB", "fileStream": base64.b64encode(data).decode()}


def _download(file_id: str, file_type: str, **extra: Any) -> dict[str, Any]:
    return {"fileId": file_id, "channel": "WEB", "fileType": file_type, **extra}


def _history(user_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "channelId": CHANNEL,
        "userId": user_id,
        "limit": "100",
        "offset": "0",
        "channel": "WEB",
        **extra,
    }


@pytest.fixture(params=[False, True], ids=["lenient", "strict"])
async def either(
    request: pytest.FixtureRequest, make_sim: MakeSim, receiver: RecordingReceiver
) -> Sim:
    """The simulator with ``contract.strict`` off (the default) and on."""
    return await make_sim(
        config_doc(
            [channel_doc(receiver.url, speed=50)],
            limits={"max_file_bytes": 4096, "max_body_bytes": 16384},
            contract={"strict": request.param},
        )
    )


@pytest.fixture
async def sim(make_sim: MakeSim, receiver: RecordingReceiver) -> Sim:
    return await make_sim(
        config_doc(
            [channel_doc(receiver.url, speed=50)],
            limits={"max_file_bytes": 4096, "max_body_bytes": 16384},
        )
    )


async def _customer(sim: Sim, user_id: str = "live-user") -> Customer:
    customer = sim.customer(user_id)
    await customer.login()
    return customer


def _strict(sim: Sim) -> bool:
    return sim.app[CONFIG].current.contract.strict


# --------------------------------------------------------------------------- uploads


@pytest.mark.parametrize("file_type", ["pdf", "doc", "docx", "zip", "PDF", "jpg"])
async def test_upload_answers_both_spellings_and_takes_the_download_list_types(
    sim: Sim, file_type: str
) -> None:
    customer = await _customer(sim)
    up = await customer.call("uploadFileStream", _upload(PDF, file_type))
    assert up.status == 200, up.text
    assert up.json["returnCode"] == "0"  # the API reference's name
    assert up.json["resultCode"] == "0"  # the developer guide's and a live tenant's
    assert up.json["resultDesc"] == "success"
    assert default_store().violations("upload-response", up.json) == []
    down = await customer.call("downloadFileStream", _download(up.json["objectKey"], file_type))
    assert down.json["resultCode"] == "0", down.text
    assert base64.b64decode(down.json["fileStream"]) == PDF


async def test_upload_refusal_answers_both_spellings(sim: Sim) -> None:
    customer = await _customer(sim)
    reply = await customer.call("uploadFileStream", _upload(b"x" * 4097, "txt"))
    assert reply.status == 200
    assert (reply.json["returnCode"], reply.json["resultCode"]) == ("13", "13")
    assert reply.json["resultDesc"] == "upload failed"
    assert reply.json["violations"][0]["pointer"] == "/fileStream"
    assert "objectKey" not in reply.json
    assert default_store().violations("upload-response", reply.json) == []


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"fileType": "jpg", "channel": "WEB"}, "2", ""),  # no stream: the "2" branch
        ({"fileType": "jpg", "channel": "WEB", "fileStream": ""}, "2", "/fileStream"),
        ({"fileType": "jpg", "channel": "WEB", "fileStream": None}, "2", "/fileStream"),
        ({"fileType": "exe", "channel": "WEB", "fileStream": "QUJD"}, "3", "/fileType"),
        ({"fileType": "jpg", "channel": "SMS", "fileStream": "QUJD"}, "3", "/channel"),
    ],
)
async def test_upload_bad_parameters_answer_the_vendor_code_or_strict_400(
    either: Sim, body: dict[str, Any], code: str, pointer: str
) -> None:
    customer = await _customer(either)
    reply = await customer.call("uploadFileStream", body)
    pointers = {v["pointer"] for v in reply.json["violations"]}
    assert pointer in pointers, reply.text
    if _strict(either):
        assert reply.status == 400, reply.text
        assert "returnCode" not in reply.json
        return
    assert reply.status == 200, reply.text
    assert reply.json["returnCode"] == reply.json["resultCode"] == code
    assert "objectKey" not in reply.json
    assert default_store().violations("upload-response", reply.json) == []


# --------------------------------------------------------------------------- downloads


@pytest.mark.parametrize(
    ("body", "code", "desc"),
    [
        ({"channel": "WEB", "fileType": "jpg"}, "401", "objectKey is null!"),
        ({"fileId": None, "channel": "WEB", "fileType": "jpg"}, "401", "objectKey is null!"),
        ({"fileId": "", "channel": "WEB", "fileType": "jpg"}, "401", "objectKey is null!"),
        ({"fileId": "k", "fileType": "jpg"}, "2", "param channelId or userId or tenantId is null"),
        (
            {"fileId": "k", "channel": "WEB", "fileType": "exe"},
            "13",
            "param filetype Out of range!",
        ),
        ({"fileId": "k", "channel": "WEB"}, "13", "param filetype Out of range!"),
        (
            {"fileId": "k", "channel": "WEB", "fileType": "jpg", "multiMedia": "yes"},
            "13",
            "downloadFileStream exception",
        ),
    ],
)
async def test_download_bad_parameters_answer_the_vendor_code_or_strict_400(
    either: Sim, body: dict[str, Any], code: str, desc: str
) -> None:
    customer = await _customer(either)
    reply = await customer.call("downloadFileStream", body)
    assert reply.json["violations"], reply.text
    if _strict(either):
        assert reply.status == 400, reply.text
        assert "resultCode" not in reply.json
        return
    assert reply.status == 200, reply.text
    assert (reply.json["resultCode"], reply.json["resultDesc"]) == (code, desc)
    assert "fileStream" not in reply.json
    assert default_store().violations("download-response", reply.json) == []


async def test_download_checks_the_type_the_file_was_stored_as(sim: Sim) -> None:
    customer = await _customer(sim)
    key = (await customer.call("uploadFileStream", _upload(PDF, "jpeg"))).json["objectKey"]
    # spellings of one type are one type (jpeg/jpg, bpm/bmp, any case)
    assert (await customer.call("downloadFileStream", _download(key, "JPG"))).json[
        "resultCode"
    ] == "0"
    wrong = await customer.call("downloadFileStream", _download(key, "png"))
    assert wrong.status == 200
    assert wrong.json["resultCode"] == "13"
    assert wrong.json["resultDesc"] == "param filetype Out of range!"
    assert "fileStream" not in wrong.json
    (violation,) = wrong.json["violations"]
    assert violation["pointer"] == "/fileType"
    assert "'jpeg'" in violation["message"]


async def test_download_of_another_customers_upload_is_an_empty_file(sim: Sim) -> None:
    owner = await _customer(sim, "owner")
    other = await _customer(sim, "other")
    key = (await owner.call("uploadFileStream", _upload(PDF, "pdf"))).json["objectKey"]
    refused = await other.call("downloadFileStream", _download(key, "pdf"))
    assert refused.json["resultCode"] == "13"
    assert refused.json["resultDesc"] == "empty file!"  # as if it did not exist
    assert "fileStream" not in refused.json
    mine = await owner.call("downloadFileStream", _download(key, "pdf"))
    assert base64.b64decode(mine.json["fileStream"]) == PDF


async def test_download_takes_null_multimedia(sim: Sim) -> None:
    customer = await _customer(sim)
    key = (await customer.call("uploadFileStream", _upload(PDF, "pdf"))).json["objectKey"]
    reply = await customer.call("downloadFileStream", _download(key, "pdf", multiMedia=None))
    assert reply.json["resultCode"] == "0", reply.text


# --------------------------------------------------------------------------- send


async def test_file_send_with_an_empty_file_name_is_taken(
    sim: Sim, receiver: RecordingReceiver
) -> None:
    customer = await _customer(sim)
    await customer.connect()
    key = (await customer.call("uploadFileStream", _upload(PDF, "pdf"))).json["objectKey"]
    content = f",{len(PDF)},{key},pdf"  # a live tenant's FILE message: no file name
    reply = await customer.send("CHAT", content, mediaType="FILE")
    assert reply.status == 200, reply.text
    assert reply.json["resultCode"] == "0"
    image = await customer.send("CHAT", f"{key},jpg", mediaType="FILE_IMAGE")
    assert image.json["resultCode"] == "0", image.text
    records = (await customer.call("queryHistoryChatMessage", _history("live-user"))).json
    assert content in [r["content"] for r in records["messageList"]]


async def test_send_takes_null_for_every_optional_field(sim: Sim) -> None:
    customer = await _customer(sim)
    optional = ("content", "senderNickname", "timestamp", "userAgent", "senderAvatar",
                "messageId", "transData")  # fmt: skip
    body = customer.message("CONNECT", **dict.fromkeys(optional))
    reply = await customer.call("send", body)
    assert reply.status == 200, reply.text
    assert reply.json["resultCode"] == "0"


# --------------------------------------------------------------------------- leave message


@pytest.mark.parametrize(
    ("change", "code", "desc"),
    [
        ({"caller": None}, "2", "parameter empty"),
        ({"leaveMessage": ""}, "2", "parameter empty"),
        ({"caller": 138}, "3", "the leaveMessageParams is error."),
        ({"channel": "SMS"}, "3", "the leaveMessageParams is error."),
        ({"callId": "someone-else"}, "3", "the leaveMessageParams is error."),  # identity
    ],
)
async def test_leave_message_bad_parameters_answer_the_vendor_code_or_strict_400(
    either: Sim, change: dict[str, Any], code: str, desc: str
) -> None:
    customer = await _customer(either)
    body = {"callId": "live-user", "caller": "138****7777", "leaveMessage": "hi", "channel": "WEB"}
    reply = await customer.call("doLeaveMessage", {**body, **change})
    assert reply.json["violations"], reply.text
    kept = (await either.admin("GET", "/leave-messages")).json["leaveMessages"]
    assert kept == []  # nothing refused is kept
    if _strict(either):
        assert reply.status == 400, reply.text
        return
    assert reply.status == 200, reply.text
    assert (reply.json["resultCode"], reply.json["resultDesc"]) == (code, desc)
    assert default_store().violations("leave-message-response", reply.json) == []


# --------------------------------------------------------------------------- queue info


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"userId": "someone-else"}, "/userId"),
        ({"channelConfigId": "other-channel"}, "/channelConfigId"),
    ],
)
async def test_queue_info_checks_the_callers_identity(
    either: Sim, change: dict[str, str], pointer: str
) -> None:
    customer = await _customer(either)
    await customer.connect()
    body = {"userId": "live-user", "channelConfigId": CHANNEL, "channel": "WEB", **change}
    reply = await customer.call("queryQueueInfo", body)
    assert [v["pointer"] for v in reply.json["violations"]] == [pointer], reply.text
    if _strict(either):
        assert reply.status == 400, reply.text
        return
    assert reply.status == 200, reply.text
    assert (reply.json["resultCode"], reply.json["resultDesc"]) == ("3", "token error")
    assert default_store().violations("queue-info-response", reply.json) == []


async def test_queue_info_without_credentials_is_still_answered(sim: Sim) -> None:
    # the vendor marks the headers optional: no token, no identity to check
    reply = await sim.request(
        "POST",
        f"{CCM}/queryQueueInfo",
        json_body={"userId": "nobody", "channelConfigId": CHANNEL, "channel": "WEB"},
    )
    assert reply.status == 200, reply.text
    assert reply.json["resultCode"] == "160004"


# --------------------------------------------------------------------------- token shape

_CLAIMS = ["createTime", "tenantId", "randomNumber", "mapService", "userName", "locale",
           "userId", "channelId"]  # fmt: skip


def _claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.b64decode(unquote(token)))
    return decoded


async def test_ccmessaging_token_has_the_live_shape_and_cannot_be_forged(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    sim = await make_sim(
        config_doc(
            [channel_doc(receiver.url)],
            contract={"tenant_id": "202101010000000001", "map_service": "svc-1"},
        )
    )
    customer = await _customer(sim, "shape-user")
    claims = _claims(customer.token)
    assert list(claims) == _CLAIMS  # the example token's order: createTime first, channelId last
    assert customer.token.startswith("eyJjcmVhdGVUaW1lI")  # as the vendor's example begins
    assert claims["tenantId"] == "202101010000000001"
    assert claims["mapService"] == "svc-1"
    assert (claims["userId"], claims["userName"], claims["locale"], claims["channelId"]) == (
        "shape-user", "name-shape-user", "en", CHANNEL,
    )  # fmt: skip
    assert isinstance(claims["createTime"], int) and claims["createTime"] > 1_600_000_000_000
    assert re.fullmatch("[0-9a-f]{48}", claims["randomNumber"])
    again = await _customer(sim, "shape-user")
    assert _claims(again.token)["randomNumber"] != claims["randomNumber"]

    # a decoded, edited and re-encoded token is an unknown token
    forged_claims = {**claims, "userId": "victim"}
    forged = base64.b64encode(json.dumps(forged_claims, separators=(",", ":")).encode())
    headers = {**customer.headers(), "ccmessaging-token": forged.decode().replace("=", "%3D")}
    reply = await sim.request(
        "POST", f"{CCM}/send", json_body=customer.message("CONNECT"), headers=headers
    )
    assert reply.status == 401, reply.text
    assert "unknown ccmessaging-token" in reply.json["detail"]
    assert (await customer.send("CONNECT")).json["resultCode"] == "0"  # the real one works


# --------------------------------------------------------------------------- history


async def test_history_belongs_to_the_customer_across_calls(
    sim: Sim, receiver: RecordingReceiver
) -> None:
    customer = await _customer(sim, "returning")
    before = await customer.call("queryHistoryChatMessage", _history("returning"))
    assert before.status == 200  # queryable before any CONNECT (§7.1 step 2)
    assert before.json == {"messageList": [], "resultCode": "0", "resultDesc": "success"}

    await customer.connect()
    await receiver.wait_message("returning", sourceType="AGENT")
    await customer.send("CHAT", "first call")
    await customer.send("DISCONNECT")
    # between calls, with a fresh token (a new visit), before CONNECT: the first call is there
    await customer.login()
    between = await customer.call("queryHistoryChatMessage", _history("returning"))
    first_ids = {r["callId"] for r in between.json["messageList"]}
    assert len(first_ids) == 1 and None not in first_ids
    assert "first call" in [r["content"] for r in between.json["messageList"]]

    await customer.connect()
    await customer.send("CHAT", "second call")
    records = (await customer.call("queryHistoryChatMessage", _history("returning"))).json[
        "messageList"
    ]
    contents = [r["content"] for r in records]
    assert contents.index("first call") < contents.index("second call")
    call_ids = list(dict.fromkeys(r["callId"] for r in records))
    assert len(call_ids) == 2 and call_ids[0] in first_ids
    for record in records:
        assert re.fullmatch(r"[0-9]+-[0-9]{8}", record["callId"])  # the vendor's shape
    second = [r for r in records if r["callId"] == call_ids[1]]
    assert [r["controlType"] for r in second if r["sourceType"] == "USER"][:2] == [
        "CONNECT",
        "CHAT",
    ]
    session = (await sim.admin("GET", "/sessions/returning")).json["sessions"][0]
    assert session["callId"] == call_ids[1]
    assert session["historySize"] == len(records)


async def test_history_is_bounded_per_customer_oldest_dropped_and_counted(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    sim = await make_sim(
        config_doc([channel_doc(receiver.url, on_connect=None)], history={"max_per_user": 3})
    )
    customer = await _customer(sim, "chatty")
    await customer.connect()  # record 1
    for n in range(5):  # records 2 to 6
        assert (await customer.send("CHAT", f"m{n}")).json["resultCode"] == "0"
    records = (await customer.call("queryHistoryChatMessage", _history("chatty"))).json
    assert [r["content"] for r in records["messageList"]] == ["m2", "m3", "m4"]
    session = (await sim.admin("GET", "/sessions/chatty")).json["sessions"][0]
    assert (session["historySize"], session["historyDropped"]) == (3, 3)


async def test_history_takes_null_times(sim: Sim) -> None:
    customer = await _customer(sim, "nulls")
    await customer.connect()
    reply = await customer.call(
        "queryHistoryChatMessage", _history("nulls", startTime=None, endTime=None)
    )
    assert reply.status == 200, reply.text
    assert [r["controlType"] for r in reply.json["messageList"]][:1] == ["CONNECT"]


# --------------------------------------------------------------------------- poll and transfer


async def test_a_poll_without_a_live_session_waits_out_its_window(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    clock = VirtualClock()
    sim = await make_sim(
        config_doc([channel_doc(receiver.url, delivery="poll")], poll={"timeout_ms": 5000}),
        clock=clock,
    )
    customer = await _customer(sim, "early-poller")
    started = clock.now()
    # virtual time jumps to each due timer: a poll answered at once (which would let a
    # client loop busily before its CONNECT) would leave the clock where it started
    waiting = asyncio.ensure_future(customer.poll())
    reply = await clock.run_until(waiting)
    assert clock.now() - started == 5000
    assert sim.app[POLL].waiting == 0  # a finished poll leaves no waiter behind
    assert reply.status == 200
    assert reply.json["resultCode"] == "0"
    assert reply.json["downlinkMessages"] == []
    # after the session ended too: DISCONNECT drained, the next poll waits its window
    await customer.send("CONNECT")
    await customer.send("DISCONNECT")
    await clock.run_until(customer.poll())
    ended_at = clock.now()
    await clock.run_until(customer.poll())
    assert clock.now() - ended_at == 5000


async def test_a_second_trans2agent_on_a_robot_session_answers_13(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    # no scenario moves the session: the first transfer is still being handled
    sim = await make_sim(config_doc([channel_doc(receiver.url, robot=True, on_connect=None)]))
    customer = await _customer(sim, "impatient")
    await customer.connect()
    first = await customer.send("TRANS2AGENT", "")
    assert first.json["resultCode"] == "0", first.text
    second = await customer.send("TRANS2AGENT", "")
    assert second.json == {
        "resultCode": "13",
        "resultDesc": "fail to transfer from robot to agent,it has been agent service.",
    }
