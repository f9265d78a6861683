"""What a fired rule does to the call, over aiohttp: answer otherwise, late, slowly, broken,
not at all, or touch the caller's tokens.

The one entry point is :func:`handle`, which each row's handler (routes.py) calls only while
rules exist.
Only the calls of the route table's rows are offered to rules (not the admin API, the echo
receiver or a path the table does not have), each under its row's name. It reads the call
(body parsed, checked against the row's request schema: a call the contract refuses is left
to the simulator, which answers 400, and no rule sees it), asks the store which rule acts,
and acts. What fired is left in the request under :data:`FIRED` for the journal, the
metrics and the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import socket
import struct
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.core.faults.matcher import MISSING, CallView, resolve_pointer
from simulator.core.faults.model import Action, FaultRule
from simulator.core.faults.store import FaultStore
from simulator.server.endpoint import Route
from simulator.server.http import (
    CLOCK,
    ERROR_TEXTS,
    SETTLE,
    STORE,
    USER_ID,
    encode_json,
    error_body,
    parse_json_body,
    read_body,
    request_key,
)
from simulator.server.live_config import CONFIG
from simulator.server.token_store import MessagingToken
from simulator.server.tokens import TOKEN_HEADER, TOKENS

__all__ = ["FIRED", "handle"]

#: request-scoped key under which the fired rule's note (``{"rule", "did"}``) is left
FIRED: Any = request_key("fault_fired", dict)

#: what ``body_mode: not_json`` answers: what a proxy in the way tends to say
NOT_JSON_BODY: Final = b"<html><body><h1>502 Bad Gateway</h1>upstream said nothing</body></html>"
#: statuses HTTP answers without a body
_NO_BODY: Final = frozenset({204, 205, 304})
_TEMPLATE = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
_jitter = random.Random(0)


async def _call_view(request: web.Request, row: Route) -> tuple[CallView, bool]:
    """The call as rules see it, and whether the contract accepts its body (the row's
    request schema; a row without one takes any body)."""
    body: Any = None
    valid = True
    schema = row.request_schema
    if row.method == "GET":  # the query is the body, as the router reads it
        body = {name: request.query.getone(name) for name in request.query}
    elif request.body_exists:
        raw = await read_body(request)  # under limits.body_timeout, as the router reads it
        if row.optional_body and not raw.strip():
            body = {}  # as the router reads an empty optional body
        else:
            try:
                body = parse_json_body(raw)
            except ValueError:
                valid = False
    elif row.optional_body:
        body = {}
    if valid and schema is not None:
        valid = request.app[STORE].is_valid(schema, body)
    user_id: str | None = None
    channel: str | None = None
    if isinstance(body, Mapping):
        user_id = _str(body.get("userId") or body.get("from") or body.get("receiverId"))
        channel = _str(body.get("to") or body.get("channelId") or body.get("channelConfigId"))
    token = _messaging_token(request)
    if token is not None:
        user_id = user_id or token.user_id
        channel = channel or token.channel_id
    headers = {name.lower(): value for name, value in request.headers.items()}
    return CallView(row.name, request.method, user_id, channel, headers, body), valid


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _messaging_token(request: web.Request) -> MessagingToken | None:
    value = request.headers.get(TOKEN_HEADER)
    if not value:
        return None
    return request.app[TOKENS].store.peek(value)


def _render(template: Any, call: CallView) -> Any:
    """``template`` with ``{{userId}}``, ``{{channel}}``, ``{{endpoint}}``, ``{{method}}``
    and ``{{/json/pointer}}`` (of the request body) filled in, in every string."""
    if isinstance(template, str):
        names = {
            "userId": call.user_id,
            "channel": call.channel,
            "endpoint": call.endpoint,
            "method": call.method,
        }

        def fill(found: re.Match[str]) -> str:
            name = found.group(1)
            value = (
                resolve_pointer(call.body, name)
                if name.startswith("/")
                else names.get(name, MISSING)
            )
            if value is MISSING or value is None:
                return ""
            return value if isinstance(value, str) else encode_json(value).decode()

        return _TEMPLATE.sub(fill, template)
    if isinstance(template, list):
        return [_render(item, call) for item in template]
    if isinstance(template, dict):
        return {key: _render(value, call) for key, value in template.items()}
    return template


def _phrase(status: int) -> str:
    """The vendor's text for ``status``, else its reason phrase, else ``HTTP <status>``."""
    if status in ERROR_TEXTS:
        return ERROR_TEXTS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status without a name, such as 599
        return f"HTTP {status}"


