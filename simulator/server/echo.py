"""The built-in echo receiver: where the embedded default channel pushes, so that a newcomer
sees a whole conversation without writing a receiver. It checks each push against the
contract and answers like a conforming integration; the request journal keeps what came."""

from __future__ import annotations

from aiohttp import web

from simulator.server.http import RAW_BODY, STORE, error_response, json_response, parse_json_body

__all__ = ["ECHO_PATH", "routes"]

ECHO_PATH = "/__echo/aicc"

routes = web.RouteTableDef()


@routes.post(ECHO_PATH)
@routes.post(ECHO_PATH + "/webhooks/v1/messages")
async def echo(request: web.Request) -> web.Response:
    """Accept a push body that matches ``push-request``; 400 with the violations otherwise."""
    raw = await request.read()
    request[RAW_BODY] = raw
    try:
        body = parse_json_body(raw)
    except ValueError as exc:
        return error_response(400, f"push body is not JSON: {exc}")
    violations = request.app[STORE].violations("push-request", body)
    if violations:
        return error_response(400, "push body does not match push-request", violations)
    return json_response({"resultCode": "0", "resultDesc": "success."})
