"""The ``check-callback`` conformance cases, as pure data (no I/O).

Each :class:`Case` is one POST to the integration's push receiver: a list of DownLinkMsg
objects (every one valid against ``push-request``) and the auth to send with it. Positive
cases must be answered HTTP 200 with ``resultCode`` ``"0"``; *security* cases carry a wrong
or no ``Authorization`` and must be refused (a non-200 answer or ``resultCode`` ≠ ``"0"``).
:mod:`simulator.delivery.conformance` posts and judges them.

The seed messages are the vendor's own samples, copied from ``tests/fixtures/vendor/`` (a
test compares them with the fixture files), with ``from``/``to`` replaced by the channel and
user asked for (the defaults are the seed's, so by default they are exact).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

from simulator.core.clock import epoch_ms
from simulator.core.push import AuthFault
from simulator.delivery.verdicts import excerpt, push_kind

__all__ = [
    "SEED_AGENT_DISCONNECT",
    "SEED_BATCH",
    "SEED_CHANNEL_ID",
    "SEED_CONNECTED",
    "SEED_QUEUING",
    "SEED_READ",
    "SEED_TIMEOUT_ASYNC_OFF",
    "SEED_TIMEOUT_ASYNC_ON",
    "SEED_USER_ID",
    "Case",
    "CaseGroup",
    "build_cases",
]

CaseGroup = Literal["seed", "controlType", "mediaType", "offline", "fields", "batch", "security"]

SEED_CHANNEL_ID = "202105284494222653"
SEED_USER_ID = "44444444"


def _seed(
    control: str,
    media: str | None,
    content: str | None,
    source: str,
    nickname: str | None,
    stamp: int,
    *,
    call_id: bool = False,
    offline: bool | None = None,
) -> dict[str, Any]:
    # Key order as the vendor printed it (callId and isOfflineStatus where the seed has them).
    message: dict[str, Any] = {
        "from": SEED_CHANNEL_ID,
        "channel": "WEB",
        "to": SEED_USER_ID,
        "controlType": control,
    }
    if offline is not None:
        message["isOfflineStatus"] = offline
    message |= {
        "mediaType": media,
        "content": content,
        "simQuestions": None,
        "senderNickname": nickname,
        "timestamp": stamp,
        "sourceType": source,
    }
    if call_id:
        message["callId"] = None
    message["messageCode"] = None
    return message


_T1, _T2 = 1625898453913, 1625898871961

#: seed 001 "//1connected" (push-request.seed-pushmsg-connected.json, its one message)
SEED_CONNECTED = _seed(
    "CHAT", "TEXT", "The call is connected to an agent.", "SYSTEM", "SYSTEM", _T1, call_id=True
)
#: seed 001 "//queuing"
SEED_QUEUING = _seed("CHAT", "TEXT", "Queuing...", "SYSTEM", "SYSTEM", _T1)
#: seed 001 "//disconnect because of agent"
SEED_AGENT_DISCONNECT = _seed("DISCONNECT", None, None, "AGENT", None, _T2)
#: seed 001 "//disconnect because of timeout, and async switch is off"
SEED_TIMEOUT_ASYNC_OFF = _seed("DISCONNECT", None, None, "SYSTEM", None, _T2)
#: seed 001 "//disconnect because of timeout, and async switch is on"
SEED_TIMEOUT_ASYNC_ON = _seed("DISCONNECT", "TEXT", "{TIPS}", "SYSTEM", None, _T2, offline=True)
#: seed 001 "//read"
SEED_READ = _seed("READ", None, "messageId1,messageId2", "AGENT", None, _T2)
#: seed 000: the six messages of the webhook sample in one POST (its READ keeps the
#: sample's trailing space, see tests/fixtures/vendor/README.md)
SEED_BATCH: tuple[dict[str, Any], ...] = (
    SEED_CONNECTED,
    SEED_QUEUING,
    SEED_AGENT_DISCONNECT,
    SEED_TIMEOUT_ASYNC_OFF,
    SEED_TIMEOUT_ASYNC_ON,
    _seed("READ", None, "messageId1,messageId2 ", "AGENT", None, _T2),
)


@dataclass(frozen=True, slots=True)
class Case:
    """One POST of the suite and what the receiver must do with it."""

    name: str
    group: CaseGroup
    #: what the case checks, for people
    title: str
    messages: tuple[dict[str, Any], ...]
    #: ``ok``: the right credentials; ``wrong``/``missing``: a security case
    auth: AuthFault = "ok"

    @property
    def expects_refusal(self) -> bool:
        """Security cases must be refused; every other case must be accepted."""
        return self.auth != "ok"

    @property
    def subject(self) -> str:
        """controlType/mediaType of the messages, e.g. ``READ/null``."""
        return push_kind(self.messages, source=False)


def build_cases(
    *,
    user_id: str = SEED_USER_ID,
    channel_id: str = SEED_CHANNEL_ID,
    now_ms: int | None = None,
    tips: str = "{TIPS}",
    security: bool = True,
) -> tuple[Case, ...]:
    """The whole suite, in sending order (security cases last).

    ``now_ms`` is the DownLinkMsg ``timestamp`` of the generated (non-seed) messages;
    ``tips`` the content of the offline DISCONNECT cases that are not seed copies.
    """
    stamp = epoch_ms() if now_ms is None else now_ms

    def seed(message: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(message)
        out["from"], out["to"] = channel_id, user_id
        return out

    def msg(
        control: str,
        media: str | None,
        content: str | None,
        source: str = "AGENT",
        nickname: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        # The seed layout (same keys, same order), re-addressed; extra fields go last.
        message = _seed(control, media, content, source, nickname, stamp)
        message["from"], message["to"] = channel_id, user_id
        message.update(extra)
        return message

    agent_text = msg("CHAT", "TEXT", "Hello, this is Alice. How can I help you?", "AGENT", "Alice")
    media_content = {
        "TEXT": "Here is the document you asked for.",
        "IMAGE": "5f0c2a1e-7b3d-4c55-9a10-000000000001",
        "VIDEO": "5f0c2a1e-7b3d-4c55-9a10-000000000002",
        "AUDIO": "5f0c2a1e-7b3d-4c55-9a10-000000000003",
        "LOCATE": "22.6531/114.0579/Huawei Bantian Base, Shenzhen",
        "DOCUMENT": "5f0c2a1e-7b3d-4c55-9a10-000000000004",
    }
    cases: list[Case] = [
        Case(
            "seed-connected",
            "seed",
            "the vendor sample '1connected' (with callId null)",
            (seed(SEED_CONNECTED),),
        ),
        Case("seed-queuing", "seed", "the vendor sample 'queuing'", (seed(SEED_QUEUING),)),
        Case(
            "seed-agent-disconnect",
            "seed",
            "the vendor sample 'disconnect because of agent'",
            (seed(SEED_AGENT_DISCONNECT),),
        ),
        Case(
            "seed-timeout-async-off",
            "seed",
            "the vendor sample 'disconnect because of timeout, async switch off'",
            (seed(SEED_TIMEOUT_ASYNC_OFF),),
        ),
        Case(
            "seed-timeout-async-on",
            "seed",
            "the vendor sample 'disconnect because of timeout, async switch on' "
            '(isOfflineStatus true, content "{TIPS}")',
            (seed(SEED_TIMEOUT_ASYNC_ON),),
        ),
        Case(
            "seed-read",
            "seed",
            "the vendor sample 'read' (content \"messageId1,messageId2\")",
            (seed(SEED_READ),),
        ),
        Case(
            "seed-batch",
            "batch",
            "the vendor webhook sample: six messages in one POST",
            tuple(seed(m) for m in SEED_BATCH),
        ),
        # every downlink controlType
        Case(
            "control-connect",
            "controlType",
            "controlType CONNECT (SYSTEM, null media)",
            (msg("CONNECT", None, None, "SYSTEM"),),
        ),
        Case("control-chat", "controlType", "controlType CHAT (agent text)", (agent_text,)),
        Case(
            "control-disconnect",
            "controlType",
            "controlType DISCONNECT (agent ends)",
            (msg("DISCONNECT", None, None, "AGENT"),),
        ),
        Case(
            "control-read",
            "controlType",
            "controlType READ (one messageId)",
            (msg("READ", None, "conformance-msg-1", "AGENT"),),
        ),
        Case(
            "control-trans2agent",
            "controlType",
            "controlType Trans2Agent (the downlink tables' spelling)",
            (msg("Trans2Agent", None, None, "SYSTEM"),),
        ),
    ]
    # every downlink mediaType
    for media, content in media_content.items():
        cases.append(
            Case(
                f"media-{media.lower()}",
                "mediaType",
                f"mediaType {media} (agent CHAT, content {excerpt(content, 60)})",
                (msg("CHAT", media, content, "AGENT", "Alice"),),
            )
        )
    cases += [
        Case(
            "offline-true",
            "offline",
            "isOfflineStatus true (timeout DISCONNECT with tips)",
            (msg("DISCONNECT", "TEXT", tips, "SYSTEM", isOfflineStatus=True),),
        ),
        Case(
            "offline-false",
            "offline",
            "isOfflineStatus false (timeout DISCONNECT)",
            (msg("DISCONNECT", None, None, "SYSTEM", isOfflineStatus=False),),
        ),
        Case(
            "offline-null",
            "offline",
            "isOfflineStatus null",
            (msg("DISCONNECT", None, None, "SYSTEM", isOfflineStatus=None),),
        ),
        Case(
            "fields-null",
            "fields",
            "every optional field present and null (simQuestions, senderNickname, "
            "messageCode, callId, isOfflineStatus)",
            (
                msg(
                    "CHAT",
                    "TEXT",
                    "Null optional fields.",
                    "AGENT",
                    None,
                    callId=None,
                    isOfflineStatus=None,
                ),
            ),
        ),
        Case(
            "fields-absent",
            "fields",
            "only the required fields (no optional field at all)",
            (
                {
                    "from": channel_id,
                    "channel": "WEB",
                    "to": user_id,
                    "controlType": "CHAT",
                    "mediaType": "TEXT",
                    "content": "Only required fields.",
                    "timestamp": stamp,
                    "sourceType": "AGENT",
                },
            ),
        ),
        Case(
            "fields-filled",
            "fields",
            "optional fields filled (senderNickname, simQuestions, messageCode of 64 chars)",
            (
                msg(
                    "CHAT",
                    "TEXT",
                    "Did you mean one of these?",
                    "ROBOT",
                    "Robot",
                    simQuestions="How do I reset my password?",
                    messageCode="m" * 64,
                ),
            ),
        ),
        Case(
            "fields-unicode",
            "fields",
            "non-ASCII text as UTF-8 (the poll sample's 已接通座席。)",
            (msg("CHAT", "TEXT", "已接通座席。", "SYSTEM", "系统"),),
        ),
        Case(
            "fields-poll-extras",
            "fields",
            "poll-only extra fields present (contentType, mediaFileType, interIdx, "
            "robotGender, senderAvatar, queueFlag, associationContentId, receiveTime, "
            "handlerType)",
            (
                msg(
                    "CHAT",
                    "IMAGE",
                    media_content["IMAGE"],
                    "ROBOT",
                    "Robot",
                    contentType="1",
                    mediaFileType="png",
                    interIdx=1,
                    robotGender="MALE",
                    senderAvatar=None,
                    queueFlag="Y",
                    associationContentId=None,
                    receiveTime=stamp,
                    handlerType=None,
                ),
            ),
        ),
        Case(
            "batch-conversation",
            "batch",
            "a conversation in one POST: queuing, connected, greeting, every media type, "
            "read, agent disconnect",
            (
                msg("CHAT", "TEXT", "Queuing...", "SYSTEM", "SYSTEM"),
                msg("CHAT", "TEXT", "The call is connected to an agent.", "SYSTEM", "SYSTEM"),
                agent_text,
                *(
                    msg("CHAT", m, c, "AGENT", "Alice")
                    for m, c in media_content.items()
                    if m != "TEXT"
                ),
                msg("READ", None, "conformance-msg-1,conformance-msg-2", "AGENT"),
                msg("DISCONNECT", None, None, "AGENT"),
            ),
        ),
    ]
    if security:
        cases += [
            Case(
                "security-wrong-auth",
                "security",
                "wrong credentials (Bearer wrong-… / auth-v2 signed with another key) "
                "must be refused",
                (agent_text,),
                auth="wrong",
            ),
            Case(
                "security-missing-auth",
                "security",
                "no Authorization header must be refused",
                (agent_text,),
                auth="missing",
            ),
        ]
    return tuple(cases)
