"""The simulator's auth-v2 webhook signature: make it, parse it, verify it. Pure, no I/O.

The vendor documents only the header template ``auth-v2/{accessKey}/{timestamp}/{SignedHeaders}``
and the 43-character ``[A-Za-z0-9]`` message push key (reference §2.3); the algorithm itself is
not published. This module is the simulator's own, documented scheme::

    Authorization: auth-v2/{accessKey}/{timestamp}/{SignedHeaders}/{signature}

- ``timestamp``: decimal epoch milliseconds, equal to the body's ``timestamp`` field.
- ``SignedHeaders``: lower-case header names, sorted, ``;``-joined (default ``content-type;host``).
- ``signature``: lower-case hex HMAC-SHA256, keyed with the push key (its ASCII bytes), over the
  canonical string below.

The canonical string is these lines joined by ``\\n`` (no trailing newline)::

    auth-v2
    {accessKey}
    {timestamp}
    {METHOD}                      upper-case, e.g. POST
    {path}                        request path as sent, without the query string
    {name}:{value}                one line per signed header, in SignedHeaders order;
                                  name lower-case, value with surrounding whitespace trimmed
    {SignedHeaders}
    {hex SHA-256 of the exact body bytes}

An integration checks a push with :func:`verify` (or :func:`is_valid`), passing the request's
headers mapping as is (names are matched case-insensitively).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from simulator.core.clock import epoch_ms
from simulator.core.errors import SignatureError

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_SIGNED_HEADERS",
    "REQUIRED_SIGNED_HEADERS",
    "SCHEME",
    "AuthV2Header",
    "canonical_string",
    "check_push_key",
    "is_valid",
    "parse_authorization",
    "sign",
    "verify",
]

SCHEME = "auth-v2"
#: The ``{accessKey}`` the simulator sends when a channel configures none (AICC's config page
#: asks only for the push key, so the vendor's accessKey has no documented source).
DEFAULT_ACCESS_KEY = "aicc-sim"
#: What the simulator signs on every push.
DEFAULT_SIGNED_HEADERS: tuple[str, ...] = ("content-type", "host")
#: A header whose SignedHeaders omit one of these is refused: otherwise a signature over an
#: empty header list would let anyone re-target or re-type a captured body.
REQUIRED_SIGNED_HEADERS: frozenset[str] = frozenset(DEFAULT_SIGNED_HEADERS)

_PUSH_KEY = re.compile(r"[A-Za-z0-9]{43}")
_ACCESS_KEY = re.compile(r"[A-Za-z0-9._~@:+=-]{1,128}")
_HEADER_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")
_TIMESTAMP = re.compile(r"[0-9]{1,19}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class AuthV2Header:
    """The parts of an ``auth-v2/...`` Authorization header."""

    access_key: str
    timestamp: int
    signed_headers: tuple[str, ...]
    signature: str

    def __str__(self) -> str:
        return "/".join(
            (
                SCHEME,
                self.access_key,
                str(self.timestamp),
                ";".join(self.signed_headers),
                self.signature,
            )
        )


def check_push_key(push_key: str) -> None:
    """Raise :class:`SignatureError` (code ``key``) unless ``push_key`` is 43 ``[A-Za-z0-9]``."""
    if not _PUSH_KEY.fullmatch(push_key):
        raise SignatureError(
            "key",
            f"the message push key must be exactly 43 characters A-Z, a-z, 0-9 "
            f"(got {len(push_key)} characters)",
        )


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lower-cased; the first value wins for repeated names (multidicts)."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        lowered.setdefault(name.lower(), value)
    return lowered


def _path_only(path: str) -> str:
    # Accept request.raw_path / path_qs too: the query string is not signed.
    return path.split("?", 1)[0] or "/"


def canonical_string(
    *,
    access_key: str,
    timestamp: int,
    method: str,
    path: str,
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    body: bytes,
) -> str:
    """The exact text that is HMAC'd (see the module docstring for the layout)."""
    names = tuple(signed_headers)
    lowered = _lower_headers(headers)
    lines = [SCHEME, access_key, str(timestamp), method.upper(), _path_only(path)]
    for name in names:
        if name not in lowered:
            raise SignatureError("header", f"signed header {name!r} is not in the request")
        lines.append(f"{name}:{lowered[name].strip()}")
    lines.append(";".join(names))
    lines.append(hashlib.sha256(body).hexdigest())
    return "\n".join(lines)


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _body_timestamp(body: bytes) -> int:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignatureError("timestamp", f"body is not JSON ({exc})") from None
    stamp = document.get("timestamp") if isinstance(document, dict) else None
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise SignatureError("timestamp", "body has no integer 'timestamp' field")
    return stamp


def _normal_signed_headers(signed_headers: Iterable[str]) -> tuple[str, ...]:
    names = tuple(sorted({name.strip().lower() for name in signed_headers}))
    if not names or not all(_HEADER_NAME.fullmatch(name) for name in names):
        raise SignatureError("header", f"bad SignedHeaders {names!r}")
    return names


