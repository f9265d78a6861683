"""The console's story: one line per request and per push attempt, at INFO.

``docker logs`` of a run must be enough to debug it, so each incoming request says method,
path, userId, status, resultCode, milliseconds, how many contract violations it had and
which fault rule acted; each push attempt says conversation, what it carried, where it went,
the receiver's status, the verdict, attempt n/N and milliseconds. Secrets never show:
tokens are not printed at all, passwords and token-like query values in URLs are masked.

Both lines cost one ``isEnabledFor`` when the logger is above INFO. ``--log-format json``
(:func:`configure`) writes each line as one JSON object with the same fields.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from simulator.delivery.worker import AttemptRecord
from simulator.server.journal_entries import RequestRecord

__all__ = [
    "LOGGER",
    "JsonFormatter",
    "LogFormat",
    "attempt",
    "configure",
    "mask_url",
    "request",
]

#: The logger every console line goes to.
LOGGER: Final = "simulator.console"
LogFormat = Literal["text", "json"]

_log = logging.getLogger(LOGGER)
_RESULT_CODE = re.compile(rb'"(?:resultCode|returnCode)"\s*:\s*"([^"]*)"')
_SECRET_QUERY = re.compile(r"token|secret|password|passwd|key|sig", re.IGNORECASE)
_MASK: Final = "***"


def mask_url(url: str) -> str:
    """``url`` with a password in its authority and token-like query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{_MASK}@{host}" if colon else f"{user}@{host}"
    query = parts.query
    if query and _SECRET_QUERY.search(query):
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, _MASK if _SECRET_QUERY.search(k) else v) for k, v in pairs], safe="*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _result_code(body: bytes | None) -> str | None:
    if not body:
        return None
    found = _RESULT_CODE.search(body[:4096])
    return found.group(1).decode("utf-8", "replace") if found else None


def request(record: RequestRecord) -> None:
    """One line for one answered request (nothing below INFO)."""
    if not _log.isEnabledFor(logging.INFO):
        return
    fault = record.fault
    fields: dict[str, Any] = {
        "event": "request",
        "method": record.method,
        "path": record.path,
        "userId": record.user_id,
        "status": record.status,
        "resultCode": _result_code(record.response),
        "ms": round(record.latency_ms, 1),
        "violations": record.violations,
        "fault": None if fault is None else fault.get("rule"),
        "faultDid": None if fault is None else fault.get("did"),
        "reason": record.reason,
    }
    text = (
        f"request {record.method} {record.path} user={record.user_id or '-'} "
        f"status={record.status or 'none'} resultCode={fields['resultCode'] or '-'} "
        f"{fields['ms']}ms violations={record.violations}"
    )
    if fault is not None:
        text += f" fault={fault.get('rule')} ({fault.get('did')})"
    if record.reason:
        text += f" reason={record.reason!r}"
    _log.info(text, extra={"aicc": fields})


def _carried(body: str) -> str:
    """controlType/sourceType of each message of a push body (``?`` when unreadable)."""
    try:
        document = json.loads(body)
    except ValueError:
        return "?"
    messages = document.get("messages") if isinstance(document, Mapping) else None
    if not isinstance(messages, list) or not messages:
        return "?"
    kinds = []
    for message in messages:
        if isinstance(message, Mapping):
            kinds.append(f"{message.get('controlType', '-')}/{message.get('sourceType', '-')}")
    return ",".join(dict.fromkeys(kinds)) or "?"


def attempt(record: AttemptRecord, attempts: int) -> None:
    """One line for one push attempt of ``attempts`` allowed (nothing below INFO)."""
    if not _log.isEnabledFor(logging.INFO):
        return
    url = mask_url(record.url)
    fields: dict[str, Any] = {
        "event": "push",
        "conversation": record.conversation,
        "carried": _carried(record.request_body),
        "url": url,
        "status": record.response_status,
        "verdict": record.verdict,
        "attempt": record.attempt,
        "attempts": attempts,
        "ms": None if record.latency_ms is None else round(record.latency_ms, 1),
        "error": record.error,
    }
    text = (
        f"push {record.conversation} {fields['carried']} -> {url} "
        f"status={record.response_status if record.response_status is not None else 'none'} "
        f"verdict={record.verdict} attempt {record.attempt}/{attempts}"
    )
    if fields["ms"] is not None:
        text += f" {fields['ms']}ms"
    if record.error:
        text += f" error={record.error!r}"
    _log.info(text, extra={"aicc": fields})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the console fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "aicc", None)
        if isinstance(fields, Mapping):
            data.update(fields)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure(level: str, log_format: LogFormat = "text") -> Callable[[], None]:
    """Set up the process's logging for ``serve``: ``level`` (debug, info, warning,
    error), lines as text or JSON on stderr (UTC times). Returns what puts the previous
    set-up back (``serve`` run in-process, as tests do, leaves logging as it found it)."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        formatter: logging.Formatter = JsonFormatter()
    else:
        formatter = logging.Formatter(
            "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    before_handlers, before_level = list(root.handlers), root.level
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))

    def restore() -> None:
        root.handlers[:] = before_handlers
        root.setLevel(before_level)

    return restore
