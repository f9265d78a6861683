"""What an emulated endpoint is: its row in the route table (:class:`Route`), the auth it
needs (:class:`Auth`) and what its handler is given (:class:`Call`).

The router (:mod:`simulator.server.routes`) does the common part of every call once, in
the order the vendor's gateway does: credentials, then the body against its schema; the
handler gets the checked :class:`Call` and only decides. Where the vendor documents codes
for bad parameters, the row's :class:`VendorCodes` say how a violation is answered in the
body instead of with HTTP 400 (unless ``contract.strict``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from aiohttp import web

from simulator.core.errors import IdentityMismatch, ValidationFailed
from simulator.server.http import Outcome
from simulator.server.token_store import AccessToken, MessagingToken

__all__ = ["Auth", "Call", "EndpointHandler", "Route", "VendorCodes"]


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


def _member(pointer: str) -> str:
    """The top-level member a violation's JSON pointer is about ("" for the root)."""
    return pointer[1:].split("/", 1)[0].replace("~1", "/").replace("~0", "~")


@dataclass(frozen=True, slots=True)
class VendorCodes:
    """The codes an endpoint's page documents for bad parameters, and which violation each
    answers. With ``contract.strict`` off, a request that breaks the endpoint's schema (or
    names another customer than its ccmessaging-token's) is answered 200 with the vendor's
    code and text in the body and the simulator's ``violations`` beside them.

    The first of these that applies answers: ``identity`` for an
    :class:`~simulator.core.errors.IdentityMismatch`; the first ``missing`` member that is
    absent, null or empty; the first ``wrong`` member a violation points at; ``otherwise``.
    """

    #: the body's code member(s): ``resultCode``; uploadFileStream answers two spellings
    code_fields: tuple[str, ...]
    otherwise: Outcome
    missing: tuple[tuple[str, Outcome], ...] = ()
    wrong: tuple[tuple[str, Outcome], ...] = ()
    identity: Outcome | None = None

    def outcome(self, body: Any, exc: ValidationFailed) -> Outcome:
        """The vendor's answer to ``body`` refused with ``exc``."""
        if isinstance(exc, IdentityMismatch) and self.identity is not None:
            return self.identity
        members = body if isinstance(body, dict) else {}
        for name, outcome in self.missing:
            if members.get(name) is None or members.get(name) == "":
                return outcome
        pointed = {_member(v.pointer) for v in exc.violations}
        for name, outcome in self.wrong:
            if name in pointed:
                return outcome
        return self.otherwise

    def answer(self, body: Any, exc: ValidationFailed) -> dict[str, Any]:
        """The whole body: the vendor's code member(s) and ``resultDesc``, then the
        simulator's ``violations`` (JSON pointer + message, as a 400 lists them)."""
        outcome = self.outcome(body, exc)
        answer: dict[str, Any] = dict.fromkeys(self.code_fields, outcome.code)
        answer["resultDesc"] = outcome.desc
        answer["violations"] = [
            {"pointer": v.pointer, "message": v.message} for v in exc.violations
        ]
        return answer


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
    #: how a bad request is answered in the body where the vendor documents codes
    #: (None: HTTP 400, as always in ``contract.strict``)
    vendor_codes: VendorCodes | None = None

    @property
    def name(self) -> str:
        """The operation's name, as fault rules match it: the last segment of the path that
        is not a placeholder (the vendor's operation name: ``send``, ``applyToken``...)."""
        segments = [s for s in self.path.split("/") if s and not s.startswith("{")]
        return segments[-1].strip("_") if segments else ""
