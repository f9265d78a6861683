"""The backend's HTTP application: the chat widget's API and AICC's push receiver.

Widget API (what a browser calls; JSON):

- ``POST /chat/{customerId}/connect`` ``{"name"?}``: applyToken + send CONNECT
- ``POST /chat/{customerId}/messages`` ``{"text", "messageId"?}``: send CHAT
- ``GET /chat/{customerId}/suggestions?q=&locale=``: queryPhraseByKeyword
- ``GET /chat/{customerId}/survey?language=``: getsatisfactionsurveymode
- ``POST /chat/{customerId}/rating`` ``{"evaluation", "comment"?}``: saveSatisfaction
- ``POST /chat/{customerId}/disconnect``: send DISCONNECT
- ``GET /chat/{customerId}``: the conversation (state, agent messages, read receipts)

AICC's side: ``POST /aicc`` (OAuth mode) and ``POST /aicc/webhooks/v1/messages`` (signature
mode), so the callback URL to configure in AICC is ``http://<this host>:<port>/aicc``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from webchat_backend.aicc import AiccApiError, AiccClient, SendResult
from webchat_backend.conversations import ConversationStore, CustomerMessage
from webchat_backend.receiver import handle_push
from webchat_backend.settings import Settings

__all__ = ["AICC_CLIENT", "CALLBACK_PATH", "SETTINGS", "STORE", "create_app"]

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", ConversationStore)
AICC_CLIENT = web.AppKey("aicc_client", AiccClient)

#: The callback URL path (OAuth mode); signature mode appends ``/webhooks/v1/messages``.
CALLBACK_PATH = "/aicc"

routes = web.RouteTableDef()


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "the body is not JSON"}), content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "the body must be a JSON object"}),
            content_type="application/json",
        )
    return body


def _answer(result: SendResult, **extra: Any) -> web.Response:
    return web.json_response(
        {"resultCode": result.result_code, "resultDesc": result.result_desc, **extra}
    )


@web.middleware
async def _aicc_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except AiccApiError as exc:  # AICC unreachable or refusing us: the widget gets a 502
        return web.json_response({"error": str(exc)}, status=502)
    return response


@routes.post("/chat/{customer}/connect")
async def connect(request: web.Request) -> web.Response:
    """Start a conversation: applyToken, then send CONNECT."""
    customer = request.match_info["customer"]
    body = await _body(request)
    name = str(body.get("name") or customer)
    conversation = request.app[STORE].open(customer, name)
    result = await request.app[AICC_CLIENT].send(customer, name, "CONNECT")
    if result.ok:
        if conversation.state == "new":  # a push may already have moved it on
            conversation.state = "connecting"
    else:  # 12: outside working hours, 13: no agent side available
        conversation.state = "refused"
    return _answer(result, conversation=conversation.to_json())


@routes.post("/chat/{customer}/messages")
async def chat(request: web.Request) -> web.Response:
    """Relay a customer's text (send CHAT) with a messageId, for read receipts."""
    customer = request.match_info["customer"]
    conversation = request.app[STORE].get(customer)
    if conversation is None or conversation.state in ("new", "refused", "ended"):
        return web.json_response({"error": "no open conversation"}, status=409)
    body = await _body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text:
        return web.json_response({"error": "text is required"}, status=400)
    message_id = str(body.get("messageId") or uuid.uuid4().hex)  # ≤ 32 chars, no comma
    result = await request.app[AICC_CLIENT].send(
        customer, conversation.user_name, "CHAT", content=text, message_id=message_id
    )
    if result.ok:
        conversation.sent.append(CustomerMessage(message_id, text))
    return _answer(result, messageId=message_id)


def _open(request: web.Request) -> tuple[str, str]:
    """The customer id and name of an existing conversation (404 otherwise)."""
    customer = request.match_info["customer"]
    conversation = request.app[STORE].get(customer)
    if conversation is None:
        raise web.HTTPNotFound(
            text=json.dumps({"error": "no conversation"}), content_type="application/json"
        )
    return customer, conversation.user_name


