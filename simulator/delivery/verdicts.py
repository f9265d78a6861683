"""How the CLI commands describe pushes and the receiver's answers. Pure, no I/O.

Shared by ``aicc-sim replay`` (:mod:`simulator.delivery.replay`) and ``aicc-sim check-callback``
(:mod:`simulator.delivery.conformance`), so a push reads the same in both timelines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simulator.delivery.worker import AttemptRecord

__all__ = [
    "answer_of",
    "clip",
    "excerpt",
    "message_kind",
    "push_kind",
    "result_code_of",
    "sent_attempts",
    "unreachable",
]


def excerpt(value: Any, limit: int = 40) -> str:
    """``value`` as JSON (``"text"``, ``null``, ``42``), cut to ``limit`` characters with ``…``."""
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"


def clip(text: str, limit: int = 120) -> str:
    """``text`` on one line (whitespace runs folded), cut to ``limit`` characters with ``…``."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)] + "…"


def message_kind(message: Mapping[str, Any], *, source: bool = True) -> str:
    """``controlType/mediaType[/sourceType]`` of one DownLinkMsg; null and absent show as
    ``null`` and ``-``."""

    def part(name: str) -> str:
        if name not in message:
            return "-"
        value = message[name]
        return "null" if value is None else str(value)

    names = ("controlType", "mediaType", "sourceType") if source else ("controlType", "mediaType")
    return "/".join(part(n) for n in names)


def push_kind(messages: Sequence[Mapping[str, Any]], *, source: bool = True) -> str:
    """The kind of a push: one message's kind, or ``batch of N: kind, kind, …`` (each
    distinct kind once, in order of first appearance)."""
    kinds = [message_kind(m, source=source) for m in messages]
    if len(kinds) == 1:
        return kinds[0]
    return f"batch of {len(kinds)}: " + ", ".join(dict.fromkeys(kinds))


def result_code_of(body: str | None) -> str | None:
    """The ``resultCode`` of a response body shown as JSON (``"0"``, ``0``), or None."""
    if not body:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict) or "resultCode" not in answer:
        return None
    return json.dumps(answer["resultCode"], ensure_ascii=False)


def sent_attempts(records: Iterable[AttemptRecord]) -> list[AttemptRecord]:
    """The attempts that count for the verdict: sent (attempt ≥ 1) and not duplicates."""
    return [r for r in records if r.attempt >= 1 and not r.duplicate]


def unreachable(records: Iterable[AttemptRecord]) -> bool:
    """True when attempts were made and none of them reached the receiver."""
    sent = sent_attempts(records)
    return bool(sent) and all(r.verdict == "connection-error" for r in sent)


def answer_of(record: AttemptRecord | None) -> str:
    """The receiver's answer in a few words: ``200 resultCode "0"``, ``HTTP 401``,
    ``timeout``, ``connection refused``, or ``not sent``."""
    if record is None or record.attempt == 0:
        return "not sent"
    if record.response_status is None:
        if record.verdict == "timeout":
            return "timeout"
        error = record.error or record.verdict
        if "Connect call failed" in error or "Cannot connect" in error:
            return "connection refused"
        return "no answer"
    code = result_code_of(record.response_body)
    if record.response_status == 200:
        return f"200 resultCode {code}" if code is not None else "200 (no resultCode)"
    return f"HTTP {record.response_status}"
