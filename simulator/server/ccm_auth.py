"""What every customer-side ccmessaging handler starts with: the caller's tokens, and the
body or query checked against its schema (shared by the capability route modules)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator.core.errors import ValidationFailed, Violation
from simulator.server import keys
from simulator.server.http import RAW_BODY, USER_ID, parse_json_body
from simulator.server.tokens import MessagingToken

__all__ = ["TOKEN_HEADER", "optional_json", "query_of", "session_token"]

TOKEN_HEADER = "ccmessaging-token"


def session_token(request: web.Request) -> tuple[MessagingToken, dict[str, str]]:
    """The caller's checked ccmessaging-token (x-app-key and the Bearer AccessToken checked
    first), and the response header that renews an expired one, if any (reference §2.2)."""
    aicc = request.app[keys.AICC]
    access = aicc.tokens.check_access(
        request.headers.get("Authorization"), request.headers.get("x-app-key")
    )
    token, renewed = aicc.messaging_token(request.headers.get(TOKEN_HEADER), access)
    request[USER_ID] = token.user_id
    return token, ({TOKEN_HEADER: renewed} if renewed else {})


async def optional_json(request: web.Request, schema: str) -> Any:
    """The JSON body checked against ``schema``; an empty body (only whitespace) is ``{}``,
    for endpoints whose body the vendor added later (getsatisfactionsurveymode)."""
    raw = await request.read()
    request[RAW_BODY] = raw
    if not raw.strip():
        document: Any = {}
    else:
        try:
            document = parse_json_body(raw)
        except ValueError as exc:
            raise ValidationFailed(schema, [Violation("", str(exc))]) from None
    request.app[keys.AICC].store.check(schema, document)
    return document


def query_of(request: web.Request, schema: str) -> dict[str, str]:
    """The query string as a mapping (first value of each name) checked against ``schema``."""
    query = {name: request.query.getone(name) for name in request.query}
    request.app[keys.AICC].store.check(schema, query)
    return query
