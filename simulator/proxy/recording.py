"""One entry of the proxy's recording journal: a call forwarded to the tenant, or a push the
tenant made and the proxy relayed. Bodies are kept with their secret fields masked
(:func:`~simulator.core.redaction.mask_document`); headers are not kept at all (they carry
the AccessToken, the ccmessaging-token and the push signature)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ProxyRecord"]


@dataclass(frozen=True, slots=True)
class ProxyRecord:
    """What passed through the proxy once."""

    kind: Literal["call", "push"]
    at: int
    """When it arrived (epoch ms)."""
    method: str
    path: str
    status: int | None
    """The tenant's answer (a call), the integration's answer (a push; None if none)."""
    user: str | None
    """The customer it is about (``from`` of an uplink, ``to`` of a push's first message)."""
    request: Any
    """The integration's request body (a call) or the tenant's push body, secrets masked."""
    response: Any
    """The tenant's answer (a call) or the relay's verdict (a push), secrets masked."""
    latency_ms: float

    def to_json(self) -> dict[str, Any]:
        """The journal's JSON form."""
        return {
            "kind": self.kind,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "user": self.user,
            "request": self.request,
            "response": self.response,
            "latencyMs": self.latency_ms,
        }
