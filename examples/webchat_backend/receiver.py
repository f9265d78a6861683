"""The push receiver: AICC posts ``{"timestamp", "messages": [DownLinkMsg]}`` here.

OAuth mode (``POST {callback_url}``): AICC sends ``x-app-key`` and ``Authorization: Bearer
<AccessToken>``. The backend checks the app key and that a Bearer token is there; it cannot
check the token's value, which AICC issued to itself (nor can it against the simulator).

Signature mode (``POST {callback_url}/webhooks/v1/messages``): the ``auth-v2`` header is
verified with the shared message push key (:func:`simulator.core.signing.verify`, the
simulator's documented scheme; the vendor does not publish its algorithm).

A push is accepted with HTTP 200 and ``{"resultCode": "0", "resultDesc": "success."}``;
anything else makes AICC count the attempt as failed.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from simulator.core import signing
from simulator.core.errors import SignatureError
from webchat_backend.conversations import ConversationStore
from webchat_backend.settings import Settings

__all__ = ["ACCEPTED", "check_oauth", "handle_push"]

ACCEPTED = {"resultCode": "0", "resultDesc": "success."}


def _refuse(status: int, why: str) -> web.Response:
    return web.json_response({"resultCode": "1", "resultDesc": why}, status=status)


def check_oauth(headers: Any, app_key: str) -> str | None:
    """Why an OAuth-mode push's headers are refused, or ``None`` when they pass."""
    if headers.get("x-app-key") != app_key:
        return "x-app-key is missing or not ours"
    scheme, _, token = str(headers.get("Authorization", "")).partition(" ")
    if scheme != "Bearer" or not token.strip():
        return "Authorization: Bearer <token> is missing"
    return None


async def handle_push(
    request: web.Request, settings: Settings, store: ConversationStore
) -> web.Response:
    """Check the push's authentication, file its messages, acknowledge it."""
    raw = await request.read()  # the exact bytes: the signature covers them
    if settings.push_mode == "signature":
        assert settings.push_key is not None  # Settings refuses signature mode without one
        try:
            signing.verify(
                request.headers.get("Authorization"),
                method=request.method,
                path=request.raw_path,
                headers=request.headers,
                body=raw,
                push_key=settings.push_key,
            )
        except SignatureError as exc:
            return _refuse(401, f"signature check failed: {exc.code}")
    else:
        why = check_oauth(request.headers, settings.app_key)
        if why is not None:
            return _refuse(401, why)
    try:
        body = json.loads(raw)
    except ValueError:
        return _refuse(400, "the push body is not JSON")
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return _refuse(400, "the push body has no list of messages")
    store.apply(messages)
    return web.json_response(ACCEPTED)
