"""Contract tests: every schema, every vendor example, and a table of rule-breaking mutations.

The fixtures in ``tests/fixtures/vendor/`` are the vendor's own examples (reference §2 to §4 and
the seeds), cleaned as ``tests/fixtures/vendor/README.md`` describes; a fixture's name starts
with the schema it must satisfy (``send-request.connect-robot.json`` → ``send-request``).
The mutation table takes a real example, breaks exactly one rule and checks that the
violation is reported at the broken field, so an error message always names what to fix.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
from referencing.jsonschema import DRAFT202012

from simulator.core.validation import SCHEMA_BASE_URI, SchemaStore, default_store

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "simulator" / "core" / "schemas"
VENDOR_DIR = Path(__file__).resolve().parent / "fixtures" / "vendor"

#: The contract schemas this suite owns (scenario and config have their own tests).
CONTRACT_SCHEMAS = (
    "push-request",
    "downlink-message",
    "push-response",
    "token-request",
    "token-response",
    "apply-token-request",
    "apply-token-response",
    "send-request",
    "send-response",
    "poll-request",
    "poll-response",
    "queue-info-request",
    "queue-info-response",
    "upload-request",
    "upload-response",
    "download-request",
    "download-response",
    "history-request",
    "history-response",
    "leave-message-request",
    "leave-message-response",
    "survey-mode-request",
    "survey-mode-response",
    "save-satisfaction-request",
    "save-satisfaction-response",
    "robot-feedback-request",
    "robot-feedback-response",
    "phrase-request",
    "phrase-response",
    "click-to-call-support-request",
    "click-to-call-support-response",
    "create-click-to-call-request",
    "create-click-to-call-response",
    "click-to-call-events-request",
    "click-to-call-events-response",
    "drop-click-to-call-request",
    "drop-click-to-call-response",
)


def schema_of(fixture: Path) -> str:
    """The schema a fixture must satisfy: the part of its name before the first dot."""
    return fixture.name.split(".", 1)[0]


def load(name: str) -> Any:
    """A vendor fixture, parsed."""
    return json.loads((VENDOR_DIR / name).read_text(encoding="utf-8"))


def fixture_text(document: Any) -> str:
    """The canonical text of a fixture file (2-space indent, UTF-8 as is, final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


VENDOR_FIXTURES = sorted(VENDOR_DIR.glob("*.json"))


# --------------------------------------------------------------------------- cleaning

_MARKER = re.compile(r"\[D[0-9]+\]")


def _string_end(text: str, start: int) -> int:
    """Index just past the JSON string literal that opens at ``start``."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i += 1
    return len(text)


def _outside_strings(text: str, step: Callable[[str, int], tuple[str, int]]) -> str:
    """``text`` with JSON string literals copied as they are and ``step`` applied elsewhere.

    ``step(text, i)`` returns what to keep for the text at ``i`` and the index to go on from.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        else:
            kept, i = step(text, i)
            out.append(kept)
    return "".join(out)


def _comment_step(text: str, i: int) -> tuple[str, int]:
    if not text.startswith("//", i):
        return text[i], i + 1
    # the comment ends at its line break, or at the "{" of the message it labels
    # (the stored seed lost its line breaks, so "//queuing{ ..." is one line)
    while i < len(text) and text[i] not in "\n{":
        i += 1
    return "", i


def _trailing_comma_step(text: str, i: int) -> tuple[str, int]:
    if text[i] == ",":
        j = i + 1
        while j < len(text) and text[j].isspace():
            j += 1
        if j < len(text) and text[j] in "}]":
            return "", i + 1
    return text[i], i + 1


def _strip_comments(text: str) -> str:
    return _outside_strings(text, _comment_step)


def _strip_trailing_commas(text: str) -> str:
    return _outside_strings(text, _trailing_comma_step)


def clean_vendor_json(text: str) -> str:
    """Turn the vendor's annotated sample text into JSON text, changing nothing else.

    1. Delete the editorial markers ``[D1]``/``[D2]`` wherever they are (one is inside a
       string; the space after ``[D2]`` stays, see the fixtures README).
    2. Outside strings, delete each ``//`` comment up to its line break or up to the ``{`` of
       the message it labels.
    3. Outside strings, delete each comma followed only by whitespace and ``}`` or ``]``.
    """
    return _strip_trailing_commas(_strip_comments(_MARKER.sub("", text)))


def decode_all(text: str) -> list[Any]:
    """Every JSON value at the start of ``text``, one after another, until something else."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] not in "{[":
            return values
        value, i = decoder.raw_decode(text, i)
        values.append(value)


def sample_values(raw_file: str, section: str) -> list[Any]:
    """The JSON values of the "请求参数" (request) or "响应参数" (response) part of a seed."""
    text = (VENDOR_DIR / raw_file).read_text(encoding="utf-8")
    request_label, response_label = "请求参数:", "响应参数:"
    after_request = text.split(request_label, 1)[1]
    if section == "request":
        part = after_request.split(response_label, 1)[0]
        part = part.rstrip().removesuffix("-").removesuffix("•")
    else:
        part = after_request.split(response_label, 1)[1]
    return decode_all(clean_vendor_json(part))


#: (raw seed file, section, index of the value in that section) -> fixture file name
SEED_FIXTURES = [
    ("seed-pushmsg-sample.raw.txt", "request", 0, "push-request.seed-webhook-batch.json"),
    ("seed-pushmsg-sample.raw.txt", "response", 0, "push-response.seed-webhook.json"),
    ("seed-pushmsg-api-page.raw.txt", "request", 0, "push-request.seed-pushmsg-connected.json"),
    ("seed-pushmsg-api-page.raw.txt", "request", 1, "downlink-message.seed-pushmsg-queuing.json"),
    (
        "seed-pushmsg-api-page.raw.txt",
        "request",
        2,
        "downlink-message.seed-pushmsg-disconnect-agent.json",
    ),
    (
        "seed-pushmsg-api-page.raw.txt",
        "request",
        3,
        "downlink-message.seed-pushmsg-disconnect-timeout-async-off.json",
    ),
    (
        "seed-pushmsg-api-page.raw.txt",
        "request",
        4,
        "downlink-message.seed-pushmsg-disconnect-timeout-async-on.json",
    ),
    ("seed-pushmsg-api-page.raw.txt", "request", 5, "downlink-message.seed-pushmsg-read.json"),
    ("seed-pushmsg-api-page.raw.txt", "response", 0, "push-response.seed-pushmsg.json"),
]


@pytest.mark.parametrize(
    ("raw", "section", "index", "fixture"), SEED_FIXTURES, ids=[f[3] for f in SEED_FIXTURES]
)
def test_seed_fixture_is_the_cleaned_seed_exactly(
    raw: str, section: str, index: int, fixture: str
) -> None:
    values = sample_values(raw, section)
    assert fixture_text(values[index]) == (VENDOR_DIR / fixture).read_text(encoding="utf-8")


def test_seed_sections_hold_exactly_the_values_we_kept() -> None:
    # no sample value is silently left out of the fixtures
    for raw in {f[0] for f in SEED_FIXTURES}:
        for section in ("request", "response"):
            kept = [f for f in SEED_FIXTURES if f[0] == raw and f[1] == section]
            assert len(sample_values(raw, section)) == len(kept), (raw, section)


def test_raw_seed_is_really_dirty_and_cleaning_removes_only_the_dirt() -> None:
    raw = (VENDOR_DIR / "seed-pushmsg-sample.raw.txt").read_text(encoding="utf-8")
    body = raw.split("请求参数:", 1)[1].split("- 响应参数:", 1)[0]
    assert "//" in body and "[D1]" in body and "[D2]" in body and ", }" in body
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    cleaned = clean_vendor_json(body)
    assert "//" not in cleaned and "[D" not in cleaned and ", }" not in cleaned
    batch = json.loads(cleaned)
    assert [m["controlType"] for m in batch["messages"]] == [
        "CHAT",
        "CHAT",
        "DISCONNECT",
        "DISCONNECT",
        "DISCONNECT",
        "READ",
    ]
    # the space that followed the [D2] marker is kept (see README)
    assert batch["messages"][-1]["content"] == "messageId1,messageId2 "


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ('{"a": 1, }', '{"a": 1 }'),
        ("[1, 2 ,\n ]", "[1, 2 \n ]"),
        ('{"url": "http://x//y", }', '{"url": "http://x//y" }'),
        ('{"s": "a, }"}', '{"s": "a, }"}'),
        ('[//one\n{"a": 1}]', '[\n{"a": 1}]'),
        ('[//two{"a": "\\"//"}]', '[{"a": "\\"//"}]'),
        ('{"c": "x[D2] "}', '{"c": "x "}'),
    ],
)
def test_cleaning_function_edge_cases(dirty: str, clean: str) -> None:
    assert clean_vendor_json(dirty) == clean


# --------------------------------------------------------------------------- schemas


def _schema_files() -> dict[str, dict[str, Any]]:
    return {
        p.name.removesuffix(".schema.json"): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(SCHEMA_DIR.glob("*.schema.json"))
    }


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_contract_schema_exists_and_is_in_the_store() -> None:
    assert set(CONTRACT_SCHEMAS) <= set(default_store().names)


@pytest.mark.parametrize("name", CONTRACT_SCHEMAS)
def test_schema_is_draft_2020_12_with_id_title_description(name: str) -> None:
    schema = _schema_files()[name]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{SCHEMA_BASE_URI}{name}.schema.json"
    assert schema["title"] and schema["description"]


@pytest.mark.parametrize("name", CONTRACT_SCHEMAS)
def test_every_ref_resolves(name: str) -> None:
    schemas = _schema_files()
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (s["$id"], DRAFT202012.create_resource(s)) for s in schemas.values()
    )
    resolver = registry.resolver(base_uri=schemas[name]["$id"])
    for ref in _refs(schemas[name]):
        resolved = resolver.lookup(ref)  # raises on an unresolvable reference
        assert isinstance(resolved.contents, dict)


def test_downlink_message_is_defined_once_and_referenced() -> None:
    schemas = _schema_files()
    assert "downlink-message.schema.json" in set(_refs(schemas["push-request"]))
    assert "downlink-message.schema.json" in set(_refs(schemas["poll-response"]))
    for name, schema in schemas.items():
        if name != "downlink-message":
            # nobody restates the DownLinkMsg enumerations
            assert "LOCATE" not in json.dumps(schema), name


@pytest.mark.parametrize("fixture", VENDOR_FIXTURES, ids=lambda p: p.name)
def test_vendor_fixture_validates(fixture: Path) -> None:
    store = default_store()
    document = json.loads(fixture.read_text(encoding="utf-8"))
    name = schema_of(fixture)
    assert store.violations(name, document) == []
    assert store.is_valid(name, document)


def test_every_vendor_fixture_names_a_known_schema_and_is_canonical() -> None:
    assert len(VENDOR_FIXTURES) >= 30
    for fixture in VENDOR_FIXTURES:
        assert schema_of(fixture) in CONTRACT_SCHEMAS, fixture.name
        text = fixture.read_text(encoding="utf-8")
        assert text == fixture_text(json.loads(text)), fixture.name


# --------------------------------------------------------------------------- mutations

_DELETE = object()


@dataclass(frozen=True)
class Edit:
    """Set (or delete) the value at a JSON pointer."""

    pointer: str
    value: Any = _DELETE


def drop(pointer: str) -> Edit:
    """Remove the member at ``pointer``."""
    return Edit(pointer)


def put(pointer: str, value: Any) -> Edit:
    """Set the member at ``pointer`` to ``value``."""
    return Edit(pointer, value)


def apply_edits(document: Any, edits: tuple[Edit, ...]) -> Any:
    """A deep copy of ``document`` with the edits applied in order."""
    result = copy.deepcopy(document)
    for edit in edits:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in edit.pointer.split("/")[1:]]
        if not tokens:
            result = edit.value
            continue
        parent = result
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last: Any = int(tokens[-1]) if isinstance(parent, list) else tokens[-1]
        if edit.value is _DELETE:
            del parent[last]
        else:
            parent[last] = edit.value
    return result


#: Bases that are not vendor fixtures (the vendor gives no example of poll's query string).
INLINE_BASES: dict[str, Any] = {
    "poll-request.inline": {"receiverId": "44444444", "channel": "WEB", "isNeedRead": "true"},
}


def base_document(base: str) -> Any:
    """A mutation base: an inline document or a vendor fixture."""
    return copy.deepcopy(INLINE_BASES[base]) if base in INLINE_BASES else load(base)


@dataclass(frozen=True)
class Case:
    """A real example with one rule broken; the violation must be at ``pointer``."""

    id: str
    schema: str
    base: str
    edits: tuple[Edit, ...]
    pointer: str
    needle: str  # must appear in the message of the violation at ``pointer``


def case(
    case_id: str, schema: str, base: str, edits: Edit | tuple[Edit, ...], pointer: str, needle: str
) -> Case:
    """A mutation case (a single edit may be given without a tuple)."""
    return Case(
        case_id, schema, base, edits if isinstance(edits, tuple) else (edits,), pointer, needle
    )


def required(case_id: str, schema: str, base: str, pointer: str) -> Case:
    """Removing the member at ``pointer`` is reported at its parent, naming the member."""
    parent, _, field = pointer.rpartition("/")
    return case(case_id, schema, base, drop(pointer), parent, f"'{field}' is a required property")


def wrong(case_id: str, schema: str, base: str, pointer: str, value: Any, needle: str) -> Case:
    """Setting the member at ``pointer`` to ``value`` is reported at ``pointer``."""
    return case(case_id, schema, base, put(pointer, value), pointer, needle)


PUSH = "push-request.seed-webhook-batch.json"
QUEUING = "downlink-message.seed-pushmsg-queuing.json"
D_AGENT = "downlink-message.seed-pushmsg-disconnect-agent.json"
D_ASYNC = "downlink-message.seed-pushmsg-disconnect-timeout-async-on.json"
READ = "downlink-message.seed-pushmsg-read.json"
CONNECT = "send-request.connect-robot.json"
CHAT = "send-request.chat-robot.json"
POLL = "poll-response.robot-chat.json"
POLL_IMG = "poll-response.multimedia-library.json"
TYPE = "is not of type"
ENUM = "is not one of"
CONST = "was expected"
LONG = "is too long"
SHORT = "should be non-empty"
PATTERN = "does not match"
DL = "downlink-message"
SR = "send-request"

# fmt: off
MUTATIONS: list[Case] = [
    # ---- push-request: the batch envelope
    required("push.messages.required", "push-request", PUSH, "/messages"),
    required("push.timestamp.required", "push-request", PUSH, "/timestamp"),
    wrong("push.timestamp.string", "push-request", PUSH, "/timestamp", "1625898453913", TYPE),
    wrong("push.timestamp.negative", "push-request", PUSH, "/timestamp", -1, "less than"),
    wrong("push.messages.empty", "push-request", PUSH, "/messages", [], SHORT),
    wrong("push.messages.object", "push-request", PUSH, "/messages", {}, TYPE),
    wrong("push.message.not-object", "push-request", PUSH, "/messages/0", "CHAT", TYPE),
    # ---- push-request: DownLinkMsg inside the batch (push-only rules and shared ones)
    wrong("push.msg.timestamp.string", "push-request", PUSH, "/messages/0/timestamp",
          "1625898453913", TYPE),
    required("push.msg.controlType.required", "push-request", PUSH, "/messages/0/controlType"),
    required("push.msg.content.required", "push-request", PUSH, "/messages/0/content"),
    required("push.msg.to.required", "push-request", PUSH, "/messages/1/to"),
    required("push.msg.from.required", "push-request", PUSH, "/messages/1/from"),
    required("push.msg.mediaType.required", "push-request", PUSH, "/messages/2/mediaType"),
    wrong("push.msg.controlType.uplink-only-INPUT", "push-request", PUSH,
          "/messages/0/controlType", "INPUT", ENUM),
    wrong("push.msg.controlType.TYPING", "push-request", PUSH, "/messages/0/controlType",
          "TYPING", ENUM),
    wrong("push.msg.sourceType.uplink-CUSTOMER", "push-request", PUSH,
          "/messages/0/sourceType", "CUSTOMER", ENUM),
    wrong("push.msg.mediaType.uplink-only-FILE", "push-request", PUSH, "/messages/0/mediaType",
          "FILE", ENUM),
    wrong("push.msg.mediaType.uplink-only-WEBCARD", "push-request", PUSH,
          "/messages/0/mediaType", "WEBCARD", ENUM),
    wrong("push.msg.chat.mediaType.null", "push-request", PUSH, "/messages/0/mediaType", None,
          TYPE),
    wrong("push.msg.channel.not-WEB", "push-request", PUSH, "/messages/0/channel", "WHATSAPP",
          CONST),
    wrong("push.msg.text.content.null", "push-request", PUSH, "/messages/1/content", None, TYPE),
    wrong("push.msg.messageCode.65", "push-request", PUSH, "/messages/0/messageCode", "c" * 65,
          LONG),
    wrong("push.msg.read.content.empty", "push-request", PUSH, "/messages/5/content", "",
          PATTERN),
    wrong("push.msg.read.content.empty-id", "push-request", PUSH, "/messages/5/content",
          "messageId1,,messageId2", PATTERN),
    wrong("push.msg.read.content.id-33", "push-request", PUSH, "/messages/5/content", "m" * 33,
          PATTERN),
    wrong("push.msg.read.content.null", "push-request", PUSH, "/messages/5/content", None, TYPE),
    wrong("push.msg.read.content.array", "push-request", PUSH, "/messages/5/content",
          ["messageId1", "messageId2"], TYPE),
    wrong("push.msg.read.mediaType.TEXT", "push-request", PUSH, "/messages/5/mediaType", "TEXT",
          TYPE),
    wrong("push.msg.disconnect.mediaType.IMAGE", "push-request", PUSH, "/messages/2/mediaType",
          "IMAGE", ENUM),
    wrong("push.msg.isOfflineStatus.string", "push-request", PUSH,
          "/messages/4/isOfflineStatus", "true", TYPE),
    wrong("push.msg.senderNickname.number", "push-request", PUSH,
          "/messages/0/senderNickname", 5, TYPE),
    wrong("push.msg.simQuestions.array", "push-request", PUSH, "/messages/0/simQuestions", [],
          TYPE),
    wrong("push.msg.callId.number", "push-request", PUSH, "/messages/0/callId", 1, TYPE),
    wrong("push.msg.from.empty", "push-request", PUSH, "/messages/0/from", "", SHORT),
    wrong("push.msg.to.empty", "push-request", PUSH, "/messages/0/to", "", SHORT),
    # ---- downlink-message: controlType/mediaType dependent content rules
    case("dl.image.content.empty", DL, QUEUING,
         (put("/mediaType", "IMAGE"), put("/content", "")), "/content", SHORT),
    case("dl.video.content.null", DL, QUEUING,
         (put("/mediaType", "VIDEO"), put("/content", None)), "/content", TYPE),
    case("dl.audio.content.number", DL, QUEUING,
         (put("/mediaType", "AUDIO"), put("/content", 42)), "/content", TYPE),
    case("dl.document.content.empty", DL, QUEUING,
         (put("/mediaType", "DOCUMENT"), put("/content", "")), "/content", SHORT),
    case("dl.locate.content.words", DL, QUEUING,
         (put("/mediaType", "LOCATE"), put("/content", "somewhere")), "/content", PATTERN),
    case("dl.locate.content.one-number", DL, QUEUING,
         (put("/mediaType", "LOCATE"), put("/content", "39.9")), "/content", PATTERN),
    case("dl.locate.content.word-latitude", DL, QUEUING,
         (put("/mediaType", "LOCATE"), put("/content", "north/116.4/Beijing")), "/content",
         PATTERN),
    case("dl.locate.content.comma", DL, QUEUING,
         (put("/mediaType", "LOCATE"), put("/content", "39.9,116.4,Beijing")), "/content",
         PATTERN),
    wrong("dl.timestamp.clock-string", DL, QUEUING, "/timestamp", "12:00", PATTERN),
    wrong("dl.timestamp.negative", DL, QUEUING, "/timestamp", -1, "less than"),
    wrong("dl.timestamp.bool", DL, QUEUING, "/timestamp", True, TYPE),
    wrong("dl.controlType.lowercase", DL, QUEUING, "/controlType", "trans2agent", ENUM),
    wrong("dl.controlType.null", DL, QUEUING, "/controlType", None, ENUM),
    wrong("dl.sourceType.USER", DL, QUEUING, "/sourceType", "USER", ENUM),
    wrong("dl.mediaType.lowercase", DL, QUEUING, "/mediaType", "text", ENUM),
    wrong("dl.robotGender.number", DL, QUEUING, "/robotGender", 1, TYPE),
    wrong("dl.queueFlag.bool", DL, QUEUING, "/queueFlag", True, TYPE),
    wrong("dl.interIdx.float", DL, QUEUING, "/interIdx", 1.5, TYPE),
    wrong("dl.contentType.number", DL, QUEUING, "/contentType", 1, TYPE),
    wrong("dl.receiveTime.bool", DL, QUEUING, "/receiveTime", True, TYPE),
    wrong("dl.handlerType.array", DL, QUEUING, "/handlerType", [], TYPE),
    wrong("dl.associationContentId.number", DL, QUEUING, "/associationContentId", 5, TYPE),
    wrong("dl.mediaFileType.number", DL, QUEUING, "/mediaFileType", 5, TYPE),
    wrong("dl.senderAvatar.number", DL, QUEUING, "/senderAvatar", 5, TYPE),
    wrong("dl.isOfflineStatus.yes", DL, D_ASYNC, "/isOfflineStatus", "yes", TYPE),
    wrong("dl.disconnect.mediaType.LOCATE", DL, D_AGENT, "/mediaType", "LOCATE", ENUM),
    wrong("dl.async-on.text.content.null", DL, D_ASYNC, "/content", None, TYPE),
    wrong("dl.read.mediaType.IMAGE", DL, READ, "/mediaType", "IMAGE", TYPE),
    wrong("dl.read.content.trailing-comma", DL, READ, "/content", "messageId1,", PATTERN),
    required("dl.sourceType.required", DL, QUEUING, "/sourceType"),
    required("dl.mediaType.required", DL, D_AGENT, "/mediaType"),
    required("dl.timestamp.required", DL, QUEUING, "/timestamp"),
    required("dl.channel.required", DL, QUEUING, "/channel"),
    required("dl.content.required", DL, D_AGENT, "/content"),
    wrong("dl.not-object", DL, QUEUING, "", [], TYPE),
    # ---- send-request (uplink)
    required("send.channel.required", SR, CONNECT, "/channel"),
    required("send.controlType.required", SR, CONNECT, "/controlType"),
    required("send.from.required", SR, CONNECT, "/from"),
    required("send.mediaType.required", SR, CONNECT, "/mediaType"),
    required("send.sourceType.required", SR, CONNECT, "/sourceType"),
    required("send.to.required", SR, CONNECT, "/to"),
    wrong("send.channel.lowercase", SR, CONNECT, "/channel", "web", CONST),
    wrong("send.controlType.downlink-spelling", SR, CONNECT, "/controlType", "Trans2Agent", ENUM),
    wrong("send.controlType.TYPING", SR, CONNECT, "/controlType", "TYPING", ENUM),
    wrong("send.from.empty", SR, CONNECT, "/from", "", SHORT),
    wrong("send.from.65", SR, CONNECT, "/from", "u" * 65, LONG),
    wrong("send.from.number", SR, CONNECT, "/from", 1619573111751, TYPE),
    wrong("send.mediaType.downlink-only-LOCATE", SR, CONNECT, "/mediaType", "LOCATE", ENUM),
    wrong("send.mediaType.downlink-only-DOCUMENT", SR, CONNECT, "/mediaType", "DOCUMENT", ENUM),
    wrong("send.mediaType.null", SR, CONNECT, "/mediaType", None, ENUM),
    wrong("send.sourceType.AGENT", SR, CONNECT, "/sourceType", "AGENT", CONST),
    wrong("send.sourceType.USER", SR, CONNECT, "/sourceType", "USER", CONST),
    wrong("send.to.empty", SR, CONNECT, "/to", "", SHORT),
    wrong("send.timestamp.number", SR, CONNECT, "/timestamp", 1619573122352, TYPE),
    wrong("send.messageId.comma", SR, CHAT, "/messageId", "msg-1,msg-2", PATTERN),
    wrong("send.messageId.33", SR, CHAT, "/messageId", "m" * 33, LONG),
    wrong("send.messageId.empty", SR, CHAT, "/messageId", "", SHORT),
    wrong("send.senderAvatar.1025", SR, CHAT, "/senderAvatar", "a" * 1025, LONG),
    wrong("send.userAgent.number", SR, CHAT, "/userAgent", 5, TYPE),
    wrong("send.transData.object", SR, CHAT, "/transData", {"a": 1}, TYPE),
    wrong("send.senderNickname.number", SR, CHAT, "/senderNickname", 5, TYPE),
    wrong("send.connect.content.number", SR, CONNECT, "/content", 5, TYPE),
    wrong("send.text.content.1025", SR, CHAT, "/content", "字" * 1025, LONG),
    required("send.chat.content.required", SR, CHAT, "/content"),
    wrong("send.chat.content.null", SR, CHAT, "/content", None, TYPE),
    case("send.input.content.required", SR, CHAT, (put("/controlType", "INPUT"), drop("/content")),
         "", "'content' is a required property"),
    case("send.read.content.empty", SR, CHAT, (put("/controlType", "READ"), put("/content", "")),
         "/content", SHORT),
    case("send.chat.image.content.empty", SR, CHAT,
         (put("/mediaType", "IMAGE"), put("/content", "")), "/content", SHORT),
    case("send.chat.file.content.name-only", SR, CHAT,
         (put("/mediaType", "FILE"), put("/content", "test_txt.txt")), "/content", PATTERN),
    case("send.chat.file.content.size-not-number", SR, CHAT,
         (put("/mediaType", "FILE"), put("/content", "test_txt.txt,six,id-1,txt")), "/content",
         PATTERN),
    case("send.chat.file-image.content.no-type", SR, CHAT,
         (put("/mediaType", "FILE_IMAGE"), put("/content", "objectKey")), "/content", PATTERN),
    case("send.chat.file-video.content.three-parts", SR, CHAT,
         (put("/mediaType", "FILE_VIDEO"), put("/content", "a,b,c")), "/content", PATTERN),
    case("send.chat.webcard.content.not-json", SR, CHAT,
         (put("/mediaType", "WEBCARD"), put("/content", "card")), "/content", PATTERN),
    case("send.chat.webcard.content.no-target", SR, CHAT,
         (put("/mediaType", "WEBCARD"), put("/content", '{"title":"t","redirectUrl":""}')),
         "/content", PATTERN),
    wrong("send.not-object", SR, CHAT, "", "hello", TYPE),
    # ---- send-response
    required("send-rsp.resultCode.required", "send-response",
             "send-response.connect-robot.json", "/resultCode"),
    wrong("send-rsp.resultCode.number", "send-response", "send-response.connect-robot.json",
          "/resultCode", 0, TYPE),
    wrong("send-rsp.resultDesc.number", "send-response", "send-response.send-async.json",
          "/resultDesc", 1, TYPE),
    # ---- poll-request (query string)
    required("poll-req.receiverId.required", "poll-request", "poll-request.inline",
             "/receiverId"),
    required("poll-req.channel.required", "poll-request", "poll-request.inline", "/channel"),
    wrong("poll-req.channel.APP", "poll-request", "poll-request.inline", "/channel", "APP", CONST),
    wrong("poll-req.isNeedRead.bool", "poll-request", "poll-request.inline", "/isNeedRead", True,
          TYPE),
    wrong("poll-req.receiverId.empty", "poll-request", "poll-request.inline", "/receiverId", "",
          SHORT),
    # ---- poll-response
    required("poll.downlinkMessages.required-on-success", "poll-response", POLL,
             "/downlinkMessages"),
    required("poll.resultCode.required", "poll-response", POLL, "/resultCode"),
    required("poll.msg.simQuestions.required", "poll-response", POLL,
             "/downlinkMessages/0/simQuestions"),
    required("poll.msg.to.required", "poll-response", POLL, "/downlinkMessages/2/to"),
    wrong("poll.msg.content.501", "poll-response", POLL, "/downlinkMessages/0/content",
          "欢" * 501, LONG),
    wrong("poll.resultCode.number", "poll-response", POLL, "/resultCode", 0, TYPE),
    wrong("poll.msg.sourceType.CUSTOMER", "poll-response", POLL,
          "/downlinkMessages/1/sourceType", "CUSTOMER", ENUM),
    wrong("poll.msg.timestamp.words", "poll-response", POLL, "/downlinkMessages/0/timestamp",
          "yesterday", PATTERN),
    wrong("poll.msg.image.content.empty", "poll-response", POLL_IMG,
          "/downlinkMessages/0/content", "", SHORT),
    wrong("poll.msg.messageCode.65", "poll-response", POLL_IMG,
          "/downlinkMessages/0/messageCode", "c" * 65, LONG),
    wrong("poll.downlinkMessages.string", "poll-response", POLL, "/downlinkMessages", "x", TYPE),
    # ---- tokens
    required("token-req.app_key.required", "token-request", "token-request.vendor-example.json",
             "/app_key"),
    required("token-req.app_secret.required", "token-request",
             "token-request.vendor-example.json", "/app_secret"),
    wrong("token-req.app_secret.number", "token-request", "token-request.vendor-example.json",
          "/app_secret", 5, TYPE),
    wrong("token-req.app_key.empty", "token-request", "token-request.vendor-example.json",
          "/app_key", "", SHORT),
    required("token-rsp.AccessToken.required", "token-response",
             "token-response.vendor-example.json", "/AccessToken"),
    required("token-rsp.Expires.required", "token-response",
             "token-response.vendor-example.json", "/Expires"),
    wrong("token-rsp.Expires.number", "token-response", "token-response.vendor-example.json",
          "/Expires", 600, TYPE),
    wrong("token-rsp.ApplyType.Basic", "token-response", "token-response.vendor-example.json",
          "/ApplyType", "Basic", CONST),
    wrong("token-rsp.CreateTime.words", "token-response", "token-response.vendor-example.json",
          "/CreateTime", "yesterday", PATTERN),
    required("apply-req.userId.required", "apply-token-request",
             "apply-token-request.vendor-example.json", "/userId"),
    required("apply-req.userName.required", "apply-token-request",
             "apply-token-request.vendor-example.json", "/userName"),
    required("apply-req.channelId.required", "apply-token-request",
             "apply-token-request.vendor-example.json", "/channelId"),
    required("apply-req.locale.required", "apply-token-request",
             "apply-token-request.vendor-example.json", "/locale"),
    wrong("apply-req.userId.33", "apply-token-request", "apply-token-request.vendor-example.json",
          "/userId", "u" * 33, LONG),
    wrong("apply-req.userId.empty", "apply-token-request",
          "apply-token-request.vendor-example.json", "/userId", "", SHORT),
    wrong("apply-req.userName.null", "apply-token-request",
          "apply-token-request.vendor-example.json", "/userName", None, TYPE),
    wrong("apply-req.channelId.empty", "apply-token-request",
          "apply-token-request.vendor-example.json", "/channelId", "", SHORT),
    wrong("apply-req.locale.word", "apply-token-request",
          "apply-token-request.vendor-example.json", "/locale", "Chinese", PATTERN),
    required("apply-rsp.token.required", "apply-token-response",
             "apply-token-response.voip-example.json", "/token"),
    wrong("apply-rsp.resultCode.2", "apply-token-response",
          "apply-token-response.voip-example.json", "/resultCode", "2", ENUM),
    wrong("apply-rsp.resultCode.number", "apply-token-response",
          "apply-token-response.voip-example.json", "/resultCode", 0, ENUM),
    # ---- queryQueueInfo
    wrong("queue-req.userId.33", "queue-info-request", "queue-info-request.vendor-example.json",
          "/userId", "u" * 33, LONG),
    wrong("queue-req.channel.space", "queue-info-request",
          "queue-info-request.vendor-example.json", "/channel", "WEB ", CONST),
    required("queue-req.channelConfigId.required", "queue-info-request",
             "queue-info-request.vendor-example.json", "/channelConfigId"),
    wrong("queue-rsp.position.string", "queue-info-response",
          "queue-info-response.vendor-example.json", "/position", "1", TYPE),
    required("queue-rsp.position.required-when-queuing", "queue-info-response",
             "queue-info-response.vendor-example.json", "/position"),
    required("queue-rsp.estimateWaitTime.required-when-queuing", "queue-info-response",
             "queue-info-response.vendor-example.json", "/estimateWaitTime"),
    wrong("queue-rsp.resultCode.7", "queue-info-response",
          "queue-info-response.vendor-example.json", "/resultCode", "7", ENUM),
    wrong("queue-rsp.estimateWaitTime.negative", "queue-info-response",
          "queue-info-response.vendor-example.json", "/estimateWaitTime", -1, "less than"),
    wrong("queue-rsp.totalWaitTime.float", "queue-info-response",
          "queue-info-response.vendor-example.json", "/totalWaitTime", 3.5, TYPE),
    # ---- files
    wrong("upload-req.fileType.gif", "upload-request", "upload-request.vendor-example.json",
          "/fileType", "gif", ENUM),
    wrong("upload-req.fileType.mixed-case", "upload-request",
          "upload-request.vendor-example.json", "/fileType", "Jpg", ENUM),
    required("upload-req.fileStream.required", "upload-request",
             "upload-request.vendor-example.json", "/fileStream"),
    wrong("upload-req.fileStream.empty", "upload-request", "upload-request.vendor-example.json",
          "/fileStream", "", SHORT),
    wrong("upload-req.channel.APP", "upload-request", "upload-request.vendor-example.json",
          "/channel", "APP", CONST),
    required("upload-rsp.returnCode.required", "upload-response",
             "upload-response.vendor-example.json", "/returnCode"),
    wrong("upload-rsp.returnCode.1", "upload-response", "upload-response.vendor-example.json",
          "/returnCode", "1", ENUM),
    required("upload-rsp.objectKey.required-on-success", "upload-response",
             "upload-response.vendor-example.json", "/objectKey"),
    # a live tenant answers resultCode (accepted below); an answer with neither is refused
    case("upload-rsp.no-code", "upload-response",
         "upload-response.vendor-example.json", drop("/returnCode"),
         "", "'returnCode' is a required property"),
    wrong("download-req.fileType.exe", "download-request",
          "download-request.vendor-example.json", "/fileType", "exe", ENUM),
    wrong("download-req.fileType.jpeg", "download-request",
          "download-request.vendor-example.json", "/fileType", "jpeg", ENUM),
    wrong("download-req.multiMedia.yes", "download-request",
          "download-request.vendor-example.json", "/multiMedia", "yes", ENUM),
    required("download-req.fileId.required", "download-request",
             "download-request.vendor-example.json", "/fileId"),
    wrong("download-rsp.fileStream.number", "download-response",
          "download-response.vendor-example.json", "/fileStream", 5, TYPE),
    case("download-rsp.success-without-fileStream", "download-response",
         "download-response.vendor-example.json", (drop("/fileStream"), put("/resultCode", "0")),
         "", "'fileStream' is a required property"),
    wrong("download-rsp.resultCode.500", "download-response",
          "download-response.vendor-example.json", "/resultCode", "500", ENUM),
    # ---- history
    wrong("history-req.limit.number", "history-request", "history-request.vendor-example.json",
          "/limit", 1, TYPE),
    wrong("history-req.offset.negative", "history-request",
          "history-request.vendor-example.json", "/offset", "-1", PATTERN),
    wrong("history-req.userId.33", "history-request", "history-request.vendor-example.json",
          "/userId", "u" * 33, LONG),
    required("history-req.channelId.required", "history-request",
             "history-request.vendor-example.json", "/channelId"),
    required("history-req.limit.required", "history-request",
             "history-request.vendor-example.json", "/limit"),
    wrong("history-req.startTime.number", "history-request",
          "history-request.vendor-example.json", "/startTime", 1659910093000, TYPE),
    wrong("history-rsp.resultCode.2", "history-response", "history-response.vendor-example.json",
          "/resultCode", "2", ENUM),
    required("history-rsp.messageList.required-on-success", "history-response",
             "history-response.vendor-example.json", "/messageList"),
    wrong("history-rsp.isForwarded.string", "history-response",
          "history-response.vendor-example.json", "/messageList/0/isForwarded", "false", TYPE),
    wrong("history-rsp.messageCode.65", "history-response",
          "history-response.vendor-example.json", "/messageList/0/messageCode", "c" * 65, LONG),
    wrong("history-rsp.sendTime.bool", "history-response",
          "history-response.vendor-example.json", "/messageList/0/sendTime", True, TYPE),
    # ---- leave message
    wrong("leave-req.callId.33", "leave-message-request",
          "leave-message-request.vendor-example.json", "/callId", "1" * 33, LONG),
    required("leave-req.caller.required", "leave-message-request",
             "leave-message-request.vendor-example.json", "/caller"),
    wrong("leave-req.leaveMessage.empty", "leave-message-request",
          "leave-message-request.vendor-example.json", "/leaveMessage", "", SHORT),
    wrong("leave-req.channel.null", "leave-message-request",
          "leave-message-request.vendor-example.json", "/channel", None, CONST),
    wrong("leave-rsp.resultCode.1", "leave-message-response",
          "leave-message-response.vendor-example.json", "/resultCode", "1", ENUM),
    required("leave-rsp.resultCode.required", "leave-message-response",
             "leave-message-response.vendor-example.json", "/resultCode"),
    # ---- push-response
    required("push-rsp.resultCode.required", "push-response", "push-response.seed-webhook.json",
             "/resultCode"),
    wrong("push-rsp.resultCode.number", "push-response", "push-response.seed-webhook.json",
          "/resultCode", 0, TYPE),
    wrong("push-rsp.resultDesc.number", "push-response", "push-response.seed-pushmsg.json",
          "/resultDesc", 1, TYPE),
]
# fmt: on


def mutated(c: Case) -> Any:
    """The document of a mutation case."""
    return apply_edits(base_document(c.base), c.edits)


def _field(c: Case) -> str:
    """The member the case breaks, as the violation should name it.

    A missing member is reported at its parent and named in the message (the needle says
    which); any other violation is reported at the member itself.
    """
    if c.needle.endswith("is a required property"):
        return c.needle.split("'")[1]
    return c.pointer.rsplit("/", 1)[-1]


def test_mutation_table_is_large_and_ids_unique() -> None:
    assert len(MUTATIONS) >= 60
    assert len({c.id for c in MUTATIONS}) == len(MUTATIONS)


@pytest.mark.parametrize("c", MUTATIONS, ids=lambda c: c.id)
def test_mutation_fails_and_names_the_field(c: Case) -> None:
    store = default_store()
    base = base_document(c.base)
    assert store.is_valid(c.schema, base), "the base must be valid for the test to mean anything"
    document = mutated(c)
    assert not store.is_valid(c.schema, document)
    found = store.violations(c.schema, document)
    at_pointer = [v for v in found if v.pointer == c.pointer]
    assert at_pointer, f"no violation at {c.pointer!r}: {found}"
    assert any(c.needle in v.message for v in at_pointer), at_pointer
    field = _field(c)
    assert any(field in v.pointer or field in v.message for v in at_pointer), at_pointer


# Documents that must be ACCEPTED: the choices made where the vendor contradicts itself.
# fmt: off
ACCEPTED: list[Case] = [
    case("dl.controlType.Trans2Agent-table", DL, QUEUING, put("/controlType", "Trans2Agent"),
         "", ""),
    case("dl.controlType.TRANS2AGENT-uplink-spelling", DL, QUEUING,
         put("/controlType", "TRANS2AGENT"), "", ""),
    case("dl.timestamp.digit-string-poll-table", DL, QUEUING, put("/timestamp", "1625898453913"),
         "", ""),
    case("dl.controlType.absent-poll-table", DL, QUEUING, drop("/controlType"), "", ""),
    case("dl.locate.full", DL, QUEUING,
         (put("/mediaType", "LOCATE"), put("/content", "39.9042/116.4074/Tiananmen, Beijing")),
         "", ""),
    case("dl.locate.negative-no-description", DL, QUEUING,
         (put("/mediaType", "LOCATE"), put("/content", "-33.86/151.21")), "", ""),
    case("dl.locate.description-with-slash", DL, QUEUING,
         (put("/mediaType", "LOCATE"), put("/content", "1.5/2.5/Gate 3/North")), "", ""),
    case("dl.document", DL, QUEUING,
         (put("/mediaType", "DOCUMENT"), put("/content", "local/obs-key-1")), "", ""),
    case("dl.read.single-id", DL, READ, put("/content", "m" * 32), "", ""),
    case("dl.unknown-field", DL, QUEUING, put("/extraVendorField", {"x": 1}), "", ""),
    case("dl.poll-extras", DL, QUEUING,
         (put("/interIdx", 3), put("/contentType", "1"), put("/mediaFileType", "png"),
          put("/queueFlag", "Y"), put("/receiveTime", 1648102235191),
          put("/handlerType", None)), "", ""),
    case("send.text.1024-cjk-chars", SR, CHAT, put("/content", "字" * 1024), "", ""),
    case("send.messageId.32", SR, CHAT, put("/messageId", "m" * 32), "", ""),
    case("send.from.64", SR, CHAT, put("/from", "u" * 64), "", ""),
    case("send.disconnect.no-content", SR, CONNECT,
         (put("/controlType", "DISCONNECT"), drop("/content")), "", ""),
    case("send.chat.file", SR, CHAT,
         (put("/mediaType", "FILE"),
          put("/content", "test_txt.txt,6,7d9fbcdd-e306-4b84-9831-163fb760cca9,txt")), "", ""),
    case("send.chat.file-image", SR, CHAT,
         (put("/mediaType", "FILE_IMAGE"), put("/content", "objectKey,jpg")), "", ""),
    case("send.chat.webcard", SR, CHAT,
         (put("/mediaType", "WEBCARD"),
          put("/content", '{"title":"t","description":"","mediaFileId":"",'
                          '"mediaFileType":"img/png","redirectUrl":"https://example.com/x"}')),
         "", ""),
    case("send.read", SR, CHAT, (put("/controlType", "READ"), put("/content", "m1,m2")), "", ""),
    case("send.unknown-field", SR, CHAT, put("/clientVersion", "1.2"), "", ""),
    case("poll.failure-without-messages", "poll-response", POLL,
         (put("/resultCode", "1"), drop("/downlinkMessages"), drop("/resultDesc")), "", ""),
    case("poll.msg.content.500", "poll-response", POLL,
         put("/downlinkMessages/0/content", "欢" * 500), "", ""),
    case("queue.with-agent-no-figures", "queue-info-response",
         "queue-info-response.vendor-example.json",
         (put("/resultCode", "160021"), drop("/position"), drop("/totalWaitTime"),
          drop("/currentDeviceWaitTime"), drop("/configMaxcWaitTime"), drop("/longestWaitTime"),
          drop("/estimateWaitTime")), "", ""),
    case("upload.fileType.upper", "upload-request", "upload-request.vendor-example.json",
         put("/fileType", "JPEG"), "", ""),
    case("download.failure-without-stream", "download-response",
         "download-response.vendor-example.json",
         (drop("/fileStream"), put("/resultCode", "13"), put("/resultDesc", "empty file!")),
         "", ""),
    case("download.multimedia", "download-request", "download-request.vendor-example.json",
         put("/multiMedia", "multiMedia"), "", ""),
    case("apply.locale.bare", "apply-token-request", "apply-token-request.vendor-example.json",
         put("/locale", "en"), "", ""),
    case("apply.userId.32", "apply-token-request", "apply-token-request.vendor-example.json",
         put("/userId", "u" * 32), "", ""),
    case("leave.resultDesc.absent", "leave-message-response",
         "leave-message-response.vendor-example.json", drop("/resultDesc"), "", ""),
    case("poll-req.minimal", "poll-request", "poll-request.inline", drop("/isNeedRead"), "", ""),
    case("apply.failure-without-token", "apply-token-response",
         "apply-token-response.voip-example.json",
         (put("/resultCode", "1"), drop("/token"), put("/resultDesc", "no such channel")), "", ""),
    case("upload.failure-without-key", "upload-response", "upload-response.vendor-example.json",
         (put("/returnCode", "3"), drop("/objectKey")), "", ""),
    # ---- what live tenants do where the pages disagree (vendor web-channel pages, part 2)
    case("send.chat.file.empty-name", SR, CHAT,
         (put("/mediaType", "FILE"), put("/content", ",7000,objectKey,pdf")), "", ""),
    *(case(f"upload.fileType.{t}", "upload-request", "upload-request.vendor-example.json",
           put("/fileType", t), "", "") for t in ("pdf", "doc", "docx", "zip", "PDF")),
    case("upload.both-spellings", "upload-response", "upload-response.vendor-example.json",
         (put("/resultCode", "0"), put("/resultDesc", "success")), "", ""),
    case("upload.resultCode-only", "upload-response", "upload-response.vendor-example.json",
         (drop("/returnCode"), put("/resultCode", "0")), "", ""),
    case("download-req.multiMedia.null", "download-request",
         "download-request.vendor-example.json", put("/multiMedia", None), "", ""),
    case("history.times.null", "history-request", "history-request.vendor-example.json",
         (put("/startTime", None), put("/endTime", None)), "", ""),
    *(case(f"{name}.violations", name, fixture,
           (put("/resultCode", code), put("/resultDesc", desc),
            put("/violations", [{"pointer": "/x", "message": "why"}])), "", "")
      for name, fixture, code, desc in (
          ("download-response", "download-response.vendor-example.json", "401",
           "objectKey is null!"),
          ("queue-info-response", "queue-info-response.vendor-example.json", "1",
           "parameter error"),
          ("leave-message-response", "leave-message-response.vendor-example.json", "3",
           "the leaveMessageParams is error."),
      )),
    case("upload-response.violations", "upload-response", "upload-response.vendor-example.json",
         (put("/returnCode", "2"), put("/resultCode", "2"), drop("/objectKey"),
          put("/violations", [{"pointer": "", "message": "'fileStream' is a required property"}])),
         "", ""),
]
# fmt: on


@pytest.mark.parametrize("c", ACCEPTED, ids=lambda c: c.id)
def test_documented_choice_is_accepted(c: Case) -> None:
    store = default_store()
    document = mutated(c)
    assert store.violations(c.schema, document) == []
    assert store.is_valid(c.schema, document)


def test_mutation_violations_are_all_reported_at_once() -> None:
    # three independent rules broken in one send: three violations, one call
    document = apply_edits(
        load(CHAT),
        (put("/sourceType", "AGENT"), put("/messageId", "a,b"), drop("/to")),
    )
    pointers = {v.pointer for v in default_store().violations(SR, document)}
    assert {"/sourceType", "/messageId", ""} <= pointers


def test_the_source_directory_and_the_bundled_store_hold_the_same_schemas() -> None:
    assert SchemaStore.from_directory(SCHEMA_DIR).names == default_store().names


def test_the_compiled_engine_compiles_every_bundled_schema() -> None:
    # the store compiles each schema on first use: a schema the compiled engine refuses
    # (an ECMA regex it cannot take...) must fail here, not in the middle of a request
    store = SchemaStore.from_directory(SCHEMA_DIR, check_schemas=False)
    for name in store.names:
        store.compile(name)
    store.prepare_explanations()  # and the explaining engine takes the registry


def test_a_schema_the_compiled_engine_refuses_fails_at_compile() -> None:
    broken = SchemaStore(
        {"broken": {"type": "object", "properties": {"a": {"pattern": "("}}}}, check_schemas=False
    )
    with pytest.raises(ValueError):
        broken.compile("broken")


# --------------------------------------------------------------------------- null = absent

#: every request the integration sends, with a vendor example; poll's query string is left
#: out (a query parameter cannot be null), and so is what AICC sends (DownLinkMsg: the
#: simulator's own outbound contract, where an absent controlType is refused on purpose)
NULLABLE_BASES = {
    "token-request": "token-request.vendor-example.json",
    "apply-token-request": "apply-token-request.vendor-example.json",
    "send-request": "send-request.connect-robot.json",
    "queue-info-request": "queue-info-request.vendor-example.json",
    "upload-request": "upload-request.vendor-example.json",
    "download-request": "download-request.vendor-example.json",
    "history-request": "history-request.vendor-example.json",
    "leave-message-request": "leave-message-request.vendor-example.json",
}


@pytest.mark.parametrize(("schema", "base"), sorted(NULLABLE_BASES.items()))
def test_every_optional_member_accepts_null(schema: str, base: str) -> None:
    # the vendor's own examples send null for optional fields (userAgent, senderAvatar,
    # simQuestions ...): a client serialising its absent fields as null is not refused
    definition = json.loads((SCHEMA_DIR / f"{schema}.schema.json").read_text(encoding="utf-8"))
    optional = sorted(set(definition["properties"]) - set(definition.get("required", ())))
    store = default_store()
    document = load(base)
    assert store.is_valid(schema, document)
    refused = {
        member: store.violations(schema, {**document, member: None})
        for member in optional
        if not store.is_valid(schema, {**document, member: None})
    }
    assert refused == {}
