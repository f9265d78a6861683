"""HTTP side of queryPhraseByKeyword (:mod:`simulator.server.phrases`)."""

from __future__ import annotations

from aiohttp import web

from simulator.server import keys
from simulator.server.ccm_auth import session_token
from simulator.server.http import json_response, read_json
from simulator.server.phrases import PhraseService

__all__ = ["install", "routes"]

routes = web.RouteTableDef()
CCM = "/apiaccess/ccmessaging"


@routes.post(f"{CCM}/queryPhraseByKeyword")
async def query_phrase(request: web.Request) -> web.Response:
    """queryPhraseByKeyword (reference §3.9). The vendor marks the gateway headers optional
    (§9) but the phrase list is per channel, known only from the ccmessaging-token: all
    three are checked, as on every other ccmessaging call."""
    token, headers = session_token(request)
    body = await read_json(request, request.app[keys.AICC].store, "phrase-request")
    return json_response(request.app[keys.PHRASES].query(token.channel_id, body), headers=headers)


def install(app: web.Application) -> None:
    """Build the service and add the route."""
    app[keys.PHRASES] = PhraseService(app[keys.CONFIG])
    app.add_routes(routes)
