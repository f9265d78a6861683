"""What an emulated endpoint is: its row in the route table (:class:`Route`), the auth it
needs (:class:`Auth`) and what its handler is given (:class:`Call`).

The router (:mod:`simulator.server.routes`) does the common part of every call once, in
the order the vendor's gateway does: credentials, then the body against its schema; the
handler gets the checked :class:`Call` and only decides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from aiohttp import web

from simulator.server.token_store import AccessToken, MessagingToken

__all__ = ["Auth", "Call", "EndpointHandler", "Route"]


class Auth(StrEnum):
    """The credentials an endpoint needs (reference §1.2, §2)."""

    NONE = "none"
    ACCESS = "AccessToken"
    SESSION = "AccessToken + ccmessaging-token"
    #: queryQueueInfo: the vendor marks its headers optional; any of them sent, all checked
    SESSION_IF_SENT = "AccessToken + ccmessaging-token, if sent"


class Call(NamedTuple):
    """One checked call: the validated body (the query for a GET), and the caller's tokens
    (None where the endpoint's auth does not ask for them)."""

    body: Any
    access: AccessToken | None
    token: MessagingToken | None


EndpointHandler = Callable[[web.Request, Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    """One row of the route table: everything the router, the OpenAPI document and the
    docs' endpoint table say about an endpoint."""

    method: str
    path: str
    auth: Auth
    request_schema: str | None
    response_schema: str | None
    handler: EndpointHandler
    summary: str
    tag: str
    #: in the OpenAPI document (the ``fileUrl`` link is a browser link, not an API call)
    openapi: bool = True
    #: an empty body is ``{}`` (an endpoint whose body the vendor added later)
    optional_body: bool = False