def sign(
    *,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    push_key: str,
    access_key: str,
    timestamp: int | None = None,
    method: str = "POST",
    signed_headers: Iterable[str] = DEFAULT_SIGNED_HEADERS,
) -> str:
    """The ``Authorization`` header value for a push.

    ``headers`` must hold every signed header (by default ``Content-Type`` and ``Host``) with
    the exact values that will be sent. ``timestamp`` defaults to the body's ``timestamp``.
    """
    check_push_key(push_key)
    if not _ACCESS_KEY.fullmatch(access_key):
        raise SignatureError("malformed", f"access key {access_key!r} is empty or has '/'")
    stamp = _body_timestamp(body) if timestamp is None else timestamp
    if stamp < 0:
        raise SignatureError("timestamp", f"timestamp {stamp} is negative")
    names = _normal_signed_headers(signed_headers)
    text = canonical_string(
        access_key=access_key,
        timestamp=stamp,
        method=method,
        path=path,
        headers=headers,
        signed_headers=names,
        body=body,
    )
    return str(AuthV2Header(access_key, stamp, names, _hmac_hex(push_key.encode(), text)))


def parse_authorization(header: str | None) -> AuthV2Header:
    """Split an ``auth-v2/...`` header into its parts, or raise :class:`SignatureError`."""
    if header is None or not header.strip():
        raise SignatureError("missing", "no Authorization header")
    value = header.strip()
    scheme = re.split(r"[/\s]", value, maxsplit=1)[0]
    if scheme.lower() != SCHEME:
        raise SignatureError("scheme", f"expected an {SCHEME}/... header, got scheme {scheme!r}")
    parts = value.split("/")
    if len(parts) != 5:
        raise SignatureError(
            "malformed",
            "expected auth-v2/{accessKey}/{timestamp}/{SignedHeaders}/{signature}, "
            f"got {len(parts)} '/'-separated parts",
        )
    _, access_key, stamp, names, signature = parts
    if not _ACCESS_KEY.fullmatch(access_key):
        raise SignatureError("malformed", f"bad accessKey {access_key!r}")
    if not _TIMESTAMP.fullmatch(stamp):
        raise SignatureError("malformed", f"timestamp {stamp!r} is not epoch milliseconds")
    split = tuple(names.split(";"))
    if not all(_HEADER_NAME.fullmatch(n) for n in split) or list(split) != sorted(set(split)):
        raise SignatureError(
            "malformed", f"SignedHeaders {names!r} must be lower-case, sorted, ';'-joined names"
        )
    if not _SIGNATURE.fullmatch(signature):
        raise SignatureError("malformed", "signature must be 64 lower-case hex digits")
    return AuthV2Header(access_key, int(stamp), split, signature)


def verify(
    header: str | None,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    push_key: str,
    max_skew_ms: int | None = 300_000,
    now_ms: int | None = None,
    access_key: str | None = None,
) -> None:
    """Check a push's ``Authorization`` header; raise :class:`SignatureError` naming what failed.

    ``headers`` is the request's header mapping (aiohttp, requests, a dict: names are matched
    case-insensitively); ``body`` the exact bytes received; ``path`` the request path (a query
    string is ignored). Checks, in order: header present and well formed (``missing``,
    ``scheme``, ``malformed``), push key shape (``key``), expected ``access_key`` if given and
    the required signed headers present (``header``), header timestamp equal to the body's
    (``timestamp``), the HMAC (``signature``, constant-time), then freshness: more than
    ``max_skew_ms`` away from ``now_ms`` (default: the wall clock) is ``stale``; ``None``
    switches the freshness check off.
    """
    parsed = parse_authorization(header)
    check_push_key(push_key)
    if access_key is not None and parsed.access_key != access_key:
        raise SignatureError(
            "header", f"accessKey {parsed.access_key!r} is not the expected {access_key!r}"
        )
    missing = REQUIRED_SIGNED_HEADERS.difference(parsed.signed_headers)
    if missing:
        raise SignatureError("header", f"SignedHeaders lack {';'.join(sorted(missing))}")
    body_stamp = _body_timestamp(body)
    if body_stamp != parsed.timestamp:
        raise SignatureError(
            "timestamp",
            f"header timestamp {parsed.timestamp} differs from body timestamp {body_stamp}",
        )
    text = canonical_string(
        access_key=parsed.access_key,
        timestamp=parsed.timestamp,
        method=method,
        path=path,
        headers=headers,
        signed_headers=parsed.signed_headers,
        body=body,
    )
    expected = _hmac_hex(push_key.encode(), text)
    if not hmac.compare_digest(expected, parsed.signature):
        raise SignatureError(
            "signature", "signature does not match (wrong push key, or body/headers changed)"
        )
    if max_skew_ms is not None:
        now = epoch_ms() if now_ms is None else now_ms
        skew = now - parsed.timestamp
        if abs(skew) > max_skew_ms:
            raise SignatureError(
                "stale", f"timestamp is {skew} ms away from now (allowed ±{max_skew_ms} ms)"
            )


def is_valid(
    header: str | None,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    push_key: str,
    max_skew_ms: int | None = 300_000,
    now_ms: int | None = None,
    access_key: str | None = None,
) -> bool:
    """:func:`verify` as a boolean (False for any :class:`SignatureError`)."""
    try:
        verify(
            header,
            method=method,
            path=path,
            headers=headers,
            body=body,
            push_key=push_key,
            max_skew_ms=max_skew_ms,
            now_ms=now_ms,
            access_key=access_key,
        )
    except SignatureError:
        return False
    return True