def _answer(action: Action, call: CallView) -> web.Response:
    """The rule's own answer: its status, its (templated) body, its headers."""
    status = action.status or 200
    headers = dict(action.headers)
    if action.retry_after is not None:
        headers["Retry-After"] = str(action.retry_after)
    if status in _NO_BODY:
        return web.Response(status=status, headers=headers)
    if action.has_body and isinstance(action.body, str):
        text = _render(action.body, call)
        return web.Response(status=status, text=text, headers=headers)
    if action.has_body:
        document = _render(action.body, call)
    elif status >= 400:
        document = error_body(status, "answered by a fault rule", exception_info=_phrase(status))
    else:
        document = {"resultCode": "0", "resultDesc": "success"}
    return web.Response(
        status=status,
        body=encode_json(document),
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


class NoAnswer(web.StreamResponse):
    """What the middleware gets back when the connection was closed or reset: writes
    nothing (status 0 in the journal)."""

    def __init__(self) -> None:
        super().__init__(status=200)
        self._status = 0

    async def prepare(self, request: web.BaseRequest) -> None:
        """Nothing to send: the connection is gone."""
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        """Nothing to finish."""
        return None


def _drop_connection(request: web.Request, *, reset: bool) -> None:
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # SO_LINGER with a zero timeout turns the close into a TCP RST
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def _stream(
    request: web.Request, response: web.Response, action: Action
) -> web.StreamResponse:
    """``response`` again, its body dribbled (slow) or cut short (truncated)."""
    body = response.body if isinstance(response.body, bytes) else b""
    streamed = web.StreamResponse(status=response.status, headers=response.headers)
    streamed.content_length = len(body)
    try:
        await streamed.prepare(request)
        if action.body_mode == "truncated":
            # the headers promise every byte; half of them come, then the connection ends
            await streamed.write(body[: len(body) // 2])
            _drop_connection(request, reset=False)
            return streamed
        step = action.chunk_bytes
        for start in range(0, len(body), step):
            if start:
                await asyncio.sleep(action.interval_ms / 1000)
            await streamed.write(body[start : start + step])
    except ConnectionError:  # the caller gave up listening: nothing more to send
        pass
    return streamed


def _touch_tokens(request: web.Request, action: Action, response: web.StreamResponse) -> str:
    """Expire the caller's token, or renew its ccmessaging-token on this answer."""
    tokens = request.app[TOKENS].store
    if action.token == "expire_access":
        value = request.headers.get("Authorization", "").partition(" ")[2]
        return "" if tokens.expire(value.strip()) else " (no AccessToken to expire)"
    token = _messaging_token(request)
    if token is None:
        return " (no ccmessaging-token to act on)"
    if action.token == "expire_ccmessaging":
        tokens.expire(token.value)
        return ""
    if TOKEN_HEADER in response.headers:
        return " (already renewed by this answer)"
    ttl = request.app[CONFIG].current.tokens.ccmessaging_token_ttl
    response.headers[TOKEN_HEADER] = tokens.renew_messaging(token, ttl).value
    return ""


async def _act(
    request: web.Request, handler: Handler, rule: FaultRule, call: CallView
) -> web.StreamResponse:
    action = rule.action
    if action.delay_ms or action.jitter_ms:
        extra = _jitter.uniform(0, action.jitter_ms) if action.jitter_ms else 0.0
        # on the one clock: a virtual-time test moves past a delay without waiting for it
        await request.app[CLOCK].sleep((action.delay_ms + extra) / 1000)
    if action.connection is not None:
        _drop_connection(request, reset=action.connection == "reset")
        return NoAnswer()
    if action.answers:
        response: web.StreamResponse = _answer(action, call)
    else:
        response = await handler(request)
    suffix = ""
    if action.token is not None and response.status < 400:
        suffix = _touch_tokens(request, action, response)
    elif action.token is not None:
        suffix = f" (not done: the answer was {response.status})"
    if suffix:
        request[FIRED]["did"] += suffix
    if action.body_mode is None or not isinstance(response, web.Response):
        return response
    if action.body_mode == "not_json":
        response.body = NOT_JSON_BODY
        return response
    settle = request.app.get(SETTLE)
    if settle is not None:  # state.path: what the call changed is committed before it leaves
        await settle(request)
    return await _stream(request, response, action)


async def handle(
    request: web.Request, handler: Handler, store: FaultStore, row: Route
) -> web.StreamResponse:
    """Answer ``request`` (a call of the route table's ``row``) with ``handler``, unless a
    rule of ``store`` takes it."""
    call, valid = await _call_view(request, row)
    if not valid:
        return await handler(request)
    installed = store.pick(call)
    if installed is None:
        return await handler(request)
    rule = installed.rule
    request[FIRED] = {"rule": rule.id, "did": rule.action.describe()}
    if call.user_id is not None:
        request[USER_ID] = call.user_id
    return await _act(request, handler, rule, call)
