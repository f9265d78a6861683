"""Shared vocabulary of a push: where it goes, how it is signed, which faults it carries.

Pure data, no I/O. The scenario engine produces :class:`PlannedPush` values; the delivery
worker turns them into HTTP attempts described by :class:`AttemptRecord`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

__all__ = [
    "NO_FAULTS",
    "AuthFault",
    "PlannedPush",
    "PushFaults",
    "PushMode",
    "PushTarget",
    "RetryPolicy",
    "SessionStateName",
]

PushMode = Literal["oauth", "signature"]
#: "ok" sends the right header; "wrong" a header that must be refused; "missing" none.
AuthFault = Literal["ok", "wrong", "missing"]


@dataclass(frozen=True, slots=True)
class PushFaults:
    """Deliberate misbehaviour for one push (all off by default).

    ``delay`` (seconds, already scaled by the run's speed) is applied before the first
    attempt; ``duplicate`` extra identical POSTs follow the first; ``drop`` journals the push
    as dropped and sends nothing; ``invalid`` skips outbound validation (the journal marks
    it); ``auth`` replaces the auth header. Reordering is done by the engine, which emits
    pushes in the swapped order, so it has no flag here.
    """

    delay: float = 0.0
    duplicate: int = 0
    drop: bool = False
    invalid: bool = False
    auth: AuthFault = "ok"

    @property
    def any(self) -> bool:
        """True when at least one fault is set (differs from the default)."""
        # Field by field, not ``self != PushFaults()``: it is asked on every push, and the
        # dataclass __eq__ builds two tuples.
        return bool(
            self.delay != 0.0 or self.duplicate or self.drop or self.invalid or self.auth != "ok"
        )


#: no deliberate misbehaviour: the faults of every ordinary push, one shared value
NO_FAULTS = PushFaults()

#: the session states a push step may name (``state:``)
SessionStateName = Literal["queuing", "agent", "robot", "ended"]


class PlannedPush(NamedTuple):
    """One POST the engine wants sent: the DownLinkMsg objects of its ``messages`` list.

    A NamedTuple, not a frozen dataclass: one is made for every push, and a frozen
    dataclass's ``__init__`` costs an ``object.__setattr__`` per field (docs/performance.md,
    fifth pass)."""

    messages: tuple[dict[str, Any], ...]
    #: the default is one shared value (PushFaults is frozen)
    faults: PushFaults = NO_FAULTS
    #: where in the scenario it came from, for the journal, e.g. "steps[2]"
    step: str = ""
    #: the session state the push leads to, as the scenario step says (``queuing``,
    #: ``agent``, ``robot``, ``ended``); None: inferred from the messages (the fallback)
    state: SessionStateName | None = None
    #: a click-to-call event (``{"event": "connected", ...}``) instead of messages: it goes
    #: to getClickToCallEvents, not to the push receiver or the poll queue
    call_event: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PushTarget:
    """Where and how one channel's pushes are delivered."""

    url: str
    """Final URL: oauth mode posts to the callback URL as is; signature mode to
    ``{callback_url}/webhooks/v1/messages`` (use :meth:`for_channel`)."""
    mode: PushMode = "oauth"
    app_key: str = ""
    """Sent as ``x-app-key`` in oauth mode."""
    bearer_token: str = ""
    """Sent as ``Authorization: Bearer …`` in oauth mode."""
    push_key: str = ""
    """Signature mode: the 43-character message push key (HMAC secret)."""
    access_key: str = ""
    """Signature mode: the ``{accessKey}`` part of the auth-v2 header."""
    tls: ssl.SSLContext | None = field(default=None, compare=False, repr=False)
    """For an ``https://`` URL: the client context (CA bundle, client certificate);
    None = the system's trust store, no client certificate."""

    @staticmethod
    def webhook_url(callback_url: str, mode: PushMode) -> str:
        """The URL AICC posts to for a channel's configured callback URL."""
        if mode == "signature":
            return callback_url.rstrip("/") + "/webhooks/v1/messages"
        return callback_url


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard delivery tries. Defaults are the simulator's choice (the vendor documents
    no retry behaviour): 3 attempts, 5 s per attempt, backoff 0.2 s doubling up to 5 s,
    at most 1000 pushes waiting per conversation."""

    attempts: int = 3
    timeout: float = 5.0
    backoff_initial: float = 0.2
    backoff_factor: float = 2.0
    backoff_max: float = 5.0
    max_backlog: int = 1000
    """The most pushes that may wait for one conversation, the one in flight not counted;
    a push submitted to a full conversation is not queued but recorded as ``dropped``."""
    max_connections_per_host: int = 100
    """Connections open at once to one receiver host, so that a slow host cannot take the
    connections of the others (pushes to it wait for one of its own)."""

    def backoff(self, failed_attempts: int) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure (1-based)."""
        delay = self.backoff_initial * self.backoff_factor ** (failed_attempts - 1)
        return float(min(delay, self.backoff_max))
