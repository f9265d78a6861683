"""Push bodies and answers are written, and the receiver's answer read, by orjson on the hot
paths; what they give is what the standard library gives (the journal shows the bytes sent,
and the verdict reads the answer), with the standard library behind whatever orjson
refuses."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest

from simulator.core.jsontext import compact_json
from simulator.delivery.attempt import _judge
from simulator.server.packed import pack


def _stdlib(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "document",
    [
        {"timestamp": 1619573122352, "messages": []},
        {"timestamp": 1, "messages": [{"content": 'é 中文 \u2028 \x01 / " \\', "mediaType": None}]},
        {"a": 1e16, "b": 1.0, "c": -0.0, "d": [True, False, None], "e": {"f": 0.1 + 0.2}},
        {"big": 123456789012345678901234567890},  # beyond 64 bits: the standard library
        {"keys": {1: "int key", 2.5: "float key"}},  # not strings: the standard library
    ],
)
def test_json_text_is_what_json_dumps_gives(document: dict[str, Any]) -> None:
    assert compact_json(document) == _stdlib(document)


def test_a_float_may_be_written_in_another_form_of_the_same_number() -> None:
    document = {"small": 1.5e-7, "tiny": 1e-5}
    assert json.loads(compact_json(document)) == document


def test_the_text_kept_is_its_own_size() -> None:
    # orjson's own bytes keep its whole write buffer (4 KiB for this answer); the journal
    # keeps 10,000 answers
    document = {"resultCode": "0", "token": "x" * 300}
    tracemalloc.start()
    try:
        kept = [compact_json(document) for _ in range(100)]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(kept[0]) == 329
    assert held < 100 * 1024  # ~370 bytes each, not 4 KiB


def test_a_packed_message_is_written_as_its_mapping() -> None:
    message = {"controlType": "CHAT", "content": "hi", "from": "u1"}
    document = {"timestamp": 1, "messages": [pack(message, "u1")]}
    assert json.loads(compact_json(document)) == {"timestamp": 1, "messages": [message]}


@pytest.mark.parametrize(
    ("raw", "verdict"),
    [
        (b'{"resultCode":"0"}', ("accepted", None)),
        (b'\xef\xbb\xbf{"resultCode":"0"}', ("accepted", None)),  # a BOM, as json.loads reads
        (b'{"resultCode":"1","resultDesc":"no"}', ("rejected", 'resultCode "1" (no)')),
        (b'{"resultCode":0}', ("rejected", "resultCode 0")),
        (
            b'{"resultCode":123456789012345678901234567890}',  # quoted as sent, not as a float
            ("rejected", "resultCode 123456789012345678901234567890"),
        ),
        (b'{"resultCode":NaN}', ("rejected", "resultCode NaN")),
        (b"[1]", ("rejected", "response is not a JSON object")),
        (b"not json", ("rejected", "response is not JSON")),
        (b'{"other":1}', ("rejected", "response has no resultCode")),
    ],
)
def test_the_answer_is_judged_as_the_standard_library_reads_it(
    raw: bytes, verdict: tuple[str, str | None]
) -> None:
    assert _judge(200, raw, False) == verdict
