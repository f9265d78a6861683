"""The matching vocabulary of waits: what a test asks for, and what it is told on a timeout.

Pure (no I/O): :class:`DeliveryMatch` and :class:`RequestMatch` are applied to journal
entries in the admin API's JSON shape (``{"seq": …, "verdict": …, "requestBody": …}``),
by the polling :class:`~simulator.testing.client.AdminClient` and by the in-process
pytest fixture (:mod:`simulator.testing.pytest_plugin`) alike. Every wait takes its keyword
filters as :class:`DeliveryFilters` / :class:`RequestFilters` (the match's fields but
``predicate``) and builds its match as ``DeliveryMatch(predicate, **filters)``: a new
filter is a field of both, nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Final, TypedDict

__all__ = [
    "DEFAULT_TIMEOUT",
    "SHOWN_ON_TIMEOUT",
    "DeliveryFilters",
    "DeliveryMatch",
    "Predicate",
    "RequestFilters",
    "RequestMatch",
    "describe_delivery",
    "describe_request",
    "inject_messages",
    "messages_of",
    "query_of",
    "timeout_message",
]

#: Seconds a wait helper waits when no ``timeout`` is given.
DEFAULT_TIMEOUT: Final = 5.0
#: How many journal entries a timeout message lists.
SHOWN_ON_TIMEOUT: Final = 10

#: A test's own condition on one journal entry (a JSON object of the admin API).
Predicate = Callable[[Mapping[str, Any]], bool]


def messages_of(delivery: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The DownLinkMsgs a delivery journal entry carried: parsed from a push attempt's
    ``requestBody``, or a poll hand-off's ``messages``. ``[]`` for a body that is not a
    push body (e.g. a deliberately invalid one)."""
    messages: Any = delivery.get("messages")
    if messages is None:
        body = delivery.get("requestBody")
        if not isinstance(body, str):
            return []
        try:
            document = json.loads(body)
        except ValueError:
            return []
        messages = document.get("messages") if isinstance(document, dict) else None
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict)]


def _user_of(conversation: Any) -> tuple[str, str]:
    # "channelId/userId": channel ids cannot contain "/", user ids may
    channel, _, user = str(conversation or "").partition("/")
    return channel, user


def _describe_fields(obj: Any) -> str:
    parts = [
        f"{f.name}={getattr(obj, f.name)!r}"
        for f in fields(obj)
        if f.name != "predicate" and getattr(obj, f.name) is not None
    ]
    if getattr(obj, "predicate", None) is not None:
        parts.append("predicate")
    return ", ".join(parts) if parts else "anything"


class DeliveryFilters(TypedDict, total=False):
    """The keyword filters of a delivery wait: :class:`DeliveryMatch`'s fields but
    ``predicate`` (``None`` or left out: not filtered on)."""

    user_id: str | None
    channel_id: str | None
    run_id: str | None
    verdict: str | None
    control_type: str | None
    source_type: str | None
    media_type: str | None
    content: str | None


class RequestFilters(TypedDict, total=False):
    """The keyword filters of a request wait: :class:`RequestMatch`'s fields but
    ``predicate``."""

    path: str | None
    method: str | None
    user_id: str | None
    status: int | None
    control_type: str | None


@dataclass(frozen=True, slots=True)
class DeliveryMatch:
    """Which delivery journal entries (push attempts, poll hand-offs) a test waits for.

    Every given field must hold. ``user_id``/``channel_id`` are the conversation's;
    ``verdict`` the attempt's (``accepted``, ``rejected``, ``http-error``, ``timeout``,
    ``connection-error``, ``dropped``, ``invalid-outbound``, ``queued-for-poll``).
    ``control_type``, ``source_type``, ``media_type`` and ``content`` must all hold for one
    and the same DownLinkMsg of the push. ``predicate`` gets the whole entry.
    Built from a wait's keywords as ``DeliveryMatch(predicate, **filters)``.
    """

    #: The journal it matches entries of (as :func:`timeout_message` names it).
    kind: ClassVar[str] = "delivery"
    predicate: Predicate | None = None
    user_id: str | None = None
    channel_id: str | None = None
    run_id: str | None = None
    verdict: str | None = None
    control_type: str | None = None
    source_type: str | None = None
    media_type: str | None = None
    content: str | None = None

    def _message_matches(self, message: Mapping[str, Any]) -> bool:
        return (
            (self.control_type is None or message.get("controlType") == self.control_type)
            and (self.source_type is None or message.get("sourceType") == self.source_type)
            and (self.media_type is None or message.get("mediaType") == self.media_type)
            and (self.content is None or message.get("content") == self.content)
        )

    def __call__(self, entry: Mapping[str, Any]) -> bool:
        channel, user = _user_of(entry.get("conversation"))
        if self.user_id is not None and user != self.user_id:
            return False
        if self.channel_id is not None and channel != self.channel_id:
            return False
        if self.run_id is not None and entry.get("runId") != self.run_id:
            return False
        if self.verdict is not None and entry.get("verdict") != self.verdict:
            return False
        message_fields = (self.control_type, self.source_type, self.media_type, self.content)
        if any(f is not None for f in message_fields) and not any(
            self._message_matches(m) for m in messages_of(entry)
        ):
            return False
        return self.predicate is None or bool(self.predicate(entry))

    def query(self) -> dict[str, str]:
        """The part of this match the admin API can filter on (``GET /__admin/deliveries``)."""
        return query_of(userId=self.user_id, runId=self.run_id, verdict=self.verdict)

    def __str__(self) -> str:
        return _describe_fields(self)


