"""The emulated AICC endpoints, at the vendor's paths with the vendor's auth.

Each handler is thin: check credentials, read and validate the body against its schema,
ask :class:`~simulator.server.aicc.Aicc`, answer with the vendor's field names.
"""

from __future__ import annotations

import mimetypes
import time
from functools import lru_cache
from typing import Any

from aiohttp import web

from simulator.core.errors import ValidationFailed, Violation
from simulator.server import keys
from simulator.server.aicc import FILES_PATH, Aicc, NotFound, Outcome
from simulator.server.http import USER_ID, encode_json, json_response, read_json
from simulator.server.reasons import note
from simulator.server.tokens import AccessToken, MessagingToken

__all__ = ["routes"]

routes = web.RouteTableDef()

CCM = "/apiaccess/ccmessaging"
TOKEN_HEADER = "ccmessaging-token"


def _access(request: web.Request) -> AccessToken:
    return request.app[keys.AICC].tokens.check_access(
        request.headers.get("Authorization"), request.headers.get("x-app-key")
    )


def _messaging(request: web.Request) -> tuple[MessagingToken, dict[str, str]]:
    """The caller's ccmessaging-token, and the response header that renews it (if any)."""
    aicc = request.app[keys.AICC]
    token, renewed = aicc.messaging_token(request.headers.get(TOKEN_HEADER), _access(request))
    request[USER_ID] = token.user_id
    return token, ({TOKEN_HEADER: renewed} if renewed else {})


@routes.post("/apigovernance/api/oauth/tokenByAkSk")
async def token_by_ak_sk(request: web.Request) -> web.Response:
    """tokenByAkSk (reference §2.1)."""
    aicc = request.app[keys.AICC]
    body = await read_json(request, aicc.store, "token-request")
    token = aicc.token_by_ak_sk(
        body["app_key"], body["app_secret"], request.headers.get("X-Token-Expire")
    )
    return json_response(
        {
            "AccessToken": token.value,
            "ApplyType": "Bearer",
            "CreateTime": str(int(time.time())),
            "Expires": str(token.lifetime),
            "Scope": "aicc-simulator",
            "AppKey": token.app_key,
            "UserID": "Anonymous",
        }
    )


@routes.post(f"{CCM}/applyToken")
async def apply_token(request: web.Request) -> web.Response:
    """applyToken (reference §2.2)."""
    aicc = request.app[keys.AICC]
    access = _access(request)
    body = await read_json(request, aicc.store, "apply-token-request")
    request[USER_ID] = body["userId"]
    return json_response(aicc.apply_token(access, body))


async def _session_body(
    request: web.Request, schema: str
) -> tuple[Aicc, MessagingToken, Any, dict[str, str]]:
    """What every ccmessaging call starts with: the caller's tokens (and the header that
    renews an expired ccmessaging-token), then the body validated against ``schema``."""
    aicc = request.app[keys.AICC]
    token, headers = _messaging(request)
    body = await read_json(request, aicc.store, schema)
    return aicc, token, body, headers


@lru_cache(maxsize=256)
def _outcome_bytes(outcome: Outcome) -> bytes:
    """The encoded answer of a resultCode/resultDesc pair; there are a few dozen of them."""
    return encode_json(outcome.body())


#: every vendor example of sendAsync answers this, whatever the controlType (§3.2)
_ASYNC_ANSWER = Outcome("0", "send sendMessageForOpenApiAsync success.")


