"""Packed messages (simulator/server/packed.py): read exactly as the dicts they replace."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from simulator.server.packed import PackedMessage, pack
from simulator.state.codec import encode


def _body(user: str) -> dict[str, Any]:
    # built at run time, as orjson builds a parsed body: no string shared by constant folding
    return {
        "channel": "".join(["W", "EB"]),
        "controlType": "".join(["CH", "AT"]),
        "from": "".join([user]),
        "to": "".join(["2021", "05284494222653"]),
        "mediaType": "".join(["TE", "XT"]),
        "sourceType": "".join(["CUST", "OMER"]),
        "senderNickname": "".join([user]),
        "content": "where is my parcel?",
        "timestamp": "1700000000000",
    }


def test_a_packed_message_reads_as_the_dict_it_came_from() -> None:
    body = _body("u-1")
    packed = pack(body)
    assert isinstance(packed, Mapping)
    assert packed == body and body == packed
    assert packed != {**body, "content": "else"}
    assert list(packed) == list(body) and len(packed) == len(body)
    assert list(packed.items()) == list(body.items())
    assert list(packed.values()) == list(body.values())
    assert packed["content"] == "where is my parcel?"
    assert packed.get("messageId") is None and packed.get("messageId", "d") == "d"
    assert "to" in packed and "messageId" not in packed
    with pytest.raises(KeyError):
        packed["messageId"]
    assert packed.to_dict() == body and dict(packed) == body
    assert type(packed.to_dict()) is dict
    with pytest.raises(TypeError):
        hash(packed)  # a mapping, as the dict was


def test_packing_twice_gives_the_same_object() -> None:
    packed = pack(_body("u-1"))
    assert pack(packed) is packed


def test_repeated_values_and_the_customer_are_kept_once() -> None:
    first, second = pack(_body("u-1"), "u-1"), pack(_body("u-2"), "u-2")
    for name in ("channel", "controlType", "to", "mediaType", "sourceType"):
        assert first[name] is second[name], name
    customer = "".join(["u-", "3"])
    third = pack(_body("u-3"), customer)
    assert third["from"] is customer and third["senderNickname"] is customer
    # a nickname that is not the userId stays as sent
    named = pack({**_body("u-4"), "senderNickname": "Ann"}, "u-4")
    assert named["senderNickname"] == "Ann"
    # the field names are shared by messages of one shape
    assert list(first) == list(second)


def test_a_packed_message_survives_copy_pickle_and_the_state_file() -> None:
    body = _body("u-1")
    packed = pack(body)
    assert copy.copy(packed) == body
    restored = pickle.loads(pickle.dumps(packed))
    assert type(restored) is PackedMessage and restored == body
    # the state file's encoder writes it as the JSON object of the dict
    assert orjson.loads(encode({"entries": [(1, packed)]})) == {"entries": [[1, body]]}
    assert repr(packed).startswith("PackedMessage({")
