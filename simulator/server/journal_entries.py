"""What the request journal keeps of one incoming call (rendered to JSON only when asked)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from simulator.server.http import parse_json_body

__all__ = ["REDACTED_FIELDS", "REDACTED_HEADERS", "RequestRecord", "redact_headers"]

#: Header values never shown by the admin API or written to the journal file.
REDACTED_HEADERS = frozenset({"authorization", "ccmessaging-token", "x-admin-token"})
#: Top-level JSON body fields masked the same way: the AK/SK secret sent to tokenByAkSk and
#: the tokens tokenByAkSk and applyToken answer with (they are the Bearer and
#: ccmessaging-token of every later call).
REDACTED_FIELDS = frozenset({"app_secret", "AccessToken", "token"})
_BODY_LIMIT = 64 * 1024


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with secret values masked (the scheme word is kept)."""
    shown: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in REDACTED_HEADERS:
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} ***" if rest else "***"
        shown[name] = value
    return shown


def _body_json(raw: bytes | None) -> Any:
    if not raw:
        return None
    if len(raw) > _BODY_LIMIT:
        return {"truncated": True, "bytes": len(raw)}
    try:
        document = parse_json_body(raw)
    except ValueError:  # shown as text: whatever was sent, the listing must not fail
        return raw[:_BODY_LIMIT].decode("utf-8", "replace")
    if isinstance(document, dict):
        return {k: "***" if k in REDACTED_FIELDS else v for k, v in document.items()}
    return document


class RequestRecord(NamedTuple):
    """One incoming request and the answer it got. Holds references, copies nothing; a
    NamedTuple because one is built on every request (a frozen dataclass costs ~3x)."""

    at_ms: int
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes | None
    status: int
    response: bytes | None
    latency_ms: float
    user_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready view with secrets redacted."""
        return {
            "at": self.at_ms,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": redact_headers(self.headers),
            "body": _body_json(self.body),
            "status": self.status,
            "response": _body_json(self.response),
            "latencyMs": round(self.latency_ms, 3),
            "userId": self.user_id,
        }
