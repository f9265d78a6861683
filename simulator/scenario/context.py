"""What a scenario run is given (:class:`RunContext`, :class:`Uplink`) and what each engine
call gives back (:class:`Advance`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from simulator.core.clock import epoch_ms
from simulator.core.push import PlannedPush

__all__ = ["Advance", "ExpectTimeout", "RunContext", "Uplink"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RunContext:
    """Who a run talks to and how: the customer's session, speed, randomness, clock."""

    user_id: str
    channel_id: str
    #: 2.0 plays every wait, timeout and fault delay twice as fast
    speed: float = 1.0
    #: the offline tips text of a timeout DISCONNECT with the async switch on
    tips: str = "{TIPS}"
    #: overrides of the scenario's declared ``vars``
    vars: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    #: seeds jitter and messageCode; None draws from a process-wide generator
    seed: int | None = None
    #: epoch milliseconds for DownLinkMsg timestamps
    wall_ms: Callable[[], int] = epoch_ms
    #: messageIds the customer sent before the run started and nobody has read yet
    message_ids: tuple[str, ...] = ()
    #: content of the customer's last CHAT before the run started (initial ``lastMessage``)
    last_message: str | None = None
    #: the channel's idle timeout in seconds (variable ``idleTimeout``); short by default so
    #: that a CLI replay of an on-connect scenario ends quickly without a customer
    idle_timeout: float = 2.0


@dataclass(frozen=True, slots=True)
class Uplink:
    """A customer's message as the engine sees it."""

    control_type: str
    media_type: str | None = None
    content: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class ExpectTimeout:
    """An ``expect`` step whose timeout ran out before the customer sent what it waits for."""

    #: the step, e.g. ``steps[4]``
    path: str
    #: the uplink controlTypes it waited for, sorted
    controls: tuple[str, ...]
    #: the driver's clock (seconds) when the timeout ran out
    at: float


@dataclass(frozen=True, slots=True)
class Advance:
    """What one engine call produced."""

    #: pushes due now, in order
    pushes: tuple[PlannedPush, ...]
    #: monotonic seconds at which to call advance() again; None = only an uplink can move it
    wake_at: float | None
    finished: bool
    #: expect steps that timed out during this call, in order (before the pushes of their
    #: on_timeout branches)
    timeouts: tuple[ExpectTimeout, ...] = ()
