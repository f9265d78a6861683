"""The compiled scenario: immutable, shared by every run of it.

A scenario's nested steps are compiled into a flat program of operations with jump targets,
so that a run's whole position is one index (plus loop counters), and ten thousand runs of
one scenario share a single program.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.core.push import AuthFault, SessionStateName
from simulator.scenario.context import Uplink
from simulator.scenario.templating import Template, Value

__all__ = [
    "BUILTIN_VARIABLES",
    "CallEventOp",
    "CustomerUplink",
    "Duration",
    "EndOp",
    "ExpectOp",
    "FaultOp",
    "FaultSpec",
    "JumpOp",
    "LoopInitOp",
    "LoopNextOp",
    "MediaFile",
    "MessageSpec",
    "Op",
    "PushOp",
    "Scenario",
    "SetOp",
    "WaitOp",
]

#: Variables every scenario can read without declaring them (see docs/scenarios.md).
BUILTIN_VARIABLES = frozenset(
    {
        "userId",
        "channelId",
        "now_ms",
        "messageCode",
        "tips",
        "messageIds",
        "lastMessage",
        "lastControlType",
        "idleTimeout",
    }
)

#: Seconds, or a template rendered (and parsed as a duration) when the step runs.
Duration = float | Template


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A file a scenario's media messages refer to; ``downloadFileStream`` serves it."""

    id: str
    file_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One DownLinkMsg to render: fields in output order, defaults already filled in."""

    fields: tuple[tuple[str, Value], ...]
    #: True when rendering reads ``messageIds`` (they are then consumed).
    reads_message_ids: bool
    #: True when rendering reads ``messageCode`` (a fresh one is drawn per message).
    reads_message_code: bool


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """The ``faults:`` of a push step, before randomness and speed are applied."""

    delay: Duration = 0.0
    jitter: Duration = 0.0
    duplicate: int = 0
    drop: bool = False
    reorder: bool = False
    auth: AuthFault = "ok"
    invalid: bool = False


@dataclass(frozen=True, slots=True)
class PushOp:
    """Render ``messages`` and emit them as one POST."""

    path: str
    messages: tuple[MessageSpec, ...]
    faults: FaultSpec
    when: Value = True
    #: the session state the push leads to (``state:``); None: inferred from its texts
    state: SessionStateName | None = None


@dataclass(frozen=True, slots=True)
class WaitOp:
    """Pause for ``seconds`` (divided by the run's speed)."""

    path: str
    seconds: Duration


@dataclass(frozen=True, slots=True)
class ExpectOp:
    """Wait for an uplink whose controlType is in ``controls``; branch by outcome."""

    path: str
    controls: frozenset[str]
    timeout: Duration | None
    #: controlType -> program index, for ``on:`` branches
    branches: tuple[tuple[str, int], ...]
    on_message: int
    on_timeout: int


@dataclass(frozen=True, slots=True)
class LoopInitOp:
    """Start a ``repeat``: set loop counter ``slot`` to ``times``, or skip to ``exit``."""

    path: str
    slot: int
    times: int
    exit: int


@dataclass(frozen=True, slots=True)
class LoopNextOp:
    """End of a ``repeat`` body: count down ``slot`` and jump back to ``body`` if not done."""

    path: str
    slot: int
    body: int


@dataclass(frozen=True, slots=True)
class SetOp:
    """Assign run variables."""

    path: str
    assignments: tuple[tuple[str, Value], ...]


@dataclass(frozen=True, slots=True)
class JumpOp:
    """Continue at ``target`` (goto, and the end of a branch)."""

    path: str
    target: int


@dataclass(frozen=True, slots=True)
class EndOp:
    """Finish the run (outcome ``completed``)."""

    path: str


@dataclass(frozen=True, slots=True)
class CustomerUplink:
    """One message of a scenario's ``customer:`` script: what ``aicc-sim replay`` sends as the
    customer ``at`` seconds (scenario time) after the start. A served run ignores it: there
    the customer is the integration."""

    at: float
    uplink: Uplink


@dataclass(frozen=True, slots=True)
class FaultOp:
    """Put an inbound fault rule in force (``fault:``); the run's customer is its default
    ``match.userId``. The server applies it (:meth:`ScenarioRun.take_faults`)."""

    path: str
    rule: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CallEventOp:
    """Emit a click-to-call event (``queuing``, ``connected``, ...) with optional content
    fields; the server queues it for getClickToCallEvents."""

    path: str
    event: str
    fields: tuple[tuple[str, Value], ...]


Op = (
    PushOp | WaitOp | ExpectOp | LoopInitOp | LoopNextOp | SetOp | JumpOp | EndOp | FaultOp
    | CallEventOp
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A loaded, checked scenario. Immutable and shared by all of its runs."""

    name: str
    description: str
    #: declared variables with their defaults
    vars: Mapping[str, Any]
    #: resource id -> file, for downloadFileStream
    media: Mapping[str, MediaFile]
    #: how the server answers the CONNECT that started this scenario; None = success
    connect_result: Mapping[str, str] | None
    program: tuple[Op, ...]
    #: number of loop counters a run needs
    loop_slots: int
    #: where it was loaded from, and its YAML text (for ``scenarios show``)
    path: str
    source: str
    #: the customer a replay plays when none is scripted on its command line (``customer:``),
    #: in time order
    customer: tuple[CustomerUplink, ...] = ()

    @property
    def variables(self) -> frozenset[str]:
        """Every name a run may set through its ``vars``."""
        return frozenset(self.vars)
