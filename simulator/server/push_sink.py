"""pushMsg as a contract sink (reference §4.2): checks the OAuth headers and the body and
answers like a conforming receiver; the accepted bodies are in the request journal."""

from __future__ import annotations

from aiohttp import web

from simulator.server.endpoint import Call
from simulator.server.http import json_response

__all__ = ["push_msg"]


async def push_msg(request: web.Request, call: Call) -> web.Response:
    """pushMsg: the router checked the AccessToken and the body; accept."""
    return json_response({"resultCode": "0", "resultDesc": "success."})
