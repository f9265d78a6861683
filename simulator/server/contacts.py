"""What a customer's chat has been so far, as the satisfaction and click-to-call services
need it: did it reach an agent, a robot, is it still live.

A narrow read of :class:`~simulator.server.sessions.SessionStore` so that those services
depend on a function, not on the session bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from simulator.server.sessions import SessionState, SessionStore

__all__ = ["Contact", "ContactLookup", "contact_lookup"]

#: system texts that say the customer reached an agent (as sessions.py reads them)
_CONNECTED_TEXTS = frozenset({"The call is connected to an agent.", "已接通座席。"})


@dataclass(frozen=True, slots=True)
class Contact:
    """One customer's latest chat on one channel."""

    channel_id: str
    user_id: str
    #: the chat reached a human agent at some point
    agent: bool
    #: a robot took part (a robot channel, or a ROBOT message was sent)
    robot: bool
    #: the chat has not ended
    active: bool
    #: epoch ms the chat started (identifies the call a rating is for)
    started_ms: int
    #: the scenario run playing the chat, if any
    run_id: str | None


#: (channel id, userId) -> the customer's latest chat, if any
ContactLookup = Callable[[str, str], Contact | None]


def contact_lookup(sessions: SessionStore, robot_channels: frozenset[str]) -> ContactLookup:
    """A :data:`ContactLookup` over ``sessions``; a chat on one of ``robot_channels`` starts
    with a robot (an ended session no longer says so itself)."""

    def lookup(channel_id: str, user_id: str) -> Contact | None:
        session = sessions.get(channel_id, user_id)
        if session is None:
            return None
        agent = session.state is SessionState.AGENT
        robot = session.state is SessionState.ROBOT or session.channel_id in robot_channels
        for _, message, from_customer, _ in session.history:
            if from_customer:
                continue
            source = message.get("sourceType")
            if source == "AGENT" or (
                source == "SYSTEM" and message.get("content") in _CONNECTED_TEXTS
            ):
                agent = True
            elif source == "ROBOT":
                robot = True
        return Contact(
            channel_id=session.channel_id,
            user_id=session.user_id,
            agent=agent,
            robot=robot,
            active=session.active,
            started_ms=session.created_ms,
            run_id=session.run_id,
        )

    return lookup