@dataclass(frozen=True, slots=True)
class RequestMatch:
    """Which request journal entries (calls the integration made) a test waits for.

    ``path`` is the full path or its last segment (``send`` matches
    ``/apiaccess/ccmessaging/send``), as the admin API filters; without a ``path`` the echo
    receiver's requests (``"echo": true``) never match, as the admin API leaves them out;
    ``control_type`` is the
    request body's ``controlType`` (send / sendAsync). Built from a wait's keywords as
    ``RequestMatch(predicate, **filters)``.
    """

    #: The journal it matches entries of (as :func:`timeout_message` names it).
    kind: ClassVar[str] = "request"
    predicate: Predicate | None = None
    path: str | None = None
    method: str | None = None
    user_id: str | None = None
    status: int | None = None
    control_type: str | None = None

    def __call__(self, entry: Mapping[str, Any]) -> bool:
        path = str(entry.get("path", ""))
        if self.path is None and entry.get("echo"):
            return False  # the echo receiver's own requests, as the admin API leaves them out
        if self.path is not None and not (path == self.path or path.endswith("/" + self.path)):
            return False
        if self.method is not None and entry.get("method") != self.method.upper():
            return False
        if self.user_id is not None and entry.get("userId") != self.user_id:
            return False
        if self.status is not None and entry.get("status") != self.status:
            return False
        if self.control_type is not None:
            body = entry.get("body")
            if not isinstance(body, dict) or body.get("controlType") != self.control_type:
                return False
        return self.predicate is None or bool(self.predicate(entry))

    def query(self) -> dict[str, str]:
        """The part of this match the admin API can filter on (``GET /__admin/requests``)."""
        return query_of(path=self.path, method=self.method, userId=self.user_id, status=self.status)

    def __str__(self) -> str:
        return _describe_fields(self)


def query_of(**params: Any) -> dict[str, str]:
    """Query parameters of the admin API: the given ones, as text (``None`` left out)."""
    return {name: str(value) for name, value in params.items() if value is not None}


def _short(text: Any, width: int = 40) -> str:
    shown = repr(text)
    return shown if len(shown) <= width else shown[: width - 3] + "..."


def describe_delivery(entry: Mapping[str, Any]) -> str:
    """One line about a delivery journal entry, for timeout messages."""
    shown = ", ".join(
        f"{m.get('controlType')}/{m.get('sourceType')} {_short(m.get('content'))}"
        for m in messages_of(entry)
    )
    return (
        f"#{entry.get('seq')} {entry.get('conversation')} {entry.get('verdict')}"
        f" attempt {entry.get('attempt', '-')}: [{shown}]"
    )


def describe_request(entry: Mapping[str, Any]) -> str:
    """One line about a request journal entry, for timeout messages."""
    body = entry.get("body")
    control = (
        f" {body.get('controlType')}" if isinstance(body, dict) and "controlType" in body else ""
    )
    return (
        f"#{entry.get('seq')} {entry.get('method')} {entry.get('path')}{control}"
        f" -> {entry.get('status')} (userId {entry.get('userId')})"
    )


def timeout_message(
    kind: str, match: object, timeout: float, recent: Sequence[Mapping[str, Any]]
) -> str:
    """Why a wait failed: what was asked and the newest entries that did come."""
    describe = describe_delivery if kind == "delivery" else describe_request
    head = f"no {kind} matching {match} within {timeout:g} s"
    if not recent:
        return f"{head}; the {kind} journal is empty"
    lines = "\n  ".join(describe(entry) for entry in recent[-SHOWN_ON_TIMEOUT:])
    return f"{head}; the newest {kind} journal entries:\n  {lines}"


def inject_messages(
    messages: str | Mapping[str, Any] | Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The ``messages`` of an inject request: a text (an agent's CHAT/TEXT), one partial
    DownLinkMsg, or several."""
    if isinstance(messages, str):
        return [{"content": messages}]
    if isinstance(messages, Mapping):
        return [dict(messages)]
    return [dict(m) for m in messages]
