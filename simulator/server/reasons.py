"""Why the simulator chose a non-zero resultCode: ``X-Aicc-Sim-Reason`` (the simulator's own
addition to the vendor's answers) and the journal's ``reason``.

The service notes the reason where it chooses the code (:func:`note`); the front door takes it
(:func:`take`) when it journals the answer. A context variable carries it, so the service
needs no request object: each request runs in its own task's context, and :func:`take`
clears it, because aiohttp serves a keep-alive connection's requests in one task.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Final

__all__ = ["HEADER", "header_value", "note", "take"]

#: The response header that carries the reason.
HEADER: Final = "X-Aicc-Sim-Reason"

_REASON: ContextVar[str | None] = ContextVar("aicc_sim_reason", default=None)


def note(reason: str | None) -> None:
    """Record why this request's answer carries a non-zero resultCode (None: nothing to say)."""
    if reason is not None:
        _REASON.set(reason)


def take() -> str | None:
    """The reason noted for this request, if any; cleared for the next request."""
    reason = _REASON.get()
    if reason is not None:
        _REASON.set(None)
    return reason


def header_value(reason: str) -> str:
    """``reason`` as a safe header value: one line, ASCII (others escaped)."""
    flat = " ".join(reason.split())
    return flat.encode("ascii", "backslashreplace").decode("ascii")
