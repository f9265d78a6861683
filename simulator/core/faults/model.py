"""Fault rules: what they are and how a JSON document becomes one. Pure, no I/O.

A rule has a *match* (which calls), an *action* (what happens to them) and a *lifetime*
(``times``, ``until``, removal); the document form is ``fault-rule.schema.json``. Parsing
checks the schema, then what the schema cannot say, and refuses a bad rule with
:class:`~simulator.core.errors.ValidationFailed`: every mistake with its JSON pointer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict, Unpack, cast

from simulator.core.errors import ValidationFailed, Violation
from simulator.core.faults.operations import name_violations

if TYPE_CHECKING:  # the admin client imports this module with the standard library only
    from simulator.core.validation import SchemaStore

__all__ = [
    "SCHEMA",
    "Action",
    "FaultKwargs",
    "FaultRule",
    "Match",
    "parse_rule",
    "rule_document",
    "semantic_violations",
]

#: The schema every rule document is checked against.
SCHEMA: Final = "fault-rule"

Connection = Literal["close", "reset"]
BodyMode = Literal["slow", "truncated", "not_json"]
TokenAction = Literal["expire_access", "expire_ccmessaging", "renew_ccmessaging"]

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Match:
    """Which calls a rule takes: every condition given must hold (None: any)."""

    endpoints: frozenset[str] | None = None
    method: str | None = None
    user_id: str | None = None
    channel: str | None = None
    control_type: str | None = None
    media_type: str | None = None
    #: header name (lower case) -> exact value
    headers: tuple[tuple[str, str], ...] = ()
    #: JSON pointer into the request body -> the value it must equal
    body: tuple[tuple[str, Any], ...] = ()
    #: matching calls ``first..last`` (1-based, both included) act; None: every one
    first: int | None = None
    last: int | None = None
    probability: float | None = None
    seed: int = 0

    @property
    def needs_body(self) -> bool:
        """Whether matching looks into the request body (then the body is read and parsed)."""
        return bool(self.body or self.control_type or self.media_type)


@dataclass(frozen=True, slots=True)
class Action:
    """What a rule does to a call it takes."""

    status: int | None = None
    #: the answer's body: a JSON value, or text; None: the default body for ``status``
    body: Any = None
    has_body: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    retry_after: int | None = None
    delay_ms: int = 0
    jitter_ms: int = 0
    connection: Connection | None = None
    body_mode: BodyMode | None = None
    chunk_bytes: int = 1
    interval_ms: int = 100
    token: TokenAction | None = None

    @property
    def answers(self) -> bool:
        """True when the rule answers instead of the simulator (the handler does not run)."""
        return self.status is not None or self.connection is not None

    def describe(self) -> str:
        """A short account of what the action does, for the journal and the console."""
        parts: list[str] = []
        if self.delay_ms or self.jitter_ms:
            jitter = f"+0..{self.jitter_ms}" if self.jitter_ms else ""
            parts.append(f"delay {self.delay_ms}{jitter} ms")
        if self.connection is not None:
            parts.append("closed without an answer" if self.connection == "close" else "reset")
        elif self.status is not None:
            parts.append(f"answered {self.status}")
        if self.retry_after is not None:
            parts.append(f"Retry-After {self.retry_after}")
        if self.body_mode == "slow":
            parts.append(f"slow body ({self.chunk_bytes} B every {self.interval_ms} ms)")
        elif self.body_mode is not None:
            parts.append(f"{self.body_mode.replace('_', '-')} body")
        if self.token is not None:
            parts.append(self.token.replace("_", " ") + " token")
        return ", ".join(parts) or "nothing"


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One rule: match, action, lifetime. ``document`` is the rule as given (with its id)."""

    id: str
    match: Match
    action: Action
    priority: int = 0
    times: int | None = None
    #: epoch milliseconds after which the rule is gone; None: until removed
    until_ms: int | None = None
    document: Mapping[str, Any] = field(default_factory=dict, compare=False)


def _epoch_ms(value: Any) -> int:
    """``until`` as epoch milliseconds; a date-time without an offset is UTC."""
    if isinstance(value, int):
        return value
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def semantic_violations(document: Mapping[str, Any], at: str = "") -> list[Violation]:
    """What the schema cannot say about a rule that conforms to it; pointers start with
    ``at`` (the rule's own pointer in a larger document). A name that no call of the emulated
    AICC can meet is one (:func:`~simulator.core.faults.operations.name_violations`)."""
    found: list[Violation] = name_violations(document, at)
    action = document["action"]
    if "connection" in action:
        for other in ("status", "body", "headers", "retry_after", "body_mode", "token"):
            if other in action:
                found.append(
                    Violation(f"{at}/action/{other}", "cannot be combined with 'connection'")
                )
    if action.get("token") and ("status" in action or "retry_after" in action):
        found.append(
            Violation(f"{at}/action/token", "acts on the simulator's own answer: drop 'status'")
        )
    for name in ("chunk_bytes", "interval_ms"):
        if name in action and action.get("body_mode") != "slow":
            found.append(Violation(f"{at}/action/{name}", "only with body_mode 'slow'"))
    if action.get("body_mode") == "not_json" and "body" in action:
        found.append(Violation(f"{at}/action/body", "body_mode 'not_json' writes its own body"))
    match = document.get("match", {})
    calls = match.get("calls")
    if calls is not None and calls[0] > calls[1]:
        found.append(
            Violation(f"{at}/match/calls", f"N..M needs N <= M, got {calls[0]}..{calls[1]}")
        )
    if calls is not None and "nth" in match:
        found.append(Violation(f"{at}/match/nth", "give 'nth' or 'calls', not both"))
    until = document.get("until")
    if isinstance(until, str):
        try:
            _epoch_ms(until)
        except ValueError:
            found.append(Violation(f"{at}/until", f"{until!r} is not an ISO 8601 date-time"))
    if "seed" in match and "probability" not in match:
        found.append(Violation(f"{at}/match/seed", "only with 'probability'"))
    return found


