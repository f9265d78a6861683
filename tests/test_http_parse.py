"""The request-body parser: orjson on the fast path, the standard library's verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulator.server.http import _parse_json_exactly, parse_json_body

VENDOR = Path(__file__).parent / "fixtures" / "vendor"

BODIES: list[bytes] = [
    b"{}",
    b'{"a": 1} ',
    b'{"a":"\\u00e9","b":[1,2.5,true,null]}',
    '{"content":"请回复电话"}'.encode(),
    b'{"a":1,"a":2}',
    b"1e400",  # beyond a double: only orjson refuses it
    b"",
    b"{",
    b"NaN",
    b'{"a": Infinity}',
    b'{"a":"\\ud800"}',
    b"\xef\xbb\xbf{}",
    '{"a":"x"}'.encode("utf-16"),
    b"\xff\xfe",
    b"[" * 3000 + b"]" * 3000,
    b'{"a": 1' + b"0" * 5000 + b"}",
    *(path.read_bytes() for path in sorted(VENDOR.glob("*.json"))),
]


def _outcome(parse: Any, raw: bytes) -> tuple[str, Any]:
    try:
        return "ok", parse(raw)
    except ValueError as exc:
        return "refused", str(exc)


@pytest.mark.parametrize("raw", BODIES, ids=lambda raw: repr(raw[:24]))
def test_fast_parse_gives_the_standard_verdict(raw: bytes) -> None:
    fast, exact = _outcome(parse_json_body, raw), _outcome(_parse_json_exactly, raw)
    if fast[0] == "ok" and exact[0] == "ok":
        # same document (floats compared as JSON, so 1e400 == inf on both sides)
        assert json.dumps(fast[1], sort_keys=True) == json.dumps(exact[1], sort_keys=True)
    else:
        assert fast == exact


def test_refusals_are_specific() -> None:
    reasons = {raw: _outcome(parse_json_body, raw)[1] for raw in BODIES[6:11]}
    assert "not valid JSON" in reasons[b""]
    assert "NaN is not a JSON value" in reasons[b"NaN"]
    assert "surrogate" in reasons[b'{"a":"\\ud800"}']
