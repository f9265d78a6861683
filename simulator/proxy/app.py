"""The proxy application: the integration points at it as if it were AICC; every call goes
to the upstream tenant unchanged and every answer comes back unchanged; the tenant's pushes
arrive on the proxy's own push endpoint and are relayed to the integration's callback with
the integration's credentials. Both directions are checked against the contract on the way
(never altered): findings go to the :class:`~simulator.proxy.drift.DriftReport`, the
conversation to the recording journal (:mod:`simulator.proxy.recording`).

Routes of its own: ``GET /__admin/health``, ``GET /__admin/drift`` (the report),
``GET /__admin/recording`` (the journal), and the push endpoint ``POST /__proxy/push``
(OAuth mode) / ``POST /__proxy/push/webhooks/v1/messages`` (signature mode); every other
path is forwarded."""

from __future__ import annotations

import asyncio
import gzip
import logging
import ssl
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from simulator.config import ChannelConfig
from simulator.core.clock import Clock, RealClock
from simulator.core.errors import SignatureError, Violation
from simulator.core.journal import Journal
from simulator.core.push import PlannedPush, PushFaults, RetryPolicy
from simulator.core.redaction import mask_document, mask_url
from simulator.core.signing import verify
from simulator.core.validation import SchemaStore, default_store
from simulator.delivery.records import AttemptRecord
from simulator.delivery.worker import Deliverer
from simulator.proxy.drift import DriftReport, Side
from simulator.proxy.recording import ProxyRecord
from simulator.server.endpoint import Route
from simulator.server.http import error_response, json_response, parse_json_body
from simulator.server.metrics import METRICS, Metrics
from simulator.server.routes import EMULATED

__all__ = ["DRIFT", "PUSH_PATH", "RECORDING", "ProxySettings", "create_proxy_app"]

#: where the tenant pushes (OAuth mode; signature mode appends ``/webhooks/v1/messages``)
PUSH_PATH = "/__proxy/push"

_log = logging.getLogger(__name__)

#: headers that belong to one connection, not to the message (RFC 9110 §7.6.1), and the
#: ones aiohttp sets itself for the hop it makes
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)

#: the route table by (method, path): the schemas of each emulated endpoint
_ROUTES: Mapping[tuple[str, str], Route] = {
    (route.method, route.path): route for route in EMULATED if "{" not in route.path
}


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """What one proxy needs: the tenant, the integration's callback channel, TLS, journal."""

    upstream: str
    """The tenant's base URL (``https://TENANT``)."""
    channel: ChannelConfig
    """The integration's side of pushes: ``callback_url``, ``push_mode`` and its
    credentials (``app_key``, ``push_key``, ``access_key``), ``ca_bundle``/``client_cert``."""
    upstream_tls: ssl.SSLContext | None = None
    """The client context for an ``https://`` upstream (None: the system's trust store)."""
    journal_path: str | None = None
    """The recording's JSON Lines file (None: kept in memory only)."""
    capacity: int = 10_000
    timeout: float = 30.0
    """Seconds an upstream call may take (a long poll included)."""
    max_body_bytes: int = 2_900_000


#: the application's drift report
DRIFT = web.AppKey("drift", DriftReport)
#: the application's recording journal
RECORDING = web.AppKey("recording", Journal[ProxyRecord])
_SESSION = web.AppKey("proxy_session", aiohttp.ClientSession)


def _json_or_none(raw: bytes) -> tuple[Any, bool]:
    """The JSON value of ``raw`` and True, or (None, False) when it is not JSON."""
    try:
        return parse_json_body(raw), True
    except ValueError:
        return None, False


def _decoded(raw: bytes, encoding: str) -> bytes:
    """The answer's body as the contract sees it (a compressed answer is passed on as it
    came; only the check reads it decompressed). Unknown encodings stay as they are."""
    try:
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
    except (OSError, EOFError, zlib.error):
        return raw
    return raw


def _user_of(body: Any) -> str | None:
    """The customer a call or push is about (``from`` of an uplink, ``to`` of a downlink)."""
    if isinstance(body, dict):
        if isinstance(body.get("from"), str) and "controlType" in body:
            return str(body["from"])
        messages = body.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            to = messages[0].get("to")
            return to if isinstance(to, str) else None
    return None


