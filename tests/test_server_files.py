"""Files (uploadFileStream / downloadFileStream), history, leave-message and the pushMsg
contract sink, end to end (reference §3.5 to §3.8, §4.2)."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import pytest
from conftest import (
    APP_KEY,
    CCM,
    CHANNEL,
    Customer,
    MakeSim,
    RecordingReceiver,
    Sim,
    channel_doc,
    config_doc,
)

from simulator.core.validation import default_store
from simulator.scenario import load_builtin

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP438AAAAQBAYDFKhhdAAAAAElFTkSuQmCC"
)


@pytest.fixture
async def files_sim(make_sim: MakeSim, receiver: RecordingReceiver) -> Sim:
    return await make_sim(
        config_doc(
            [channel_doc(receiver.url, speed=50)],
            limits={"max_file_bytes": 4096, "max_body_bytes": 16384},
        )
    )


@pytest.fixture
async def customer(files_sim: Sim) -> Customer:
    customer = files_sim.customer("file-user")
    await customer.login()
    return customer


def _upload(data: bytes | str, file_type: str = "jpg") -> dict[str, str]:
    stream = data if isinstance(data, str) else base64.b64encode(data).decode()
    return {"fileType": file_type, "channel": "WEB", "fileStream": stream}


async def test_upload_then_download_round_trip(customer: Customer) -> None:
    data = bytes(range(256)) * 8
    up = await customer.call("uploadFileStream", _upload(data))
    assert up.status == 200
    assert up.json["returnCode"] == "0"
    key = up.json["objectKey"]
    assert len(key) == 36  # a UUID, as the vendor's example
    down = await customer.call(
        "downloadFileStream", {"fileId": key, "channel": "WEB", "fileType": "jpg"}
    )
    assert down.status == 200
    assert down.json["resultCode"] == "0"
    assert base64.b64decode(down.json["fileStream"]) == data
    # a local file id ("local/" + content, reference §3.6) finds the same file
    local = await customer.call(
        "downloadFileStream", {"fileId": f"local/{key}", "channel": "WEB", "fileType": "jpg"}
    )
    assert base64.b64decode(local.json["fileStream"]) == data
    # the temporary view link (fileUrl) serves the same bytes
    assert down.json["fileUrl"].startswith(customer.sim.base_url + "/__files/")
    path = down.json["fileUrl"].removeprefix(customer.sim.base_url)
    view = await customer.sim.request("GET", path)
    assert view.status == 200
    assert view.headers["Content-Type"] == "image/jpeg"
    async with customer.sim.http.get(down.json["fileUrl"]) as response:
        assert await response.read() == data


@pytest.mark.parametrize(
    ("stream", "code"),
    [
        ("not base64!!", "3"),
        ("QUJD=", "3"),  # bad padding
        ("=", "3"),
        (base64.b64encode(b"x" * 4097).decode(), "13"),  # one byte over max_file_bytes
    ],
)
async def test_upload_refusals(customer: Customer, stream: str, code: str) -> None:
    reply = await customer.call("uploadFileStream", _upload(stream))
    assert reply.status == 200, reply.text
    assert reply.json["returnCode"] == code
    assert "objectKey" not in reply.json
    assert default_store().violations("upload-response", reply.json) == []


async def test_upload_at_the_limit_is_accepted(customer: Customer) -> None:
    reply = await customer.call("uploadFileStream", _upload(b"y" * 4096, "txt"))
    assert reply.json["returnCode"] == "0"


async def test_download_unknown_is_13(customer: Customer) -> None:
    reply = await customer.call(
        "downloadFileStream", {"fileId": "no-such-file", "channel": "WEB", "fileType": "png"}
    )
    assert reply.json["resultCode"] == "13"
    assert reply.json["resultDesc"] == "empty file!"


async def test_agent_media_ids_are_downloadable(
    files_sim: Sim, customer: Customer, receiver: RecordingReceiver
) -> None:
    await customer.connect()
    await receiver.wait_message("file-user", sourceType="AGENT")
    run = await files_sim.admin(
        "POST", "/scenarios/agent-media/runs", json_body={"userId": "file-user"}
    )
    assert run.status == 201, run.text
    document = await receiver.wait_message("file-user", mediaType="DOCUMENT")
    media = {
        m["mediaType"]: m
        for m in receiver.messages("file-user")
        if m["mediaType"] in {"IMAGE", "VIDEO", "AUDIO", "LOCATE", "DOCUMENT"}
    }
    assert set(media) == {"IMAGE", "VIDEO", "AUDIO", "LOCATE", "DOCUMENT"}
    assert media["DOCUMENT"] == document
    assert media["LOCATE"]["content"].count("/") == 2  # latitude/longitude/description
    scenario = load_builtin("agent-media")
    file_types = {"IMAGE": "png", "VIDEO": "mp4", "AUDIO": "mp3", "DOCUMENT": "pdf"}
    for kind, file_type in file_types.items():
        file_id = media[kind]["content"]
        reply = await customer.call(
            "downloadFileStream",
            {
                "fileId": file_id,
                "channel": "WEB",
                "fileType": file_type,
                "multiMedia": "multiMedia",
            },
        )
        assert reply.json["resultCode"] == "0", (kind, reply.text)
        data = base64.b64decode(reply.json["fileStream"])
        assert data == scenario.media[file_id].data
    image = base64.b64decode(
        (
            await customer.call(
                "downloadFileStream",
                {"fileId": media["IMAGE"]["content"], "channel": "WEB", "fileType": "png"},
            )
        ).json["fileStream"]
    )
    assert hashlib.sha256(image).digest() == hashlib.sha256(PNG).digest()


async def test_history_pages_the_conversation(
    files_sim: Sim, customer: Customer, receiver: RecordingReceiver
) -> None:
    await customer.connect()
    await receiver.wait_message("file-user", sourceType="AGENT")
    await customer.send("CHAT", "first question", messageId="h-1")
    await receiver.wait_message("file-user", content="You said: first question")

    def query(offset: str, limit: str, **extra: str) -> dict[str, Any]:
        return {
            "channelId": CHANNEL,
            "userId": "file-user",
            "offset": offset,
            "limit": limit,
            "channel": "WEB",
            **extra,
        }

    everything = await customer.call("queryHistoryChatMessage", query("0", "100"))
    assert everything.status == 200
    assert everything.json["resultCode"] == "0"
    records = everything.json["messageList"]
    mine = [r for r in records if r["sourceType"] == "USER"]
    assert [r["controlType"] for r in mine] == ["CONNECT", "CHAT"]
    assert mine[1]["content"] == "first question"
    assert mine[1]["messageCode"] == "h-1"
    theirs = [r["content"] for r in records if r["sourceType"] != "USER"]
    assert theirs[:3] == [
        "Queuing...",
        "The call is connected to an agent.",
        "Hello, this is Alice. How can I help you?",
    ]
    assert "You said: first question" in theirs
    assert all(r["sourceType"] in {"USER", "SYSTEM", "AGENT"} for r in records)
    send_times = [r["sendTime"] for r in records]
    assert send_times == sorted(send_times)  # oldest first

    page = await customer.call("queryHistoryChatMessage", query("1", "2"))
    assert page.json["messageList"] == records[1:3]
    past_end = await customer.call("queryHistoryChatMessage", query("100", "10"))
    assert past_end.json["messageList"] == []
    window = await customer.call(
        "queryHistoryChatMessage",
        query("0", "100", startTime=str(records[-1]["sendTime"] + 1)),
    )
    assert window.json["messageList"] == []

    other = await customer.call(
        "queryHistoryChatMessage", {**query("0", "10"), "userId": "someone-else"}
    )
    assert other.status == 400
    assert other.json["violations"][0]["pointer"] == "/userId"


async def test_history_dates_customer_messages_without_timestamp(customer: Customer) -> None:
    before = int(time.time() * 1000)
    await customer.connect()  # the test client's CONNECT has no timestamp
    reply = await customer.call(
        "queryHistoryChatMessage",
        {"channelId": CHANNEL, "userId": "file-user", "limit": "1", "offset": "0",
         "channel": "WEB", "startTime": str(before)},
    )  # fmt: skip
    (connect,) = reply.json["messageList"]
    assert connect["controlType"] == "CONNECT"
    assert connect["sendTime"] >= before
    assert connect["receiveTime"] >= before


async def test_leave_message(customer: Customer) -> None:
    reply = await customer.call(
        "doLeaveMessage",
        {
            "callId": "file-user",
            "caller": "138****7777",
            "leaveMessage": "请回复电话",
            "channel": "WEB",
        },
    )
    assert reply.status == 200
    assert reply.json == {"resultCode": "0", "resultDesc": "Save leaveMessage success!"}
    kept = (await customer.sim.admin("GET", "/leave-messages")).json["leaveMessages"]
    assert [(m["callId"], m["leaveMessage"]) for m in kept] == [("file-user", "请回复电话")]


# --------------------------------------------------------------------------------------------
# pushMsg sink


def _push_body() -> dict[str, Any]:
    return {
        "timestamp": 1625898453913,
        "messages": [
            {
                "from": CHANNEL,
                "channel": "WEB",
                "to": "44444444",
                "controlType": "CHAT",
                "mediaType": "TEXT",
                "content": "Queuing...",
                "simQuestions": None,
                "senderNickname": "SYSTEM",
                "timestamp": 1625898453913,
                "sourceType": "SYSTEM",
                "messageCode": None,
            }
        ],
    }


async def test_push_msg_sink(files_sim: Sim, customer: Customer) -> None:
    headers = customer.gateway_headers()
    good = await files_sim.request(
        "POST", f"{CCM}/pushMsg", json_body=_push_body(), headers=headers
    )
    assert good.status == 200
    assert good.json == {"resultCode": "0", "resultDesc": "success."}

    bad_body = _push_body()
    bad_body["messages"][0]["controlType"] = "TYPING"
    del bad_body["timestamp"]
    bad = await files_sim.request("POST", f"{CCM}/pushMsg", json_body=bad_body, headers=headers)
    assert bad.status == 400
    pointers = {v["pointer"] for v in bad.json["violations"]}
    assert "/messages/0/controlType" in pointers
    assert len(bad.json["violations"]) >= 2
    # the missing timestamp is reported at the root, naming the member
    assert any(
        v["pointer"] == "" and "'timestamp' is a required property" in v["message"]
        for v in bad.json["violations"]
    ), bad.text

    for wrong in (
        {},
        {"x-app-key": APP_KEY, "Authorization": "Bearer nope"},
        {"x-app-key": "other", "Authorization": headers["Authorization"]},
    ):
        refused = await files_sim.request(
            "POST", f"{CCM}/pushMsg", json_body=_push_body(), headers=wrong
        )
        assert refused.status == 401, refused.text
