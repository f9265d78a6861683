"""Did the code under test keep the contract? Pure: judges journal entries (admin API JSON).

Two kinds of breach, like pytest-httpserver's ``check_assertions()`` or respx's strict mode:

- a request the contract refused: an entry of the request journal with ``violations`` > 0
  (a body against its schema, an unknown path, a wrong method, missing or unknown
  credentials; an expired token is not one, and neither is an answer a fault rule gave);
- a push the receiver refused when no fault asked for it: a delivery attempt whose verdict
  is ``rejected``, ``http-error``, ``connection-error`` or ``timeout`` while the push was
  sent as the contract says (no ``auth`` or ``invalid`` push fault, not invalid by design).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from simulator.testing.client import describe_delivery, describe_request

__all__ = ["REFUSED_VERDICTS", "breaches", "refused_push", "refused_request", "report"]

#: the delivery verdicts of a push the receiver did not take
REFUSED_VERDICTS: Final = frozenset({"rejected", "http-error", "connection-error", "timeout"})


def refused_request(entry: Mapping[str, Any]) -> bool:
    """True when the contract refused this request journal entry."""
    return bool(entry.get("violations")) and not entry.get("fault")


def _asked_for(entry: Mapping[str, Any]) -> bool:
    faults = entry.get("faults")
    if entry.get("invalidByDesign"):
        return True
    return isinstance(faults, Mapping) and (
        faults.get("auth", "ok") != "ok" or bool(faults.get("invalid"))
    )


def refused_push(entry: Mapping[str, Any]) -> bool:
    """True when the receiver refused a push sent by the contract (no fault asked for it)."""
    return entry.get("verdict") in REFUSED_VERDICTS and not _asked_for(entry)


def breaches(
    requests: Iterable[Mapping[str, Any]], deliveries: Iterable[Mapping[str, Any]]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The refused requests and the refused pushes among the entries."""
    return [e for e in requests if refused_request(e)], [e for e in deliveries if refused_push(e)]


def _request_line(entry: Mapping[str, Any]) -> str:
    line = describe_request(entry)
    response = entry.get("response")
    if isinstance(response, Mapping):
        for violation in response.get("violations", ())[:5]:
            line += f"\n      {violation.get('pointer') or '(body)'}: {violation.get('message')}"
        if not response.get("violations") and response.get("detail"):
            line += f"\n      {response['detail']}"
    return line


def _push_line(entry: Mapping[str, Any]) -> str:
    line = describe_delivery(entry)
    line += f" -> {entry.get('url')} status {entry.get('responseStatus')}"
    if entry.get("error"):
        line += f"\n      {entry['error']}"
    elif entry.get("responseBody"):
        line += f"\n      answered {str(entry['responseBody'])[:200]!r}"
    return line


def report(
    requests: list[Mapping[str, Any]], pushes: list[Mapping[str, Any]], *, hint: str = ""
) -> str:
    """The failure message: every breach with its journal entry, then ``hint``."""
    parts: list[str] = []
    if requests:
        lines = "\n  ".join(_request_line(e) for e in requests)
        parts.append(f"{len(requests)} request(s) the AICC contract refused:\n  {lines}")
    if pushes:
        lines = "\n  ".join(_push_line(e) for e in pushes)
        parts.append(f"{len(pushes)} push(es) the receiver refused, no fault asked:\n  {lines}")
    if hint:
        parts.append(hint)
    return "\n".join(parts)
