"""queryPhraseByKeyword over real sockets: keyword match per locale, the vendor's
resultCode 1 texts, the per-channel list, and a specific 400 for bad input."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import MakeSim, RecordingReceiver, Sim, channel_doc, config_doc

from simulator.core.validation import default_store


async def query(sim: Sim, body: Any, user: str = "faq-1") -> Any:
    customer = sim.customer(user)
    await customer.login()
    reply = await customer.call("queryPhraseByKeyword", body)
    assert reply.status == 200, reply.text
    assert default_store().violations("phrase-response", reply.json) == [], reply.text
    return reply.json


async def test_the_vendor_example(sim: Sim) -> None:
    answer = await query(sim, {"strContent": "网格", "locale": "zh", "channel": "WEB"})
    expected = ["网格版APP在哪里下载", "网格版APP如何登录"]
    # both names of the list: question (API reference) and phrases (devg)
    assert answer == {
        "question": expected,
        "phrases": expected,
        "resultCode": "0",
        "resultDesc": "",
    }


@pytest.mark.parametrize(
    ("keyword", "locale", "expected"),
    [
        ("PASSWORD", "en", ["How do I reset my password?"]),
        ("order", "en_US", ["How do I track my order?", "How do I cancel my order?"]),
        ("pedido", "pt-BR", ["Como rastrear meu pedido?", "Como cancelar meu pedido?"]),
        ("密码", "zh_CN", ["如何修改密码"]),
        ("nothing like it", "en", []),
    ],
)
async def test_keyword_match(sim: Sim, keyword: str, locale: str, expected: list[str]) -> None:
    answer = await query(sim, {"strContent": keyword, "locale": locale, "channel": "WEB"})
    assert (answer["resultCode"], answer["question"]) == ("0", expected)


async def test_at_most_five(sim: Sim) -> None:
    answer = await query(sim, {"strContent": "how", "locale": "en", "channel": "WEB"})
    assert len(answer["question"]) == 5  # six match; the vendor's maximum is 5


@pytest.mark.parametrize(
    ("body", "desc"),
    [
        ({"strContent": "x", "locale": "xx", "channel": "WEB"}, "locale is error"),
        ({"strContent": "  ", "locale": "en", "channel": "WEB"}, "request is no exsit"),
    ],
)
async def test_vendor_result_code_1(sim: Sim, body: dict[str, str], desc: str) -> None:
    assert await query(sim, body) == {"resultCode": "1", "resultDesc": desc}


async def test_per_channel_list_and_robot_requirement(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    phrases = {"by_locale": {"en": ["Opening hours?", "Opening a ticket"]}, "max_results": 1}
    channels = [
        channel_doc(receiver.url, phrases=phrases),
        channel_doc(receiver.url, id="2", phrases={"require_robot": True}),
    ]
    sim = await make_sim(config_doc(channels))
    answer = await query(sim, {"strContent": "opening", "locale": "en", "channel": "WEB"})
    assert answer["question"] == ["Opening hours?"]
    customer = sim.customer("faq-2", channel_id="2")
    await customer.login()
    reply = await customer.call(
        "queryPhraseByKeyword", {"strContent": "x", "locale": "en", "channel": "WEB"}
    )
    assert reply.json == {"resultCode": "1", "resultDesc": "Robot is no exsit"}


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"locale": "en", "channel": "WEB"}, ""),
        ({"strContent": "x", "channel": "WEB"}, ""),
        ({"strContent": "x", "locale": "en"}, ""),
        ({"strContent": 5, "locale": "en", "channel": "WEB"}, "/strContent"),
        ({"strContent": "x", "locale": "en" * 9, "channel": "WEB"}, "/locale"),
        ({"strContent": "x", "locale": "en", "channel": "web"}, "/channel"),
        ("x", ""),
    ],
)
async def test_bad_input(sim: Sim, body: Any, pointer: str) -> None:
    customer = sim.customer("faq-3")
    await customer.login()
    reply = await customer.call("queryPhraseByKeyword", body)
    assert reply.status == 400, reply.text
    assert pointer in [v["pointer"] for v in reply.json["violations"]]
    no_auth = {"Content-Type": "application/json"}
    assert (await customer.call("queryPhraseByKeyword", body, headers=no_auth)).status == 401
