"""The DownLinkMsg part of compiling a scenario: message fields (shortcuts, defaults in the
vendor sample's order, extra and omit), media files, and the dry render of every message
with sample values against the ``push-request`` schema. :class:`MessageCompiler` also holds
the state one compilation shares (values, variables, media); the step compiler
(:mod:`simulator.scenario.compiler`) builds on it."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NoReturn

from simulator.core.validation import default_store, pointer_of
from simulator.scenario.checks import Parts, parse_duration, parts_of, readable
from simulator.scenario.model import (
    BUILTIN_VARIABLES,
    Duration,
    MediaFile,
    MessageSpec,
    Op,
)
from simulator.scenario.source import Lines
from simulator.scenario.templating import (
    Ref,
    Template,
    Value,
    compile_value,
    names_in,
    render_value,
)

__all__ = [
    "FIELD_ORDER",
    "MAX_MEDIA_BYTES",
    "MEDIA_TYPES_WITH_FILES",
    "SAMPLE_VALUES",
    "MessageCompiler",
]

#: DownLinkMsg fields in the order the vendor's sample prints them.
FIELD_ORDER = (
    "from",
    "channel",
    "to",
    "controlType",
    "isOfflineStatus",
    "mediaType",
    "content",
    "simQuestions",
    "senderNickname",
    "timestamp",
    "sourceType",
    "callId",
    "messageCode",
)
_SHORTCUTS = {
    "control": "controlType",
    "media": "mediaType",
    "source": "sourceType",
    "nickname": "senderNickname",
}
#: Fields that appear only when the scenario gives them (the seed has them on some messages).
_ONLY_WHEN_GIVEN = frozenset({"isOfflineStatus", "callId"})
MEDIA_TYPES_WITH_FILES = frozenset({"IMAGE", "VIDEO", "AUDIO", "DOCUMENT"})
#: Largest media file: the vendor's default downloadFileStream limit.
MAX_MEDIA_BYTES = 2 * 1024 * 1024

#: Values the dry render gives the built-in variables (the vendor sample's ids).
SAMPLE_VALUES: Mapping[str, Any] = MappingProxyType(
    {
        "userId": "44444444",
        "channelId": "202105284494222653",
        "now_ms": 1625898453913,
        "messageCode": "0" * 32,
        "tips": "{TIPS}",
        "messageIds": "messageId1,messageId2",
        "lastMessage": "hello",
        "lastControlType": "CHAT",
        "idleTimeout": 120.0,
    }
)


class MessageCompiler:
    """The state of one compilation (program, labels, variables, media) and the compiling
    of its messages and media."""

    def __init__(self, data: dict[str, Any], lines: Lines) -> None:
        self.data = data
        self.lines = lines
        self.program: list[Op] = []
        self.labels: dict[str, tuple[int, tuple[int, ...], Parts]] = {}
        self.gotos: list[tuple[int, str, tuple[int, ...], Parts]] = []
        self.loop_slots = 0
        self.blocks = 0
        self.declared: dict[str, Any] = dict(data.get("vars") or {})
        self.sample: dict[str, Any] = {**SAMPLE_VALUES, **self.declared}
        self.media: dict[str, MediaFile] = {}

    # -- errors ---------------------------------------------------------------------------

    def fail(self, parts: Parts, reason: str) -> NoReturn:
        raise self.lines.error(pointer_of(parts), f"{readable(parts)}: {reason}")

    # -- values ---------------------------------------------------------------------------

    def value(self, raw: Any, parts: Parts) -> Value:
        """Compile a templated value, refusing unknown variables at the value's line."""
        try:
            compiled = compile_value(raw)
        except ValueError as exc:
            self.fail(parts, str(exc))
        for name in names_in(compiled):
            if name not in self.sample:
                self.fail(
                    parts,
                    f"unknown variable {name!r} (built-in: "
                    f"{', '.join(sorted(BUILTIN_VARIABLES))}; declare others under vars:)",
                )
        return compiled

    def dry(self, value: Value) -> Any:
        return render_value(value, self.sample.__getitem__)

    def duration(self, raw: Any, parts: Parts) -> Duration:
        compiled = self.value(raw, parts) if isinstance(raw, str) else raw
        try:
            seconds = parse_duration(self.dry(compiled))
        except ValueError as exc:
            self.fail(parts, str(exc))
        return compiled if isinstance(compiled, Template) else seconds

    def media_file(self, media_id: str, spec: Mapping[str, Any], parts: Parts) -> MediaFile:
        given = [k for k in ("base64", "text", "size") if k in spec]
        if len(given) != 1:
            self.fail(
                parts,
                f"give exactly one of base64, text or size (got {', '.join(given) or 'none'})",
            )
        data: bytes
        if "base64" in spec:
            try:
                data = base64.b64decode(spec["base64"], validate=True)
            except (binascii.Error, ValueError) as exc:
                self.fail([*parts, "base64"], f"not valid base64: {exc}")
        elif "text" in spec:
            data = spec["text"].encode("utf-8")
        else:
            seed = f"{media_id}:".encode()
            data = (seed * (spec["size"] // len(seed) + 1))[: spec["size"]]
        if len(data) > MAX_MEDIA_BYTES:
            self.fail(parts, f"file is {len(data)} bytes; the download limit is {MAX_MEDIA_BYTES}")
        return MediaFile(media_id, spec["fileType"], data)

    def message(self, raw: Mapping[str, Any], parts: Parts, invalid: bool) -> MessageSpec:
        given: dict[str, Any] = {}
        spelled: dict[str, str] = {}
        for key, value in raw.items():
            if key in ("extra", "omit"):
                continue
            name = _SHORTCUTS.get(key, key)
            if name in given:
                self.fail([*parts, key], f"give either {spelled[name]!r} or {key!r}, not both")
            given[name] = value
            spelled[name] = key
        control = given.get("controlType", "CHAT")
        defaults: dict[str, Value] = {
            "from": Template((Ref("channelId"),)),
            "channel": "WEB",
            "to": Template((Ref("userId"),)),
            "controlType": "CHAT",
            "mediaType": "TEXT" if control == "CHAT" else None,
            "content": None,
            "simQuestions": None,
            "senderNickname": None,
            "timestamp": Template((Ref("now_ms"),)),
            "sourceType": "AGENT",
            "messageCode": None,
        }
        fields: dict[str, Value] = {}
        for name in FIELD_ORDER:
            if name in given:
                fields[name] = self.value(given[name], [*parts, spelled[name]])
            elif name not in _ONLY_WHEN_GIVEN:
                fields[name] = defaults[name]
        for key, value in (raw.get("extra") or {}).items():
            if key in fields or key in _SHORTCUTS:
                self.fail(
                    [*parts, "extra", key],
                    f"{key!r} is a message field; set it directly, not under extra",
                )
            fields[key] = self.value(value, [*parts, "extra", key])
        for index, name in enumerate(raw.get("omit") or []):
            name = _SHORTCUTS.get(name, name)
            if name not in fields:
                self.fail(
                    [*parts, "omit", index], f"cannot omit {name!r}: not a field of this message"
                )
            del fields[name]
        if not invalid:
            self.check_media_reference(fields, parts, spelled)
        read: set[str] = set()
        for value in fields.values():
            read.update(names_in(value))
        return MessageSpec(
            tuple(fields.items()),
            reads_message_ids="messageIds" in read,
            reads_message_code="messageCode" in read,
        )

    def check_media_reference(
        self, fields: Mapping[str, Value], parts: Parts, spelled: Mapping[str, str]
    ) -> None:
        media_type, content = fields.get("mediaType"), fields.get("content")
        if (
            media_type in MEDIA_TYPES_WITH_FILES
            and isinstance(content, str)
            and content not in self.media
        ):
            declared = ", ".join(sorted(self.media)) or "none"
            self.fail(
                [*parts, spelled.get("content", "content")],
                f"{media_type} content {content!r} is not a media id declared under "
                f"media: (declared: {declared})",
            )

    def check_messages(
        self, messages: tuple[MessageSpec, ...], raws: list[Any], at: Parts, *, single: bool
    ) -> None:
        """Dry-render with sample values and check the push body against its schema."""
        lookup = self.sample.__getitem__
        body = {
            "timestamp": SAMPLE_VALUES["now_ms"],
            "messages": [
                {name: render_value(value, lookup) for name, value in spec.fields}
                for spec in messages
            ],
        }
        for violation in default_store().violations("push-request", body):
            inner = parts_of(violation.pointer)
            if len(inner) < 2 or inner[0] != "messages" or not isinstance(inner[1], int):
                self.fail(at, f"would not be a valid push: {violation}")
            index = inner[1]
            where: Parts = at if single else [*at, index]
            raw = raws[index]
            field = inner[2] if len(inner) > 2 else None
            spelled = next((k for k in raw if _SHORTCUTS.get(k, k) == field), None)
            target = [*where, spelled] if spelled is not None else where
            rest = pointer_of(inner[2:]) or "/"
            self.fail(
                target,
                f"not a valid DownLinkMsg: {rest}: {violation.message} (mark the "
                "step with faults: {invalid: true} to send it anyway)",
            )