class _Proxy:
    """The handlers, sharing the settings, the report, the journal and the relay."""

    def __init__(
        self,
        settings: ProxySettings,
        store: SchemaStore,
        clock: Clock,
        drift: DriftReport,
        journal: Journal[ProxyRecord],
        deliverer: Deliverer,
    ) -> None:
        self.settings = settings
        self.upstream = settings.upstream.rstrip("/")
        self.store = store
        self.clock = clock
        self.drift = drift
        self.journal = journal
        self.deliverer = deliverer
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout)

    def _check(
        self, side: Side, what: str, endpoint: str, schema: str | None, document: Any
    ) -> None:
        self.drift.checked += 1
        if schema is None or self.store.is_valid(schema, document):
            return
        found = self.store.violations(schema, document)
        self.drift.add(
            side, what, endpoint, found, at=self.clock.now(), schema=schema, document=document
        )

    # --- integration → tenant ---------------------------------------------------------

    async def forward(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        started = self.clock.now()
        began = time.perf_counter()
        query = {name: request.query.getone(name) for name in request.query}
        headers = CIMultiDict(
            (name, value) for name, value in request.headers.items() if name.lower() not in _HOP
        )
        url = self.upstream + request.rel_url.raw_path_qs
        session = request.app[_SESSION]
        method, path = request.method, request.path
        loop = asyncio.get_running_loop()
        try:
            async with session.request(
                method,
                url,
                data=raw if raw else None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                ssl=self.settings.upstream_tls if self.settings.upstream_tls else True,
            ) as answer:
                answer_raw = await answer.read()
                status = answer.status
                encoding = answer.headers.get("Content-Encoding", "").strip().lower()
                answer_headers = [
                    (name, value)
                    for name, value in answer.headers.items()
                    if name.lower() not in _HOP
                ]
        except (aiohttp.ClientError, TimeoutError, ssl.SSLError) as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            _log.warning("proxy: %s %s to the tenant failed: %s", method, path, mask_url(reason))
            loop.call_soon(self._check_request, method, path, query, raw, started)
            return error_response(502, f"the tenant could not be reached: {mask_url(reason)}")
        latency = round((time.perf_counter() - began) * 1000, 3)
        # checking and recording wait until the answer is on its way: they add no latency
        loop.call_soon(
            self._record_call,
            method,
            path,
            query,
            raw,
            started,
            status,
            _decoded(answer_raw, encoding),
            latency,
        )
        response = web.Response(status=status, body=answer_raw)
        for name, value in answer_headers:
            response.headers.add(name, value)
        return response

    def _check_request(
        self, method: str, path: str, query: dict[str, str], raw: bytes, at: int
    ) -> Any:
        """Check the integration's request against the contract; its JSON body (or query)."""
        endpoint = f"{method} {path}"
        route = _ROUTES.get((method, path))
        if route is None:
            self.drift.checked += 1
            why = [Violation("", "not an endpoint of the contract")]
            self.drift.add("integration", "endpoint", endpoint, why, at=at)
            body, _ = _json_or_none(raw) if raw else (None, False)
            return body
        if method == "GET":
            self._check("integration", "request", endpoint, route.request_schema, query)
            return query
        body, is_json = _json_or_none(raw)
        if is_json:
            self._check("integration", "request", endpoint, route.request_schema, body)
        else:
            self.drift.checked += 1
            why = [Violation("", "body is not JSON")]
            self.drift.add("integration", "request", endpoint, why, at=at)
        return body

    def _record_call(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        raw: bytes,
        at: int,
        status: int,
        answer_raw: bytes,
        latency: float,
    ) -> None:
        """Check both directions of one forwarded call and journal it."""
        body = self._check_request(method, path, query, raw, at)
        endpoint = f"{method} {path}"
        route = _ROUTES.get((method, path))
        answer_body, answer_json = _json_or_none(answer_raw)
        # the tenant's answer against the contract (an error status has no schema)
        if route is not None and status == 200 and route.response_schema is not None:
            if answer_json:
                self._check("tenant", "response", endpoint, route.response_schema, answer_body)
            else:
                self.drift.checked += 1
                why = [Violation("", "answer is not JSON")]
                self.drift.add("tenant", "response", endpoint, why, at=self.clock.now())
        self.journal.append(
            ProxyRecord(
                kind="call",
                at=at,
                method=method,
                path=path,
                status=status,
                user=_user_of(body),
                request=mask_document(body),
                response=mask_document(answer_body),
                latency_ms=latency,
            )
        )

    # --- tenant → integration ---------------------------------------------------------

    def _push_auth(self, request: web.Request, raw: bytes) -> str | None:
        """Why the tenant's push credentials are refused (None: accepted)."""
        channel = self.settings.channel
        if channel.push_mode == "signature":
            try:
                verify(
                    request.headers.get("Authorization"),
                    method=request.method,
                    path=request.path,
                    headers=request.headers,
                    body=raw,
                    push_key=channel.push_key or "",
                    max_skew_ms=None,
                )
            except SignatureError as exc:
                return str(exc)
            return None
        bearer = request.headers.get("Authorization", "")
        if not bearer.startswith("Bearer ") or not bearer[7:].strip():
            return "no Authorization: Bearer header"
        if request.headers.get("x-app-key") != channel.app_key:
            return "x-app-key is not the channel's app_key"
        return None

    async def push(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        at = self.clock.now()
        endpoint = f"POST {PUSH_PATH}"
        problem = self._push_auth(request, raw)
        if problem is not None:
            self.drift.checked += 1
            self.drift.add("tenant", "push-auth", endpoint, [Violation("", problem)], at=at)
            return error_response(401, f"push refused: {problem}")
        body, is_json = _json_or_none(raw)
        if not is_json or not isinstance(body, dict):
            self.drift.checked += 1
            self.drift.add(
                "tenant", "push", endpoint, [Violation("", "push body is not a JSON object")],
                at=at,
            )  # fmt: skip
            return error_response(400, "push body is not a JSON object")
        self._check("tenant", "push", endpoint, "push-request", body)
        messages = body.get("messages")
        stamp = body.get("timestamp")
        channel = self.settings.channel
        bearer = request.headers.get("Authorization", "")[7:].strip()
        target = channel.push_target(echo_url="", bearer_token=bearer)
        planned = PlannedPush(
            tuple(m for m in messages if isinstance(m, dict)) if isinstance(messages, list) else (),
            # relayed as received: a drifting push is not held back (it is in the report)
            faults=PushFaults(invalid=True),
        )
        user = _user_of(body) or "?"
        result = await self.deliverer.submit(
            user,
            target,
            planned,
            body_timestamp=stamp if isinstance(stamp, int) and stamp >= 0 else None,
        )
        self.journal.append(
            ProxyRecord(
                kind="push",
                at=at,
                method="POST",
                path=request.path,
                status=result.last_status,
                user=_user_of(body),
                request=mask_document(body),
                response={"verdict": result.verdict, "error": result.error},
                latency_ms=0.0,
            )
        )
        if result.verdict == "accepted":
            return json_response({"resultCode": "0", "resultDesc": "success."})
        return json_response(
            {"resultCode": "1", "resultDesc": f"relay failed: {result.error}"}, status=502
        )

    # --- admin --------------------------------------------------------------------------

    async def drift_report(self, request: web.Request) -> web.StreamResponse:
        return json_response(self.drift.to_json())

    async def recording(self, request: web.Request) -> web.StreamResponse:
        return json_response(
            {"entries": [{"seq": e.seq, **e.item.to_json()} for e in self.journal.list()]}
        )

    async def health(self, request: web.Request) -> web.StreamResponse:
        return json_response({"status": "ok", "mode": "proxy", "upstream": self.upstream})


def create_proxy_app(
    settings: ProxySettings, *, store: SchemaStore | None = None, clock: Clock | None = None
) -> web.Application:
    """The proxy application for ``settings`` (start it with
    :func:`simulator.server.runner.start_server` and ``build=``)."""
    store = store or default_store()
    clock = clock or RealClock()
    drift = DriftReport()
    journal = Journal[ProxyRecord](settings.capacity, path=settings.journal_path)
    attempts: list[AttemptRecord] = []

    def on_attempt(record: AttemptRecord) -> None:
        # the relay's attempts are in the recording already (kind push); keep the last few
        attempts.append(record)
        del attempts[:-100]

    # one attempt: the tenant's own retries decide, as they would against the integration
    deliverer = Deliverer(
        None, policy=RetryPolicy(attempts=1), store=None, on_attempt=on_attempt, clock=clock
    )
    proxy = _Proxy(settings, store, clock, drift, journal, deliverer)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[METRICS] = Metrics()
    app[DRIFT] = drift
    app[RECORDING] = journal
    app.router.add_get("/__admin/health", proxy.health)
    app.router.add_get("/__admin/drift", proxy.drift_report)
    app.router.add_get("/__admin/recording", proxy.recording)
    app.router.add_post(PUSH_PATH, proxy.push)
    app.router.add_post(PUSH_PATH + "/webhooks/v1/messages", proxy.push)
    app.router.add_route("*", "/{tail:.*}", proxy.forward)

    async def open_session(app: web.Application) -> None:
        app[_SESSION] = aiohttp.ClientSession(
            auto_decompress=False,  # the answer's bytes go back as they came
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def shut_down(app: web.Application) -> None:
        await deliverer.close()
        await app[_SESSION].close()
        journal.close()

    app.on_startup.append(open_session)
    app.on_cleanup.append(shut_down)
    return app
