"""Each customer's conversation as the backend sees it: what AICC pushed, what the customer
sent and whether the agent has read it. Pure bookkeeping, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Conversation", "ConversationStore", "CustomerMessage", "State"]

State = Literal["new", "connecting", "refused", "queuing", "connected", "ended"]
EndedBy = Literal["customer", "agent", "timeout"]

#: The SYSTEM texts by which AICC says where the customer stands (the vendor's push sample).
QUEUING_TEXTS = frozenset({"Queuing..."})
CONNECTED_TEXTS = frozenset({"The call is connected to an agent.", "已接通座席。"})


@dataclass(slots=True)
class CustomerMessage:
    """A CHAT the customer sent, and whether the agent has read it (a READ push)."""

    message_id: str
    text: str
    read: bool = False


@dataclass(slots=True)
class Conversation:
    """One customer's conversation with AICC."""

    customer_id: str
    user_name: str
    state: State = "new"
    ended_by: EndedBy | None = None
    offline_allowed: bool = False
    """``isOfflineStatus`` of a timeout DISCONNECT: the customer may leave offline messages."""
    offline_tips: str | None = None
    downlinks: list[dict[str, Any]] = field(default_factory=list)
    """Every DownLinkMsg AICC pushed for this customer, in arrival order."""
    sent: list[CustomerMessage] = field(default_factory=list)

    def apply(self, message: Mapping[str, Any]) -> None:
        """Follow one pushed DownLinkMsg."""
        self.downlinks.append(dict(message))
        control = message.get("controlType")
        source = message.get("sourceType")
        content = message.get("content")
        if control == "DISCONNECT":
            self.state = "ended"
            if source == "SYSTEM":  # AICC ended it: the customer was idle too long
                self.ended_by = "timeout"
                self.offline_allowed = message.get("isOfflineStatus") is True
                self.offline_tips = content if self.offline_allowed else None
            else:
                self.ended_by = "agent"
        elif control == "READ":
            read = {part.strip() for part in str(content or "").split(",")}
            for sent in self.sent:
                if sent.message_id in read:
                    sent.read = True
        elif control == "CHAT" and self.state != "ended":
            if source == "SYSTEM" and content in QUEUING_TEXTS:
                self.state = "queuing"
            elif (source == "SYSTEM" and content in CONNECTED_TEXTS) or source in (
                "AGENT",
                "ROBOT",
            ):
                self.state = "connected"

    def agent_texts(self) -> list[str]:
        """What agents and robots said, in order (for the chat widget)."""
        return [
            str(m.get("content"))
            for m in self.downlinks
            if m.get("controlType") == "CHAT" and m.get("sourceType") in ("AGENT", "ROBOT")
        ]

    def to_json(self) -> dict[str, Any]:
        """The view the chat widget polls."""
        return {
            "customerId": self.customer_id,
            "state": self.state,
            "endedBy": self.ended_by,
            "offlineAllowed": self.offline_allowed,
            "offlineTips": self.offline_tips,
            "agentMessages": self.agent_texts(),
            "sent": [
                {"messageId": s.message_id, "text": s.text, "read": s.read} for s in self.sent
            ],
            "downlinks": list(self.downlinks),
        }


class ConversationStore:
    """Conversations by customer id (AICC's ``userId``, the pushes' ``to``)."""

    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}

    def get(self, customer_id: str) -> Conversation | None:
        """The customer's conversation, if any."""
        return self._conversations.get(customer_id)

    def open(self, customer_id: str, user_name: str) -> Conversation:
        """A new conversation for the customer (replacing an ended one)."""
        found = self._conversations.get(customer_id)
        if found is None or found.state in ("ended", "refused"):
            found = Conversation(customer_id, user_name)
            self._conversations[customer_id] = found
        return found

    def apply(self, messages: Iterable[Mapping[str, Any]]) -> None:
        """File pushed messages under their customers (``to``); a push for a customer this
        backend never saw (e.g. a run started from AICC's side) opens a conversation."""
        for message in messages:
            customer = str(message.get("to"))
            conversation = self._conversations.get(customer)
            if conversation is None:
                conversation = self.open(customer, customer)
            conversation.apply(message)

    def __iter__(self) -> Iterator[Conversation]:
        return iter(list(self._conversations.values()))
