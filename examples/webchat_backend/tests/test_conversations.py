"""The backend's conversation bookkeeping (pure, table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from webchat_backend.conversations import Conversation, ConversationStore, CustomerMessage


def _msg(control: str, source: str, content: Any = None, **extra: Any) -> dict[str, Any]:
    return {"to": "c1", "controlType": control, "sourceType": source, "content": content, **extra}


QUEUING = _msg("CHAT", "SYSTEM", "Queuing...")
CONNECTED = _msg("CHAT", "SYSTEM", "The call is connected to an agent.")
GREETING = _msg("CHAT", "AGENT", "Hello")


@pytest.mark.parametrize(
    ("pushes", "state", "ended_by", "offline"),
    [
        ([QUEUING], "queuing", None, False),
        ([QUEUING, CONNECTED], "connected", None, False),
        ([_msg("CHAT", "SYSTEM", "已接通座席。")], "connected", None, False),
        ([QUEUING, GREETING], "connected", None, False),
        ([CONNECTED, _msg("DISCONNECT", "AGENT")], "ended", "agent", False),
        ([CONNECTED, _msg("DISCONNECT", "SYSTEM")], "ended", "timeout", False),
        (
            [CONNECTED, _msg("DISCONNECT", "SYSTEM", "{TIPS}", isOfflineStatus=True)],
            "ended",
            "timeout",
            True,
        ),
        ([_msg("DISCONNECT", "AGENT"), GREETING], "ended", "agent", False),
    ],
)
def test_state_follows_the_pushes(
    pushes: list[dict[str, Any]], state: str, ended_by: str | None, offline: bool
) -> None:
    conversation = Conversation("c1", "Ann")
    for push in pushes:
        conversation.apply(push)
    assert (conversation.state, conversation.ended_by, conversation.offline_allowed) == (
        state,
        ended_by,
        offline,
    )


def test_a_read_receipt_marks_the_listed_messages_read() -> None:
    conversation = Conversation("c1", "Ann", sent=[CustomerMessage(i, i) for i in ("a", "b", "c")])
    conversation.apply(_msg("READ", "AGENT", "a, c"))
    assert [m.read for m in conversation.sent] == [True, False, True]


def test_the_store_files_pushes_by_customer_and_opens_unknown_ones() -> None:
    store = ConversationStore()
    store.open("c1", "Ann")
    store.apply([QUEUING, {**GREETING, "to": "c2"}])
    first, second = store.get("c1"), store.get("c2")
    assert first is not None and first.state == "queuing"
    assert second is not None and second.agent_texts() == ["Hello"]
