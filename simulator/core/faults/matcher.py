"""Does a call meet a rule's conditions? Pure, no I/O (in the spirit of respx's patterns).

A call is seen as a :class:`CallView`: the operation name, the method, who calls on which
channel, its headers and its parsed body. The counting conditions (the Nth call, calls
N..M, a probability) are the store's business: they depend on what came before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from simulator.core.faults.model import Match

__all__ = ["MISSING", "CallView", "matches", "resolve_pointer"]


class _Missing:
    """What a JSON pointer that leads nowhere resolves to (never equal to a JSON value)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class CallView(NamedTuple):
    """What a rule can see of one incoming call."""

    endpoint: str
    method: str
    user_id: str | None
    channel: str | None
    #: header name (lower case) -> value
    headers: Mapping[str, str]
    #: the parsed JSON body (or the query parameters of a GET); None when there is none
    body: Any


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at ``pointer`` (RFC 6901) in ``document``, or :data:`MISSING`."""
    if pointer == "":
        return document
    node = document
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            if token not in node:
                return MISSING
            node = node[token]
        elif isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                return MISSING
            node = node[int(token)]
        else:
            return MISSING
    return node


def _equal(found: Any, wanted: Any) -> bool:
    # JSON equality: 1 == 1.0 but True is not 1
    if isinstance(found, bool) or isinstance(wanted, bool):
        return type(found) is type(wanted) and found == wanted
    return bool(found == wanted)


def matches(match: Match, call: CallView) -> bool:
    """True when ``call`` meets every condition of ``match`` except the counting ones."""
    if match.endpoints is not None and call.endpoint not in match.endpoints:
        return False
    if match.method is not None and call.method != match.method:
        return False
    if match.user_id is not None and call.user_id != match.user_id:
        return False
    if match.channel is not None and call.channel != match.channel:
        return False
    for name, value in match.headers:
        if call.headers.get(name) != value:
            return False
    body = call.body
    if match.control_type is not None and (
        not isinstance(body, Mapping) or body.get("controlType") != match.control_type
    ):
        return False
    if match.media_type is not None and (
        not isinstance(body, Mapping) or body.get("mediaType") != match.media_type
    ):
        return False
    return all(_equal(resolve_pointer(body, p), v) for p, v in match.body)
