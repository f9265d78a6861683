"""One HTTP attempt of a push: the headers (OAuth or auth-v2, with their journaled copy),
the POST under the policy's timeout, and the verdict of the answer (vendor rule: HTTP 200
and a JSON object whose ``resultCode`` is the string ``"0"``)."""

from __future__ import annotations

import functools
import json
import ssl
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import aiohttp
import orjson
from yarl import URL

from simulator.core.push import AuthFault, PushTarget
from simulator.core.signing import DEFAULT_ACCESS_KEY, sign
from simulator.delivery.records import AttemptVerdict

__all__ = [
    "RESPONSE_READ_LIMIT",
    "RESPONSE_RECORD_LIMIT",
    "Outcome",
    "build_headers",
    "parse_url",
    "post",
]

#: Response bodies are kept in the journal up to this many bytes.
RESPONSE_RECORD_LIMIT = 4096
#: Response bodies are read (and parsed) up to this many bytes; a longer answer is refused.
RESPONSE_READ_LIMIT = 64 * 1024

# Built once: json.loads on bytes sets a decoder up per call.
_DECODE = json.JSONDecoder().decode


class Outcome(NamedTuple):
    """What one HTTP attempt came to (before it is journaled)."""

    started_at: int
    status: int | None
    body: str | None
    truncated: bool
    latency_ms: float
    verdict: AttemptVerdict
    error: str | None


@functools.lru_cache(maxsize=1024)
def parse_url(url: str) -> URL:
    # A channel's callback URL is parsed once, not once per push.
    return URL(url)


#: the one header every push sends, as journaled
_JSON_CONTENT_TYPE = ("Content-Type", "application/json")


def _wrong_key(push_key: str) -> str:
    # Still a well-formed 43-character key, never the right one.
    return ("B" if push_key[0] == "A" else "A") + push_key[1:]


def _parse_answer(raw: bytes) -> Any:
    """``json.loads(raw)`` as far as the verdict reads it: by orjson when it accepts ``raw``,
    else by the standard library, whose errors are the ones reported. orjson reads an
    integer beyond 64 bits as a float: a float ``resultCode`` or ``resultDesc`` is read
    again by the standard library, so the journal quotes the number as it was sent."""
    try:
        answer = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass  # a BOM, NaN, a lone surrogate, 1e400, UTF-16, broken JSON
    else:
        if not isinstance(answer, dict) or (
            type(answer.get("resultCode")) is not float
            and type(answer.get("resultDesc")) is not float
        ):
            return answer
    # A body that opens with "{" and no NUL after it is UTF-8 by json.detect_encoding's
    # rules, so this is exactly what json.loads does (same codec, same error handler);
    # anything else (UTF-16/32, a BOM, not an object) goes through json.loads itself.
    if raw[:1] == b"{" and raw[1:2] != b"\x00":
        return _DECODE(raw.decode("utf-8", "surrogatepass"))
    return json.loads(raw)


def _judge(status: int, raw: bytes, truncated: bool) -> tuple[AttemptVerdict, str | None]:
    """The verdict of a complete HTTP answer (vendor rule: 200 and resultCode "0")."""
    if status != 200:
        return "http-error", f"HTTP {status}"
    if truncated:
        return "rejected", f"response body larger than {RESPONSE_READ_LIMIT} bytes"
    try:
        answer = _parse_answer(raw)
    except (ValueError, UnicodeDecodeError):
        return "rejected", "response is not JSON"
    if not isinstance(answer, dict):
        return "rejected", "response is not a JSON object"
    if "resultCode" not in answer:
        return "rejected", "response has no resultCode"
    code = answer["resultCode"]
    if code != "0":
        desc = answer.get("resultDesc")
        return "rejected", f"resultCode {json.dumps(code)}" + (f" ({desc})" if desc else "")
    return "accepted", None