@routes.get("/chat/{customer}/suggestions")
async def suggestions(request: web.Request) -> web.Response:
    """FAQ questions for what the customer is typing (queryPhraseByKeyword)."""
    customer, name = _open(request)
    body = {
        "strContent": request.query.get("q", ""),
        "locale": request.query.get("locale", "en"),
        "channel": "WEB",
    }
    answer = await request.app[AICC_CLIENT].call(customer, name, "queryPhraseByKeyword", body)
    # the API reference names the list "question", the developer guide "phrases"
    found = answer.get("question") or answer.get("phrases") or []
    return web.json_response({"resultCode": answer.get("resultCode"), "suggestions": found})


@routes.get("/chat/{customer}/survey")
async def survey(request: web.Request) -> web.Response:
    """The satisfaction survey to show after the chat (getsatisfactionsurveymode)."""
    customer, name = _open(request)
    body = {"language": request.query.get("language", "")}
    answer = await request.app[AICC_CLIENT].call(customer, name, "getsatisfactionsurveymode", body)
    return web.json_response(answer)


@routes.post("/chat/{customer}/rating")
async def rating(request: web.Request) -> web.Response:
    """The customer's rating of the agent chat (saveSatisfaction), before DISCONNECT."""
    customer, name = _open(request)
    body = await _body(request)
    evaluation = str(body.get("evaluation", ""))
    if evaluation not in ("1", "2", "3", "4", "5"):
        return web.json_response({"error": "evaluation must be 1 to 5"}, status=400)
    settings = request.app[SETTINGS]
    answer = await request.app[AICC_CLIENT].call(
        customer,
        name,
        "saveSatisfaction",
        {
            "channel": "WEB",
            "userId": customer,
            "evaluation": evaluation,
            "comment": str(body.get("comment", ""))[:511],
            "channelConfigId": settings.channel_id,
        },
    )
    # the table answers resultCode, the vendor's example returnCode
    code = answer.get("resultCode", answer.get("returnCode"))
    return web.json_response({"resultCode": code, "resultDesc": answer.get("resultDesc")})


@routes.post("/chat/{customer}/disconnect")
async def disconnect(request: web.Request) -> web.Response:
    """The customer closes the chat: send DISCONNECT."""
    customer = request.match_info["customer"]
    conversation = request.app[STORE].get(customer)
    if conversation is None:
        return web.json_response({"error": "no conversation"}, status=404)
    client = request.app[AICC_CLIENT]
    result = await client.send(customer, conversation.user_name, "DISCONNECT")
    if result.ok:
        conversation.state = "ended"
        conversation.ended_by = "customer"
        client.forget(customer)
    return _answer(result)


@routes.get("/chat/{customer}")
async def show(request: web.Request) -> web.Response:
    """The conversation as the widget shows it."""
    conversation = request.app[STORE].get(request.match_info["customer"])
    if conversation is None:
        return web.json_response({"error": "no conversation"}, status=404)
    return web.json_response(conversation.to_json())


@routes.post(CALLBACK_PATH)
@routes.post(CALLBACK_PATH + "/webhooks/v1/messages")
async def push(request: web.Request) -> web.Response:
    """AICC's downlink pushes."""
    return await handle_push(request, request.app[SETTINGS], request.app[STORE])


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    """Liveness (for docker-compose)."""
    return web.json_response({"status": "ok"})


def create_app(settings: Settings) -> web.Application:
    """The backend for ``settings``; one ClientSession to AICC, opened and closed with it."""
    app = web.Application(middlewares=[_aicc_errors])
    app[SETTINGS] = settings
    app[STORE] = ConversationStore()

    async def aicc_session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            app[AICC_CLIENT] = AiccClient(session, settings)
            yield

    app.cleanup_ctx.append(aicc_session)
    app.add_routes(routes)
    return app
