"""THE route table of the emulated endpoints, and the router built from it.

One row per endpoint: method, path, auth, request and response schema, handler, summary.
The router (:func:`install`), ``/__admin/openapi.json`` (:mod:`simulator.server.openapi`)
and the endpoint table of docs/server.md (:func:`markdown_table`, checked by a test) all
come from :data:`EMULATED`. Adding an endpoint: one capability module, one row here.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.core.errors import ValidationFailed
from simulator.core.faults.store import FaultStore
from simulator.core.validation import SchemaStore
from simulator.server.admission import Admission
from simulator.server.click_to_call import call_events, check_support, create_call, drop_call
from simulator.server.conversation import send, send_async
from simulator.server.endpoint import Auth, Call, Route, VendorCodes
from simulator.server.faults import actions as faults_actions
from simulator.server.files import (
    DOWNLOAD_CODES,
    FILES_PATH,
    UPLOAD_CODES,
    download_file_stream,
    file_url,
    upload_file_stream,
)
from simulator.server.history import query_history
from simulator.server.http import (
    CUSTOMER,
    RAW_BODY,
    REFUSED,
    USER_ID,
    json_response,
    parse_json_body,
    read_json,
    read_optional_json,
)
from simulator.server.leave_message import LEAVE_CODES, do_leave_message
from simulator.server.live_config import CONFIG
from simulator.server.phrases import query_phrase
from simulator.server.poll import poll
from simulator.server.push_sink import push_msg
from simulator.server.queue import QUEUE_CODES, query_queue_info
from simulator.server.reasons import note
from simulator.server.satisfaction import robot_feedback, save_satisfaction, survey_mode
from simulator.server.token_store import AccessToken, MessagingToken
from simulator.server.tokens import TOKEN_HEADER, Tokens, apply_token, token_by_ak_sk

__all__ = ["CCM", "EMULATED", "install", "markdown_table"]

CCM = "/apiaccess/ccmessaging"

#: the emulated endpoints, at the vendor's paths with the vendor's auth
EMULATED: tuple[Route, ...] = (
    Route("POST", "/apigovernance/api/oauth/tokenByAkSk", Auth.NONE, "token-request",
          "token-response", token_by_ak_sk,
          "Get an API Fabric AccessToken (body `app_key`/`app_secret`, header "
          "`X-Token-Expire`)", "auth"),
    Route("POST", f"{CCM}/applyToken", Auth.ACCESS, "apply-token-request",
          "apply-token-response", apply_token, "Apply for a ccmessaging-token", "auth"),
    Route("POST", f"{CCM}/send", Auth.SESSION, "send-request", "send-response", send,
          "Send an uplink message (synchronous)", "messaging"),
    Route("POST", f"{CCM}/sendAsync", Auth.SESSION, "send-request", "send-response",
          send_async, "Send an uplink message (asynchronous)", "messaging"),
    Route("GET", f"{CCM}/poll", Auth.SESSION, "poll-request", "poll-response", poll,
          "Long-poll downlink messages (query `receiverId`, `channel=WEB`, `isNeedRead`)",
          "messaging"),
    Route("POST", f"{CCM}/queryQueueInfo", Auth.SESSION_IF_SENT, "queue-info-request",
          "queue-info-response", query_queue_info, "Queue position and waits", "messaging",
          vendor_codes=QUEUE_CODES),
    Route("POST", f"{CCM}/uploadFileStream", Auth.SESSION, "upload-request",
          "upload-response", upload_file_stream, "Upload a Base64 file", "files",
          vendor_codes=UPLOAD_CODES),
    Route("POST", f"{CCM}/downloadFileStream", Auth.SESSION, "download-request",
          "download-response", download_file_stream, "Download a file as Base64", "files",
          vendor_codes=DOWNLOAD_CODES),
    Route("POST", f"{CCM}/queryHistoryChatMessage", Auth.SESSION, "history-request",
          "history-response", query_history, "Chat history", "messaging"),
    Route("POST", f"{CCM}/doLeaveMessage", Auth.SESSION, "leave-message-request",
          "leave-message-response", do_leave_message, "Leave a message", "messaging",
          vendor_codes=LEAVE_CODES),
    Route("POST", f"{CCM}/pushMsg", Auth.ACCESS, "push-request", "push-response", push_msg,
          "Contract sink for push bodies", "push"),
    Route("POST", f"{CCM}/queryPhraseByKeyword", Auth.SESSION, "phrase-request",
          "phrase-response", query_phrase, "FAQ suggestions for a keyword", "messaging"),
    Route("POST", f"{CCM}/getsatisfactionsurveymode", Auth.SESSION, "survey-mode-request",
          "survey-mode-response", survey_mode,
          "Satisfaction survey configuration (optional body `language`)", "satisfaction",
          optional_body=True),
    Route("POST", f"{CCM}/saveSatisfaction", Auth.SESSION, "save-satisfaction-request",
          "save-satisfaction-response", save_satisfaction,
          "Rate an agent chat (CSAT/NPS/FCR; flat or `satisfication`-wrapped)", "satisfaction"),
    Route("POST", f"{CCM}/v1/robot/feedbacksatisfaction", Auth.SESSION,
          "robot-feedback-request", "robot-feedback-response", robot_feedback,
          "Rate a robot chat", "satisfaction"),
    Route("GET", f"{CCM}/v1/checkClickToCallSupport", Auth.SESSION,
          "click-to-call-support-request", "click-to-call-support-response", check_support,
          "Does the tenant support click-to-call (query `channel=WEB`)", "click-to-call"),
    Route("GET", f"{CCM}/checkClickToCallSupport", Auth.SESSION,
          "click-to-call-support-request", "click-to-call-support-response", check_support,
          "checkClickToCallSupport at the devg examples' path (no `v1`)", "click-to-call"),
    Route("POST", f"{CCM}/v1/createClickToCall", Auth.SESSION, "create-click-to-call-request",
          "create-click-to-call-response", create_call, "Start a click-to-call",
          "click-to-call"),
    Route("GET", f"{CCM}/v1/getClickToCallEvents", Auth.SESSION,
          "click-to-call-events-request", "click-to-call-events-response", call_events,
          "Long-poll the call's events (query `channel=WEB`)", "click-to-call"),
    Route("GET", f"{CCM}/getClickToCallEvents", Auth.SESSION,
          "click-to-call-events-request", "click-to-call-events-response", call_events,
          "getClickToCallEvents at the devg examples' path (no `v1`)", "click-to-call"),
    Route("POST", f"{CCM}/v1/dropClickToCall", Auth.SESSION, "drop-click-to-call-request",
          "drop-click-to-call-response", drop_call, "Hang up the click-to-call",
          "click-to-call"),
    Route("GET", f"{FILES_PATH}/{{fileId}}", Auth.NONE, None, None, file_url,
          "The bytes behind downloadFileStream's `fileUrl`", "files", openapi=False),
)  # fmt: skip


def _bind(
    route: Route, tokens: Tokens, store: SchemaStore, gate: Admission, faults: FaultStore
) -> Handler:
    """The aiohttp handler of one row, built once when the app is made: the inbound fault
    rules first (while any exist), then credentials, then the body (the query of a GET)
    against the request schema, then the row's handler. A renewed ccmessaging-token goes
    back in the response header. Where the row has :class:`VendorCodes`, a refused body is
    answered in the body (:func:`_in_body`)."""
    handler = route.handler
    schema = route.request_schema
    from_query = route.method == "GET"
    read_body = read_optional_json if route.optional_body else read_json
    codes = route.vendor_codes
    auth = route.auth
    optional = auth is Auth.SESSION_IF_SENT

    async def read(request: web.Request) -> object:
        if schema is None:
            return None
        if from_query:
            query = {name: request.query.getone(name) for name in request.query}
            store.check(schema, query)
            return query
        return await read_body(request, store, schema)

    async def answer(
        request: web.Request, access: AccessToken | None, token: MessagingToken | None
    ) -> web.StreamResponse:
        # timers first: while the loop runs late, inbound work waits (admission.py)
        gate.arrived()
        if gate.behind:
            await gate.wait()
        if codes is None:
            return await handler(request, Call(await read(request), access, token))
        try:
            return await handler(request, Call(await read(request), access, token))
        except ValidationFailed as exc:
            return _in_body(request, codes, exc, from_query=from_query)

    async def call(request: web.Request, hooked: bool = True) -> web.StreamResponse:
        if hooked and faults.rules:  # nothing more to pay while no fault rule exists
            return await faults_actions.handle(request, unhooked, faults, route)
        if auth is Auth.NONE:
            return await answer(request, None, None)
        if auth is Auth.ACCESS:
            return await answer(request, tokens.access(request), None)
        if optional and not any(
            name in request.headers for name in ("Authorization", "x-app-key", TOKEN_HEADER)
        ):
            return await answer(request, None, None)
        access, token, renewed = tokens.messaging(request)
        request[USER_ID] = token.user_id
        request[CUSTOMER] = (token.channel_id, token.user_id)
        response = await answer(request, access, token)
        if renewed is not None:
            response.headers[TOKEN_HEADER] = renewed
        return response

    async def unhooked(request: web.Request) -> web.StreamResponse:
        return await call(request, hooked=False)

    return call


def _in_body(
    request: web.Request, codes: VendorCodes, exc: ValidationFailed, *, from_query: bool
) -> web.Response:
    """A refused request answered as the vendor documents it: 200, its code in the body,
    the simulator's ``violations`` beside it. ``contract.strict`` keeps the 400 (``exc``
    re-raised), and so does a body that is not JSON at all (the gateway cannot read it)."""
    if request.app[CONFIG].current.contract.strict:
        raise exc
    body: object
    if from_query:
        body = {name: request.query.getone(name) for name in request.query}
    else:
        try:
            body = parse_json_body(request.get(RAW_BODY) or b"")
        except ValueError:
            raise exc from None
    # counted as violations in the journal, as a 400 would be; without its traceback, whose
    # frames hold the request (a cycle the collector's frozen generation could keep)
    request[REFUSED] = exc.with_traceback(None)
    # with the reason noted below, which is what tells the front door to look for it
    first = exc.violations[0] if exc.violations else None
    note(
        f"request does not match {exc.schema}"
        + (f" ({first.pointer or '/'}: {first.message})" if first is not None else "")
        + "; answered in the body (contract.strict is off)"
    )
    return json_response(codes.answer(body, exc))


def install(
    app: web.Application, tokens: Tokens, store: SchemaStore, gate: Admission, faults: FaultStore
) -> None:
    """Add every row of :data:`EMULATED` to ``app``'s router, each behind ``gate`` and the
    inbound fault rules of ``faults``."""
    for route in EMULATED:
        app.router.add_route(route.method, route.path, _bind(route, tokens, store, gate, faults))


def markdown_table(routes: tuple[Route, ...] = EMULATED) -> str:
    """The endpoint table of docs/server.md, made from the route table."""
    lines = [
        "| method | path | auth | schema (request → response) | what |",
        "|---|---|---|---|---|",
    ]
    for route in routes:
        if route.request_schema is None:
            schemas = "—"
        else:
            where = " (query)" if route.method == "GET" else ""
            if route.optional_body:
                where = " (optional body)"
            schemas = f"`{route.request_schema}`{where} → `{route.response_schema}`"
        lines.append(
            f"| {route.method} | `{route.path}` | {route.auth.value} | {schemas} | "
            f"{route.summary} |"
        )
    return "\n".join(lines) + "\n"