async def _read_capped(response: aiohttp.ClientResponse) -> tuple[bytes, bool]:
    """The answer's body, read up to just past :data:`RESPONSE_READ_LIMIT`; True when cut
    (an answer of unknown or larger length: a small one is read at once by :func:`post`)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        chunks.append(chunk)
        size += len(chunk)
        if size > RESPONSE_READ_LIMIT:
            return b"".join(chunks), True
    return b"".join(chunks), False


def build_headers(
    target: PushTarget, url: URL, body: bytes, stamp: int, auth: AuthFault
) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """The headers to send and, built beside them, the same headers as journaled
    (the Bearer token and the auth-v2 signature replaced by ``***``)."""
    if target.mode == "oauth":
        headers = {"Content-Type": "application/json", "x-app-key": target.app_key}
        if auth == "missing":
            return headers, (_JSON_CONTENT_TYPE, ("x-app-key", target.app_key))
        token = target.bearer_token if auth == "ok" else f"wrong-{target.bearer_token}"
        headers["Authorization"] = f"Bearer {token}"
        return headers, (
            _JSON_CONTENT_TYPE,
            ("x-app-key", target.app_key),
            ("Authorization", "Bearer ***"),
        )
    # Signature mode signs Host, so it is set explicitly to exactly what is signed.
    host = url.host_port_subcomponent or ""
    headers = {"Content-Type": "application/json", "Host": host}
    if auth == "missing":
        return headers, (_JSON_CONTENT_TYPE, ("Host", host))
    key = target.push_key if auth == "ok" else _wrong_key(target.push_key)
    signed = sign(
        path=url.raw_path,
        headers=headers,
        body=body,
        push_key=key,
        access_key=target.access_key or DEFAULT_ACCESS_KEY,
        timestamp=stamp,
    )
    headers["Authorization"] = signed
    # auth-v2/{accessKey}/{timestamp}/{SignedHeaders}/{signature}: only the last is secret
    shown = signed.rsplit("/", 1)[0] + "/***"
    return headers, (_JSON_CONTENT_TYPE, ("Host", host), ("Authorization", shown))


async def post(
    session: aiohttp.ClientSession,
    url: URL,
    headers: dict[str, str],
    body: bytes,
    *,
    limit: aiohttp.ClientTimeout,
    clock_ms: Callable[[], int],
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """POST ``body`` once and judge the answer; never raises for the receiver's faults."""
    started_at = clock_ms()
    began = time.perf_counter()
    status: int | None = None
    verdict: AttemptVerdict
    error: str | None
    raw = b""
    truncated = False
    try:
        # The body is read inside the context manager, so the total timeout covers it
        # and the connection goes back to the pool (or is closed) on every path.
        async with session.post(
            url,
            data=body,
            headers=headers,
            timeout=limit,
            ssl=tls if tls is not None else True,
            allow_redirects=False,  # a redirect is a failed push, as a non-200 answer
            raise_for_status=False,  # whatever the app's session default: we judge it
        ) as response:
            status = response.status
            length = response.content_length
            if length is not None and length <= RESPONSE_READ_LIMIT:
                raw = await response.read()  # the usual small answer: one read, no loop
            else:
                raw, truncated = await _read_capped(response)
    except TimeoutError:
        verdict, error = "timeout", f"no complete answer within {limit.total or 0:g} s"
    except aiohttp.ClientError as exc:
        verdict, error = "connection-error", f"{type(exc).__name__}: {exc}"
    except ssl.SSLError as exc:  # a handshake refused outside aiohttp's wrapping
        verdict, error = "connection-error", f"{type(exc).__name__}: {exc}"
    except (ValueError, UnicodeError) as exc:  # a request aiohttp cannot build or send
        verdict, error = "connection-error", f"request not sent: {type(exc).__name__}: {exc}"
    else:
        verdict, error = _judge(status, raw, truncated)
    latency_ms = (time.perf_counter() - began) * 1000
    kept = raw[:RESPONSE_RECORD_LIMIT]
    return Outcome(
        started_at,
        status,
        kept.decode("utf-8", "replace") if status is not None else None,
        truncated or len(raw) > RESPONSE_RECORD_LIMIT,
        latency_ms,
        verdict,
        error,
    )
