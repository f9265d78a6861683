"""The agent's events the console offers as buttons (the vendor's push sample, reference
§4.1): each is built by the scenario engine from a scenario, exactly as a run of it would
build it, and then injected into the live session (the admin inject path).

Four come from the library (so a ``scenario_dirs`` file of the same name changes them too):
``queuing``, ``read-receipt``, ``agent-disconnect`` and the channel's timeout scenario (by its
async switch). Two have no one-message scenario in the library and are defined here, with the
same messages as ``connected.yaml`` and ``robot-transfer.yaml``: ``connected`` and
``transfer`` (robot to agent: Trans2Agent, Queuing..., connected).
"""

from __future__ import annotations

from functools import cache
from typing import Final

from simulator.config import ChannelConfig
from simulator.core.clock import Clock
from simulator.core.errors import SimulatorError
from simulator.core.push import PlannedPush
from simulator.scenario import RunContext, Scenario, ScenarioRun, load_text
from simulator.server.library import ScenarioLibrary
from simulator.server.sessions import Session

__all__ = ["ENDS_SESSION", "EVENTS", "UnknownEvent", "event_scenario", "render"]

_CONNECTED = """
name: console-connected
description: The agent picks up (the vendor sample's "connected" entry).
steps:
  - push:
      control: CHAT
      media: TEXT
      source: SYSTEM
      nickname: SYSTEM
      content: The call is connected to an agent.
      callId: null
    state: agent
"""

_TRANSFER = """
name: console-transfer
description: A robot session moves to an agent (robot-transfer.yaml after the TRANS2AGENT).
steps:
  - push: {control: Trans2Agent, media: null, source: SYSTEM}
  - push: {control: CHAT, media: TEXT, source: SYSTEM, nickname: SYSTEM, content: Queuing...}
    state: queuing
  - push:
      control: CHAT
      media: TEXT
      source: SYSTEM
      nickname: SYSTEM
      content: The call is connected to an agent.
      callId: null
    state: agent
"""

_OWN_TEXTS: Final = {
    "connected": (_CONNECTED, "<console: connected>"),
    "transfer": (_TRANSFER, "<console: transfer>"),
    "timeout-none": (
        "name: console-timeout-none\ndescription: no timeout scenario\nsteps: []\n",
        "<console: timeout>",
    ),
}


@cache
def _own(event: str) -> Scenario:
    """One of the scenarios defined here, compiled when the console first asks for it (not
    at import: every ``serve`` imports this module, few press the buttons)."""
    text, label = _OWN_TEXTS[event]
    return load_text(text, label, shipped=True)


_LIBRARY: Final = {
    "queuing": "queuing",
    "read": "read-receipt",
    "agent-disconnect": "agent-disconnect",
}
#: every event name, in the order the console shows them
EVENTS: Final = ("queuing", "connected", "read", "transfer", "agent-disconnect", "timeout")
#: the events whose DISCONNECT ends the session (its running scenario is stopped too)
ENDS_SESSION: Final = frozenset({"agent-disconnect", "timeout"})


class UnknownEvent(SimulatorError):
    """An event name the console does not offer."""


def event_scenario(event: str, channel: ChannelConfig, library: ScenarioLibrary) -> Scenario:
    """The scenario that builds ``event``'s messages on ``channel``."""
    if event in ("connected", "transfer"):
        return _own(event)
    name = channel.timeout_scenario if event == "timeout" else _LIBRARY.get(event)
    if event == "timeout" and name is None:
        # no timeout scenario configured: the server ends such a session without a push
        return _own("timeout-none")
    if name is None:
        raise UnknownEvent(f"unknown event {event!r}; known: {', '.join(EVENTS)}")
    if name not in library:
        raise UnknownEvent(f"event {event!r} needs scenario {name!r}, which is not loaded")
    return library.get(name)


def render(
    scenario: Scenario, channel: ChannelConfig, session: Session, clock: Clock
) -> list[PlannedPush]:
    """Every push ``scenario`` makes for ``session`` (its messages and the session state
    each leads to), built by the engine without waiting: waits are skipped, the pushes keep
    their order. Times are the simulator's clock."""
    context = RunContext(
        user_id=session.user_id,
        channel_id=channel.id,
        tips=channel.tips,
        wall_ms=clock.now,
        message_ids=tuple(session.unread_ids),
    )
    run = ScenarioRun(scenario, context)
    now = clock.now() / 1000  # the engine's time, in seconds, as the conductor gives it
    advance = run.start(now)
    pushes = list(advance.pushes)
    # a later push after a wait: jump the engine's time to it (bounded: these scenarios are
    # short)
    for _ in range(100):
        if advance.finished or advance.wake_at is None:
            break
        now = max(now, advance.wake_at)
        advance = run.advance(now)
        pushes.extend(advance.pushes)
    return pushes
