"""The auth-v2 scheme: worked example, round trip, every refusal (pure, no I/O)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from multidict import CIMultiDict

from simulator.core import signing
from simulator.core.errors import SignatureError, SimulatorError

# The worked example of docs/delivery.md, byte for byte.
KEY = "SimulatorPushKey0123456789abcdefghijklmnopq"
PATH = "/aicc/webhooks/v1/messages"
STAMP = 1625898453913
BODY = (
    b'{"timestamp":1625898453913,"messages":[{"from":"202105284494222653","channel":"WEB",'
    b'"to":"44444444","controlType":"CHAT","mediaType":"TEXT","content":"Queuing...",'
    b'"senderNickname":"SYSTEM","timestamp":1625898453913,"sourceType":"SYSTEM"}]}'
)
HEADERS = {"Content-Type": "application/json", "Host": "127.0.0.1:9000"}
EXAMPLE_CANONICAL = (
    "auth-v2\n"
    "aicc-sim\n"
    "1625898453913\n"
    "POST\n"
    "/aicc/webhooks/v1/messages\n"
    "content-type:application/json\n"
    "host:127.0.0.1:9000\n"
    "content-type;host\n"
    "4a3874c88ca834426e7d23034f0b3c92b4b7b7e94172053a6cdfd2d6fb7d9236"
)
EXAMPLE_HEADER = (
    "auth-v2/aicc-sim/1625898453913/content-type;host/"
    "8b49962d5c70e8aaac37d111c1fadc99da570d36b5c1b2ca903636117aff4471"
)


def example_header() -> str:
    return signing.sign(path=PATH, headers=HEADERS, body=BODY, push_key=KEY, access_key="aicc-sim")


def arguments(**overrides: Any) -> dict[str, Any]:
    """verify()'s keyword arguments for the worked example, one second after signing."""
    return {
        "method": "POST",
        "path": PATH,
        "headers": HEADERS,
        "body": BODY,
        "push_key": KEY,
        "now_ms": STAMP + 1_000,
        **overrides,
    }


def check(header: str | None, **overrides: Any) -> None:
    signing.verify(header, **arguments(**overrides))


def test_worked_example_canonical_string_and_signature() -> None:
    assert len(KEY) == 43
    assert hashlib.sha256(BODY).hexdigest() == EXAMPLE_CANONICAL.rsplit("\n", 1)[1]
    canonical = signing.canonical_string(
        access_key="aicc-sim",
        timestamp=STAMP,
        method="post",
        path=PATH,
        headers=HEADERS,
        signed_headers=("content-type", "host"),
        body=BODY,
    )
    assert canonical == EXAMPLE_CANONICAL
    # independent of the module: plain hmac over the documented text
    expected = hmac.new(KEY.encode(), EXAMPLE_CANONICAL.encode(), hashlib.sha256).hexdigest()
    assert EXAMPLE_HEADER.endswith("/" + expected)
    assert example_header() == EXAMPLE_HEADER


def test_timestamp_defaults_to_the_body_timestamp_and_can_be_given() -> None:
    explicit = signing.sign(
        path=PATH, headers=HEADERS, body=BODY, push_key=KEY, access_key="aicc-sim", timestamp=STAMP
    )
    assert explicit == example_header()


@pytest.mark.parametrize(
    "headers",
    [
        HEADERS,
        {"content-type": "application/json", "host": "127.0.0.1:9000"},
        {"CONTENT-TYPE": "  application/json ", "HOST": "127.0.0.1:9000", "X-Other": "x"},
        CIMultiDict(HEADERS),
    ],
    ids=["dict", "lower", "upper-padded-extra", "multidict"],
)
def test_verify_accepts_any_header_mapping_case_insensitively(headers: Any) -> None:
    check(EXAMPLE_HEADER, headers=headers)
    assert signing.is_valid(
        EXAMPLE_HEADER,
        method="POST",
        path=PATH,
        headers=headers,
        body=BODY,
        push_key=KEY,
        now_ms=STAMP,
    )


def test_query_string_is_ignored_so_raw_path_works() -> None:
    check(EXAMPLE_HEADER, path=PATH + "?tenant=1")


def test_freshness_off_and_expected_access_key() -> None:
    check(EXAMPLE_HEADER, now_ms=None, max_skew_ms=None, access_key="aicc-sim")


def _replace_body_byte() -> bytes:
    return BODY.replace(b"Queuing...", b"Queuing..!")


def _other_key() -> str:
    return "A" * 43


