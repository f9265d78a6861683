"""Property-based fuzzing of every operation in ``/__admin/openapi.json`` with schemathesis,
against a live simulator: whatever the body, query or path, the answer is never a 5xx.

The simulator runs in its own thread and event loop (schemathesis calls are synchronous),
on a free port, with a fresh AccessToken and ccmessaging-token for every generated case so
that generated bodies get past auth and reach validation and the service. Examples are
bounded (a few per operation) to keep the test well under a minute; only the
``not_a_server_error`` check runs: the others judge the document's completeness, not the
server's robustness.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from simulator.config import parse_config
from simulator.core.validation import default_store
from simulator.server import RunningServer, start_server
from simulator.server.admin_table import ADMIN
from simulator.server.openapi import openapi_document

#: fuzzing takes seconds: `-m "not slow"` leaves the whole module out locally
pytestmark = pytest.mark.slow

APP_KEY = "fuzz-app-key"
APP_SECRET = "fuzz-app-secret"
CHANNEL = "202105284494222653"


class _LiveSimulator:
    """The simulator on a free port, served by an event loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.base_url = ""
        self._running: RunningServer | None = None

    async def _start(self) -> str:
        config = parse_config(
            {
                "listen": {"host": "127.0.0.1", "port": 0},
                "credentials": [{"app_key": APP_KEY, "app_secret": APP_SECRET}],
                "channels": [
                    {"id": CHANNEL, "callback_url": "echo", "app_key": APP_KEY, "speed": 50}
                ],
                "poll": {"timeout_ms": 20},
                # fuzzed admin runs must not push to random hosts on the internet
                "callback_allowlist": ["127.0.0.1"],
                "delivery": {"attempts": 1, "timeout": 1.0},
                "journal": {"capacity": 500},
            },
            "<schemathesis>",
        )
        self._running = await start_server(config)
        return self._running.url

    @property
    def app(self) -> web.Application:
        assert self._running is not None
        return self._running.app

    def start(self) -> None:
        self.thread.start()
        self.base_url = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    def stop(self) -> None:
        if self._running is not None:
            asyncio.run_coroutine_threadsafe(self._running.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class _ServerLog(logging.Handler):
    """Every log record of the simulator while it is fuzzed: none may carry a traceback or
    say it failed (an internal fault is logged at ERROR, an unexpected exception with its
    exc_info)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.bad.append(f"{record.levelname} {record.name}: {record.getMessage()}")


SERVER_LOG = _ServerLog()


@pytest.fixture(scope="module")
def live_simulator() -> Iterator[_LiveSimulator]:
    simulator = _LiveSimulator()
    root = logging.getLogger()
    root.addHandler(SERVER_LOG)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()
        root.removeHandler(SERVER_LOG)


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


#: The document ``/__admin/openapi.json`` serves (the same function builds both; the test
#: below proves the live one is equal). Loaded at import because schemathesis's lazy
#: ``from_fixture`` loader uses a pytest internal that pytest 9 removed.
DOCUMENT = openapi_document(default_store(), ADMIN)
schema = schemathesis.openapi.from_dict(DOCUMENT)
#: (method path, status) of every fuzzed call, to show the fuzzing reached the server
SEEN: Counter[tuple[str, int]] = Counter()


def _credentials(http: requests.Session, base_url: str) -> dict[str, str]:
    """A fresh AccessToken and ccmessaging-token (an admin reset may have wiped the last)."""
    token = http.post(
        f"{base_url}/apigovernance/api/oauth/tokenByAkSk",
        json={"app_key": APP_KEY, "app_secret": APP_SECRET},
        timeout=10,
    )
    token.raise_for_status()
    gateway = {"x-app-key": APP_KEY, "Authorization": f"Bearer {token.json()['AccessToken']}"}
    applied = http.post(
        f"{base_url}/apiaccess/ccmessaging/applyToken",
        json={"userId": "fuzz-user", "userName": "Fuzz", "channelId": CHANNEL, "locale": "en"},
        headers=gateway,
        timeout=10,
    )
    applied.raise_for_status()
    return {**gateway, "ccmessaging-token": applied.json()["token"]}


#: body fields that must name the token's user or channel to get past the identity checks
_IDENTITY = {"from": "fuzz-user", "to": CHANNEL, "userId": "fuzz-user", "channelId": CHANNEL}


def _aim_at_the_fuzz_user(case: Any) -> None:
    """On the session endpoints, point generated identity fields at the token's user half
    of the time, so that generated bodies also reach the service, not only the checks."""
    body = case.body
    if case.path.startswith("/apiaccess/") and isinstance(body, dict) and len(repr(body)) % 2:
        for name, value in _IDENTITY.items():
            if isinstance(body.get(name), str):
                body[name] = value


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_operation_answers_5xx(
    case: Any, live_simulator: _LiveSimulator, http: requests.Session
) -> None:
    # a fuzzed fault rule may rightly make every later call answer 503 or hang up: each
    # case starts without rules
    http.delete(f"{live_simulator.base_url}/__admin/faults", timeout=10).raise_for_status()
    headers = _credentials(http, live_simulator.base_url)
    _aim_at_the_fuzz_user(case)
    response = case.call(base_url=live_simulator.base_url, session=http, headers=headers)
    SEEN[(f"{case.method} {case.path}", response.status_code)] += 1
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text


def test_the_fuzzed_document_is_the_live_one(live_simulator: _LiveSimulator) -> None:
    document = requests.get(f"{live_simulator.base_url}/__admin/openapi.json", timeout=10).json()
    assert document == DOCUMENT
    paths = set(document["paths"])
    for name in (
        "applyToken",
        "send",
        "sendAsync",
        "poll",
        "queryQueueInfo",
        "uploadFileStream",
        "downloadFileStream",
        "queryHistoryChatMessage",
        "doLeaveMessage",
        "pushMsg",
    ):
        assert f"/apiaccess/ccmessaging/{name}" in paths
    assert "/apigovernance/api/oauth/tokenByAkSk" in paths
    assert "/__admin/scenarios/{name}/runs" in paths
    # the admin listings' filters are described, so they are fuzzed too
    query = {
        p["name"] for p in document["paths"]["/__admin/requests"]["get"]["parameters"]
    }
    assert {"path", "method", "userId", "status", "since", "limit"} <= query


def test_every_admin_route_is_in_the_document(live_simulator: _LiveSimulator) -> None:
    """The admin routes the app serves and the ones the document describes are the same
    (but the web console's page and its never-ending event stream, which are no API calls
    and cannot be fuzzed)."""
    app = live_simulator.app
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/__admin")
        and not route.resource.canonical.startswith(("/__admin/ui", "/__admin/stream"))
        and route.method != "HEAD"
    }
    documented = {
        (method, path)
        for path, operations in DOCUMENT["paths"].items()
        if path.startswith("/__admin")
        for method in operations
    }
    assert served == documented


def test_the_fuzzing_reached_the_server(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs after the fuzz test (file order): every operation was called, and generated
    bodies got past auth into validation and the service (both 2xx and 4xx answers); the
    server logged no traceback and no error while it was fuzzed."""
    if not SEEN:
        pytest.skip("the fuzz test did not run in this session (deselected)")
    with capsys.disabled():
        print(
            f"\nschemathesis: {sum(SEEN.values())} requests over {len({op for op, _ in SEEN})}"
            f" operations; statuses {dict(sorted(Counter(s for _, s in SEEN.elements()).items()))}"
        )
    assert not SERVER_LOG.bad, "\n".join(SERVER_LOG.bad[:20])
    operations = {op for op, _ in SEEN}
    expected = {f"{m.upper()} {p}" for p, ops in DOCUMENT["paths"].items() for m in ops}
    assert expected <= operations  # schemathesis also tries methods a path lacks (405)
    statuses = {status for _, status in SEEN}
    assert any(200 <= s < 300 for s in statuses)
    assert 400 in statuses
    assert all(s < 500 for s in statuses)
