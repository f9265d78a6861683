"""The console's page and static files, served from the package (no build step, nothing
fetched from another host). The page itself needs no admin token: it holds no data, and asks
for the token when the admin API answers 401."""

from __future__ import annotations

import hmac
from importlib import resources
from typing import Final

from aiohttp import web

from simulator.server.admin_route import AdminRoutes
from simulator.server.http import json_response
from simulator.server.live_config import CONFIG

__all__ = ["UI_PATH", "routes"]

routes = AdminRoutes()

#: where the console is served; the admin-token check lets this path (and below) through
UI_PATH: Final = "/__admin/ui"

_TYPES: Final = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# the page loads only what it is served from here; no inline scripts, no other origin
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _static(name: str) -> web.Response:
    # names come from the route's own pattern: a plain file name, never a path
    suffix = name[name.rfind(".") :] if "." in name else ""
    content_type = _TYPES.get(suffix)
    file = resources.files("simulator.server.console").joinpath("static", name)
    if content_type is None or "/" in name or name.startswith(".") or not file.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=file.read_bytes(),
        content_type=content_type,
        charset="utf-8" if content_type.startswith("text") else None,
        headers=_SECURITY_HEADERS,
    )


@routes.get("/", "The console (a redirect)", openapi=False)
async def root(request: web.Request) -> web.Response:
    """Nothing else is served at ``/``: send a browser to the console."""
    raise web.HTTPFound(UI_PATH + "/")


@routes.get(UI_PATH, "The console page", openapi=False)
async def index_bare(request: web.Request) -> web.Response:
    """The console page (relative links resolve against ``/__admin/ui/``)."""
    raise web.HTTPFound(UI_PATH + "/")


@routes.get(UI_PATH + "/", "The console page", openapi=False)
async def index(request: web.Request) -> web.Response:
    """The console page."""
    return _static("index.html")


@routes.get(UI_PATH + "/auth", "Whether the admin token is needed and accepted", openapi=False)
async def auth(request: web.Request) -> web.Response:
    """Whether the admin API needs a token, and whether the one sent (``X-Admin-Token``) is
    right: the page asks before it calls the API, so that a login prompt needs no failed
    request (a browser logs every 401 as an error)."""
    token = request.app[CONFIG].current.admin.token
    given = request.headers.get("X-Admin-Token", "")
    accepted = not token or hmac.compare_digest(given.encode(), token.encode())
    return json_response({"required": bool(token), "accepted": accepted})


@routes.get(
    UI_PATH + "/{name:[A-Za-z0-9_-]+\\.[a-z]+}", "A file of the console page", openapi=False
)
async def asset(request: web.Request) -> web.Response:
    """A static file of the page (script, style sheet, icon)."""
    return _static(request.match_info["name"])