async def _send(request: web.Request, asynchronous: bool) -> web.Response:
    aicc, token, body, headers = await _session_body(request, "send-request")
    outcome = aicc.send(token, body)
    note(None if asynchronous or outcome.code == "0" else outcome.reason)
    return web.Response(
        body=_outcome_bytes(_ASYNC_ANSWER if asynchronous else outcome),
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


@routes.post(f"{CCM}/send")
async def send(request: web.Request) -> web.Response:
    """send (reference §3.1): synchronous; answers the outcome's resultCode."""
    return await _send(request, asynchronous=False)


@routes.post(f"{CCM}/sendAsync")
async def send_async(request: web.Request) -> web.Response:
    """sendAsync (reference §3.2): same work, always the documented success answer."""
    return await _send(request, asynchronous=True)


@routes.get(f"{CCM}/poll")
async def poll(request: web.Request) -> web.Response:
    """poll (reference §3.3): long poll of the user's downlink messages."""
    aicc = request.app[keys.AICC]
    token, headers = _messaging(request)
    query = {name: request.query.getone(name) for name in request.query}
    aicc.store.check("poll-request", query)
    messages = await aicc.poll(token, query["receiverId"], query.get("isNeedRead", "") == "true")
    return json_response(
        {
            "resultCode": "0",
            "resultDesc": "query user messages success.",
            "downlinkMessages": messages,
        },
        headers=headers,
    )


@routes.post(f"{CCM}/queryQueueInfo")
async def query_queue_info(request: web.Request) -> web.Response:
    """queryQueueInfo (reference §3.4). The vendor marks its three headers optional: without
    any of them the call is answered; with any of them, all three are checked as on every
    other ccmessaging call (a half-authenticated call is a mistake worth reporting)."""
    aicc = request.app[keys.AICC]
    headers: dict[str, str] = {}
    if any(name in request.headers for name in ("Authorization", "x-app-key", TOKEN_HEADER)):
        _, headers = _messaging(request)
    body = await read_json(request, aicc.store, "queue-info-request")
    request[USER_ID] = body["userId"]
    return json_response(aicc.queue_info(body), headers=headers)


@routes.post(f"{CCM}/uploadFileStream")
async def upload_file_stream(request: web.Request) -> web.Response:
    """uploadFileStream (reference §3.5)."""
    aicc, _, body, headers = await _session_body(request, "upload-request")
    return json_response(aicc.upload(body), headers=headers)


@routes.post(f"{CCM}/downloadFileStream")
async def download_file_stream(request: web.Request) -> web.Response:
    """downloadFileStream (reference §3.6)."""
    aicc, _, body, headers = await _session_body(request, "download-request")
    return json_response(aicc.download(body), headers=headers)


@routes.post(f"{CCM}/queryHistoryChatMessage")
async def query_history(request: web.Request) -> web.Response:
    """queryHistoryChatMessage (reference §3.7)."""
    aicc, token, body, headers = await _session_body(request, "history-request")
    if body["userId"] != token.user_id:
        raise ValidationFailed(
            "history-request",
            [
                Violation(
                    "/userId", f"{body['userId']!r} is not the userId of the ccmessaging-token"
                )
            ],
        )
    return json_response(aicc.history(body), headers=headers)


@routes.post(f"{CCM}/doLeaveMessage")
async def do_leave_message(request: web.Request) -> web.Response:
    """doLeaveMessage (reference §3.8)."""
    aicc, _, body, headers = await _session_body(request, "leave-message-request")
    return json_response(aicc.leave_message(body).body(), headers=headers)


@routes.get(f"{FILES_PATH}/{{fileId}}")
async def file_url(request: web.Request) -> web.Response:
    """The temporary view link downloadFileStream answers as ``fileUrl`` (§3.6): the file's
    bytes, no auth (it is a link to hand to a browser)."""
    found = request.app[keys.AICC].files.get(request.match_info["fileId"])
    if found is None:
        raise NotFound(f"no file {request.match_info['fileId']!r}")
    kind = mimetypes.types_map.get("." + found.file_type.lower(), "application/octet-stream")
    return web.Response(body=found.data, content_type=kind)


@routes.post(f"{CCM}/pushMsg")
async def push_msg(request: web.Request) -> web.Response:
    """pushMsg as a contract sink (reference §4.2): checks the OAuth headers and the body,
    answers like a conforming receiver. Accepted bodies are in the request journal."""
    aicc = request.app[keys.AICC]
    _access(request)
    await read_json(request, aicc.store, "push-request")
    return json_response({"resultCode": "0", "resultDesc": "success."})