def parse_rule(document: Any, store: SchemaStore) -> FaultRule:
    """Check ``document`` and build its :class:`FaultRule` (an id is generated if absent).

    Raises :class:`ValidationFailed` (schema ``fault-rule``) with every mistake's pointer."""
    store.check(SCHEMA, document)
    problems = semantic_violations(document)
    if problems:
        raise ValidationFailed(SCHEMA, problems)
    rule_id = document.get("id") or f"fault-{next(_ids)}"
    m = document.get("match", {})
    a = document["action"]
    endpoint = m.get("endpoint")
    first = last = None
    if "nth" in m:
        first = last = m["nth"]
    elif "calls" in m:
        first, last = m["calls"]
    status = a.get("status")
    if status is None and "retry_after" in a:
        status = 429
    match = Match(
        endpoints=None
        if endpoint is None
        else frozenset([endpoint] if isinstance(endpoint, str) else endpoint),
        method=m.get("method"),
        user_id=m.get("userId"),
        channel=m.get("channel"),
        control_type=m.get("controlType"),
        media_type=m.get("mediaType"),
        headers=tuple((k.lower(), v) for k, v in m.get("headers", {}).items()),
        body=tuple(m.get("body", {}).items()),
        first=first,
        last=last,
        probability=m.get("probability"),
        seed=m.get("seed", 0),
    )
    action = Action(
        status=status,
        body=a.get("body"),
        has_body="body" in a,
        headers=tuple(a.get("headers", {}).items()),
        retry_after=a.get("retry_after"),
        delay_ms=a.get("delay_ms", 0),
        jitter_ms=a.get("jitter_ms", 0),
        connection=a.get("connection"),
        body_mode=a.get("body_mode"),
        chunk_bytes=a.get("chunk_bytes", 1),
        interval_ms=a.get("interval_ms", 100),
        token=a.get("token"),
    )
    return FaultRule(
        id=rule_id,
        match=match,
        action=action,
        priority=document.get("priority", 0),
        times=document.get("times"),
        until_ms=_epoch_ms(document["until"]) if "until" in document else None,
        document={**document, "id": rule_id},
    )


class FaultKwargs(TypedDict, total=False):
    """The flat keywords of :func:`rule_document` (the pytest handle's ``fault(...)``)."""

    id: str
    priority: int
    times: int
    until: int | str
    # match
    endpoint: str | list[str]
    method: str
    user_id: str
    channel: str
    control_type: str
    media_type: str
    request_headers: dict[str, str]
    body_equals: dict[str, Any]
    nth: int
    calls: tuple[int, int] | list[int]
    probability: float
    seed: int
    # action
    status: int
    body: Any
    headers: dict[str, str]
    retry_after: int
    delay_ms: int
    jitter_ms: int
    connection: Connection
    body_mode: BodyMode
    chunk_bytes: int
    interval_ms: int
    token: TokenAction


_MATCH_NAMES: Final = {
    "endpoint": "endpoint",
    "method": "method",
    "user_id": "userId",
    "channel": "channel",
    "control_type": "controlType",
    "media_type": "mediaType",
    "request_headers": "headers",
    "body_equals": "body",
    "nth": "nth",
    "calls": "calls",
    "probability": "probability",
    "seed": "seed",
}
_RULE_NAMES: Final = frozenset({"id", "priority", "times", "until"})


def rule_document(**kwargs: Unpack[FaultKwargs]) -> dict[str, Any]:
    """The rule document of flat keywords: ``rule_document(endpoint="send", status=503,
    times=2)``. Match keywords are snake_case (``user_id``, ``control_type``; the request's
    headers are ``request_headers``, body equalities ``body_equals``); everything else but
    ``id``/``priority``/``times``/``until`` is an action keyword."""
    document: dict[str, Any] = {}
    match: dict[str, Any] = {}
    action: dict[str, Any] = {}
    for name, value in kwargs.items():
        if name in _RULE_NAMES:
            document[name] = value
        elif name in _MATCH_NAMES:
            match[_MATCH_NAMES[name]] = (
                list(cast(Iterable[int], value)) if name == "calls" else value
            )
        else:
            action[name] = value
    if match:
        document["match"] = match
    document["action"] = action
    return document
