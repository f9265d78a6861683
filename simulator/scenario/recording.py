"""A recorded conversation turned into a scenario (``aicc-sim record-to-scenario``).

The proxy's journal (:mod:`simulator.proxy.recording`) holds the integration's calls and the
tenant's pushes in order, with the time each arrived. One customer's conversation becomes:

* the tenant's pushes as ``push`` (one message) or ``batch`` steps, each after a ``wait`` of
  the real time since the step before it;
* the customer's uplinks (``send``/``sendAsync``) as ``expect`` steps for their controlType
  (the CONNECT that started the conversation is the scenario's trigger, not a step);
* the ids replaced by variables: the user id by ``{{ userId }}``, the channel id by
  ``{{ channelId }}``, the recorded ``timestamp`` by the run's clock and a ``messageCode``
  by ``{{ messageCode }}``; phone-number-like and e-mail-like strings in the text are
  replaced by ``[phone]`` and ``[email]`` unless ``keep`` is set.

Fields the recorded message lacks are omitted (``omit``), fields the contract does not know
are kept (``extra``), so that a replay sends the same messages."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from simulator.core.errors import SimulatorError
from simulator.scenario.messages import FIELD_ORDER

__all__ = ["RecordedEvent", "conversation_events", "recorded_users", "scenario_document",
           "scenario_yaml"]

_SEND_PATHS = ("/apiaccess/ccmessaging/send", "/apiaccess/ccmessaging/sendAsync")
#: fields every compiled message has unless omitted (messages.py's defaults)
_DEFAULTED = tuple(name for name in FIELD_ORDER if name not in ("isOfflineStatus", "callId"))
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
#: seven or more digits, possibly with a leading + and spaces, dots, dashes or brackets
_PHONE = re.compile(r"\+?\d[\d ().-]{5,}\d")
#: gaps shorter than this (seconds) are not written as waits
_MIN_WAIT = 0.01

RecordedEvent = tuple[str, int, Any]
"""``("uplink", at_ms, send body)`` or ``("push", at_ms, push body)``."""


def _is_uplink(entry: Mapping[str, Any]) -> bool:
    return (
        entry.get("kind") == "call"
        and entry.get("path") in _SEND_PATHS
        and entry.get("status") == 200
        and isinstance(entry.get("request"), dict)
    )


def recorded_users(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every customer the recording has pushes or uplinks of, first seen first."""
    users: dict[str, None] = {}
    for entry in entries:
        user = entry.get("user")
        if isinstance(user, str) and (entry.get("kind") == "push" or _is_uplink(entry)):
            users.setdefault(user, None)
    return list(users)


def conversation_events(entries: Iterable[Mapping[str, Any]], user: str) -> list[RecordedEvent]:
    """The uplinks and pushes of ``user``'s conversation, in the order they happened."""
    events: list[RecordedEvent] = []
    for entry in entries:
        if entry.get("user") != user:
            continue
        if entry.get("kind") == "push" and isinstance(entry.get("request"), dict):
            events.append(("push", int(entry["at"]), entry["request"]))
        elif _is_uplink(entry):
            events.append(("uplink", int(entry["at"]), entry["request"]))
    return events


class _Rewriter:
    """Ids to variables, personal data redacted (unless ``keep``)."""

    def __init__(self, user: str, channel: str | None, keep: bool) -> None:
        self.user = user
        self.channel = channel
        self.keep = keep

    def text(self, value: str) -> str:
        if not self.keep:
            value = _EMAIL.sub("[email]", value)
            value = _PHONE.sub("[phone]", value)
        if self.channel:
            value = value.replace(self.channel, "{{ channelId }}")
        return value.replace(self.user, "{{ userId }}")

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def message(self, recorded: Mapping[str, Any]) -> dict[str, Any]:
        """The push-step fields that render to ``recorded`` (ids as variables)."""
        fields: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for name, value in recorded.items():
            if name in ("from", "to", "timestamp"):
                continue  # the defaults: channelId, userId, the run's clock
            if name == "channel" and value == "WEB":
                continue
            if name == "messageCode" and isinstance(value, str) and value:
                fields[name] = "{{ messageCode }}"
            elif name in FIELD_ORDER:
                fields[name] = self.value(value)
            else:
                extra[name] = self.value(value)
        if "from" in recorded and recorded["from"] != self.channel:
            fields["from"] = self.value(recorded["from"])
        if "to" in recorded and recorded["to"] != self.user:
            fields["to"] = self.value(recorded["to"])
        if "controlType" not in recorded:
            fields.pop("controlType", None)
        omit = [name for name in _DEFAULTED if name not in recorded]
        if extra:
            fields["extra"] = extra
        if omit:
            fields["omit"] = omit
        return fields


def scenario_document(
    events: list[RecordedEvent], *, user: str, name: str, keep: bool = False, source: str = ""
) -> dict[str, Any]:
    """The scenario (as a YAML-ready mapping) of one recorded conversation."""
    pushes = [body for kind, _, body in events if kind == "push"]
    if not pushes:
        raise SimulatorError(f"the recording has no push to user {user!r}: nothing to replay")
    first_messages = [m for m in pushes[0].get("messages") or [] if isinstance(m, dict)]
    channel = first_messages[0].get("from") if first_messages else None
    rewrite = _Rewriter(user, channel if isinstance(channel, str) else None, keep)
    steps: list[dict[str, Any]] = []
    previous: int | None = None
    started = False
    for kind, at, body in events:
        if kind == "uplink":
            control = body.get("controlType")
            if control == "CONNECT" and not started:
                previous = at  # the CONNECT starts the scenario (on_connect)
                continue
            steps.append({"expect": {"control": control, "timeout": "{{ idleTimeout }}"}})
            previous = at
            continue
        started = True
        gap = (at - previous) / 1000 if previous is not None else 0.0
        if gap >= _MIN_WAIT:
            steps.append({"wait": round(gap, 3)})
        previous = at
        messages = [rewrite.message(m) for m in body.get("messages") or [] if isinstance(m, dict)]
        if len(messages) == 1:
            steps.append({"push": messages[0]})
        elif messages:
            steps.append({"batch": messages})
    uplinks = sum(1 for kind, _, _ in events if kind == "uplink")
    return {
        "name": name,
        "description": f"Recorded through aicc-sim proxy{f' ({source})' if source else ''}: "
        f"{len(pushes)} pushes, {uplinks} uplinks.",
        "steps": steps,
    }


def scenario_yaml(document: Mapping[str, Any]) -> str:
    """The YAML text of a scenario document (keys in the written order, Unicode kept)."""
    text: str = yaml.safe_dump(
        dict(document), sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
    return _HEADER + text


_HEADER = "# Made by aicc-sim record-to-scenario; ids are variables, personal data redacted.\n"