TAMPER: list[tuple[str, Callable[[], tuple[str | None, dict[str, Any]]], str]] = [
    ("no header", lambda: (None, {}), "missing"),
    ("empty header", lambda: ("  ", {}), "missing"),
    ("bearer instead", lambda: ("Bearer abc", {}), "scheme"),
    ("other scheme", lambda: ("auth-v1/a/1/host/" + "0" * 64, {}), "scheme"),
    ("four parts", lambda: (EXAMPLE_HEADER.rsplit("/", 1)[0], {}), "malformed"),
    ("six parts", lambda: (EXAMPLE_HEADER + "/x", {}), "malformed"),
    (
        "timestamp not digits",
        lambda: (EXAMPLE_HEADER.replace("/1625898453913/", "/16e3/"), {}),
        "malformed",
    ),
    (
        "unsorted names",
        lambda: (EXAMPLE_HEADER.replace("content-type;host", "host;content-type"), {}),
        "malformed",
    ),
    (
        "upper-case signature",
        lambda: (EXAMPLE_HEADER.upper().replace("AUTH-V2", "auth-v2"), {}),
        "malformed",
    ),
    ("short signature", lambda: (EXAMPLE_HEADER[:-2], {}), "malformed"),
    ("push key too short", lambda: (EXAMPLE_HEADER, {"push_key": KEY[:-1]}), "key"),
    ("push key bad char", lambda: (EXAMPLE_HEADER, {"push_key": KEY[:-1] + "-"}), "key"),
    (
        "host not signed",
        lambda: (EXAMPLE_HEADER.replace("content-type;host", "content-type"), {}),
        "header",
    ),
    (
        "signed header absent",
        lambda: (EXAMPLE_HEADER, {"headers": {"Host": "127.0.0.1:9000"}}),
        "header",
    ),
    ("unexpected access key", lambda: (EXAMPLE_HEADER, {"access_key": "someone"}), "header"),
    (
        "header timestamp changed",
        lambda: (EXAMPLE_HEADER.replace("/1625898453913/", "/1625898453914/"), {}),
        "timestamp",
    ),
    (
        "body timestamp changed",
        lambda: (EXAMPLE_HEADER, {"body": BODY.replace(b'3913,"messages', b'3914,"messages')}),
        "timestamp",
    ),
    ("body not JSON", lambda: (EXAMPLE_HEADER, {"body": b"not json"}), "timestamp"),
    ("body byte changed", lambda: (EXAMPLE_HEADER, {"body": _replace_body_byte()}), "signature"),
    ("wrong key", lambda: (EXAMPLE_HEADER, {"push_key": _other_key()}), "signature"),
    (
        "host changed",
        lambda: (EXAMPLE_HEADER, {"headers": {**HEADERS, "Host": "evil.example:9000"}}),
        "signature",
    ),
    (
        "path changed",
        lambda: (EXAMPLE_HEADER, {"path": "/other/webhooks/v1/messages"}),
        "signature",
    ),
    ("method changed", lambda: (EXAMPLE_HEADER, {"method": "PUT"}), "signature"),
    (
        "access key changed",
        lambda: (EXAMPLE_HEADER.replace("/aicc-sim/", "/aicc-sim2/"), {}),
        "signature",
    ),
    ("stale", lambda: (EXAMPLE_HEADER, {"now_ms": STAMP + 300_001}), "stale"),
    ("from the future", lambda: (EXAMPLE_HEADER, {"now_ms": STAMP - 300_001}), "stale"),
    ("tight window", lambda: (EXAMPLE_HEADER, {"now_ms": STAMP + 11, "max_skew_ms": 10}), "stale"),
]


@pytest.mark.parametrize(
    ("case", "code"), [(t[1], t[2]) for t in TAMPER], ids=[t[0] for t in TAMPER]
)
def test_verify_refuses_with_a_specific_code(
    case: Callable[[], tuple[str | None, dict[str, Any]]], code: str
) -> None:
    header, overrides = case()
    with pytest.raises(SignatureError) as caught:
        check(header, **overrides)
    assert caught.value.code == code
    assert isinstance(caught.value, SimulatorError)
    assert caught.value.reason in str(caught.value)
    assert signing.is_valid(header, **arguments(**{"now_ms": STAMP, **overrides})) is False


def test_the_edge_of_the_window_is_still_fresh() -> None:
    check(EXAMPLE_HEADER, now_ms=STAMP + 300_000)
    check(EXAMPLE_HEADER, now_ms=STAMP - 300_000)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"push_key": "short"}, "key"),
        ({"push_key": "é" * 43}, "key"),
        ({"access_key": ""}, "malformed"),
        ({"access_key": "a/b"}, "malformed"),
        ({"signed_headers": ()}, "header"),
        ({"signed_headers": ("x-missing",)}, "header"),
        ({"body": b"[]"}, "timestamp"),
        ({"timestamp": -1}, "timestamp"),
    ],
)
def test_sign_refuses_bad_input(kwargs: dict[str, Any], code: str) -> None:
    arguments: dict[str, Any] = {
        "path": PATH,
        "headers": HEADERS,
        "body": BODY,
        "push_key": KEY,
        "access_key": "aicc-sim",
    }
    arguments.update(kwargs)
    with pytest.raises(SignatureError) as caught:
        signing.sign(**arguments)
    assert caught.value.code == code


def test_sign_normalises_signed_header_names() -> None:
    header = signing.sign(
        path=PATH,
        headers=HEADERS,
        body=BODY,
        push_key=KEY,
        access_key="aicc-sim",
        signed_headers=("Host", "Content-Type", "host"),
    )
    assert header == EXAMPLE_HEADER


def test_parse_authorization_round_trip() -> None:
    parsed = signing.parse_authorization(EXAMPLE_HEADER)
    assert parsed.access_key == "aicc-sim"
    assert parsed.timestamp == STAMP
    assert parsed.signed_headers == ("content-type", "host")
    assert str(parsed) == EXAMPLE_HEADER
