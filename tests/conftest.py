"""Shared fixtures of the server's end-to-end tests.

- :class:`RecordingReceiver`: an integration's push receiver on its own port that records
  every push and answers from a per-path script (``ok`` by default);
- ``make_sim``: the simulator started the way ``serve`` starts it (``start_server``: bind,
  then ``create_app`` with the bound URL) on a free port, configured from a small document
  (``parse_config``) that points at the receiver, on the real clock or a virtual one;
- :class:`Customer`: the integration side of the vendor's call sequence (reference §7.1):
  tokenByAkSk → applyToken → send / poll / … with the vendor's headers.

Everything waits on events (an ``asyncio.Condition`` in the receiver, the journal's
``wait_for`` in the simulator), never on sleeps.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import logging
import os
import subprocess
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDictProxy

from simulator.config import parse_config
from simulator.core.clock import VirtualClock
from simulator.core.validation import default_store
from simulator.server import RunningServer, start_server
from simulator.server.sessions import SESSIONS, SessionStore

APP_KEY = "test-app-key"
APP_SECRET = "test-app-secret"
CHANNEL = "202105284494222653"
PUSH_KEY = "SimulatorPushKey0123456789abcdefghijklmnopq"
CCM = "/apiaccess/ccmessaging"
TOKEN_PATH = "/apigovernance/api/oauth/tokenByAkSk"
#: generous bound for every wait on an event
WAIT = 10.0

# --------------------------------------------------------------------------------------------
# the recording receiver


@dataclass(frozen=True)
class Push:
    """One request the receiver got."""

    method: str
    path: str
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def messages(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.json["messages"]
        return found


@dataclass
class RecordingReceiver:
    """Records every request; answers per path from a script of actions (default ``ok``):
    ``ok``, ``500``, ``code1`` (200 with resultCode "1"), ``hold`` (waits for ``release``)."""

    base_url: str = ""
    pushes: list[Push] = field(default_factory=list)
    scripts: dict[str, deque[str]] = field(default_factory=dict)
    default_action: str = "ok"
    release: asyncio.Event = field(default_factory=asyncio.Event)
    holding: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        """The callback URL a channel is configured with."""
        return self.base_url + "/aicc"

    def script(self, path: str, *actions: str) -> None:
        """Answer the next requests on ``path`` with ``actions``, then ``ok``."""
        self.scripts[path] = deque(actions)

    def messages(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Every DownLinkMsg received (to ``user_id``), in arrival order."""
        found = [m for push in self.pushes for m in push.messages]
        return [m for m in found if user_id is None or m.get("to") == user_id]

    def pushes_to(self, user_id: str) -> list[Push]:
        """Every push whose messages go to ``user_id``."""
        return [p for p in self.pushes if any(m.get("to") == user_id for m in p.messages)]

    async def wait_until(self, condition: Callable[[], bool], what: str = "") -> None:
        """Wait (bounded) until ``condition()`` holds; re-checked on every request."""
        try:
            async with asyncio.timeout(WAIT), self.changed:
                await self.changed.wait_for(condition)
        except TimeoutError:
            raise AssertionError(
                f"receiver: timed out waiting for {what or condition}; got "
                f"{[(m.get('controlType'), m.get('content')) for m in self.messages()]}"
            ) from None

    async def wait_messages(self, user_id: str, count: int) -> list[dict[str, Any]]:
        """The first ``count`` messages to ``user_id``, once they have arrived."""
        await self.wait_until(
            lambda: len(self.messages(user_id)) >= count, f"{count} messages to {user_id}"
        )
        return self.messages(user_id)[:count]

    async def wait_message(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """The first message to ``user_id`` whose fields equal ``fields``."""

        def match() -> dict[str, Any] | None:
            for message in self.messages(user_id):
                if all(message.get(k) == v for k, v in fields.items()):
                    return message
            return None

        await self.wait_until(lambda: match() is not None, f"{fields} to {user_id}")
        found = match()
        assert found is not None
        return found

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.pushes.append(Push(request.method, request.path, request.headers, body))
        async with self.changed:
            self.changed.notify_all()
        queue = self.scripts.get(request.path)
        action = queue.popleft() if queue else self.default_action
        if action == "ok":
            return web.json_response({"resultCode": "0", "resultDesc": "success."})
        if action == "500":
            return web.Response(status=500, text="boom")
        if action == "code1":
            return web.json_response({"resultCode": "1", "resultDesc": "busy"})
        if action == "hold":
            self.holding.set()
            await self.release.wait()
            return web.json_response({"resultCode": "0", "resultDesc": "success."})
        raise AssertionError(f"unknown receiver action {action!r}")


@pytest.fixture
async def receiver(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> AsyncIterator[RecordingReceiver]:
    """A recording push receiver on a free port."""
    recv = RecordingReceiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recv.handle)
    server = await aiohttp_server(app)
    recv.base_url = str(server.make_url("")).rstrip("/")
    yield recv
    recv.release.set()  # let held handlers finish before the server closes


# --------------------------------------------------------------------------------------------
# the simulator


def channel_doc(callback_url: str, **overrides: Any) -> dict[str, Any]:
    """One channel of the test config: push/oauth to ``callback_url``, fast scenarios."""
    doc: dict[str, Any] = {
        "id": CHANNEL,
        "delivery": "push",
        "push_mode": "oauth",
        "callback_url": callback_url,
        "app_key": APP_KEY,
        "on_connect": "connected",
        "idle_timeout": 60,
        "speed": 10,
    }
    doc.update(overrides)
    return doc


def config_doc(channels: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    """The whole test config: one credential pair, quick poll window and retries."""
    doc: dict[str, Any] = {
        "listen": {"host": "127.0.0.1", "port": 0},
        "credentials": [{"app_key": APP_KEY, "app_secret": APP_SECRET}],
        "channels": channels,
        "poll": {"timeout_ms": 300},
        "delivery": {
            "attempts": 2,
            "timeout": 3.0,
            "backoff_initial": 0.01,
            "backoff_factor": 1.0,
            "backoff_max": 0.05,
        },
    }
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(doc.get(key), Mapping):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = copy.deepcopy(value)
    return doc


@dataclass
class Reply:
    """An HTTP answer, read in full."""

    status: int
    headers: CIMultiDictProxy[str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Sim:
    """A running simulator: its app, service, URL and an HTTP session to talk to it."""

    app: web.Application
    base_url: str
    http: aiohttp.ClientSession
    clock: VirtualClock | None = None

    @property
    def sessions(self) -> SessionStore:
        return self.app[SESSIONS]

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Reply:
        """One request to the simulator; the body is read in full."""
        send_headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body)
            send_headers.setdefault("Content-Type", "application/json")
        async with self.http.request(
            method, self.base_url + path, data=data, headers=send_headers, params=params
        ) as response:
            text = await response.text(errors="replace")
            reply = Reply(response.status, response.headers, text)
        assert "Traceback" not in reply.text, reply.text
        return reply

    async def admin(self, method: str, path: str, **kwargs: Any) -> Reply:
        """A call to ``/__admin{path}``."""
        return await self.request(method, "/__admin" + path, **kwargs)

    def customer(self, user_id: str, **kwargs: Any) -> Customer:
        """An integration-side client for ``user_id``."""
        return Customer(self, user_id, **kwargs)


MakeSim = Callable[..., Awaitable[Sim]]


@pytest.fixture
async def make_sim() -> AsyncIterator[MakeSim]:
    """``await make_sim(document, clock=None)``: a simulator on a free port (a
    :class:`VirtualClock` moves every timing of the server by hand)."""
    sessions: list[aiohttp.ClientSession] = []
    servers: list[RunningServer] = []

    async def start(document: dict[str, Any], *, clock: VirtualClock | None = None) -> Sim:
        config = parse_config(document, "<test>")
        running = await start_server(config, clock=clock)
        servers.append(running)
        http = aiohttp.ClientSession()
        sessions.append(http)
        return Sim(running.app, running.url, http, clock)

    yield start
    for http in sessions:
        await http.close()
    for running in servers:
        await running.stop()


@pytest.fixture
async def sim(make_sim: MakeSim, receiver: RecordingReceiver) -> Sim:
    """The default simulator: one push/oauth channel to the recording receiver."""
    return await make_sim(config_doc([channel_doc(receiver.url)]))


# --------------------------------------------------------------------------------------------
# the integration side


class Customer:
    """One customer as an integration drives it, in the vendor's call order."""

    def __init__(
        self,
        sim: Sim,
        user_id: str,
        *,
        channel_id: str = CHANNEL,
        app_key: str = APP_KEY,
        app_secret: str = APP_SECRET,
    ) -> None:
        self.sim = sim
        self.user_id = user_id
        self.channel_id = channel_id
        self.app_key = app_key
        self.app_secret = app_secret
        self.access_token = ""
        self.token = ""

    async def token_by_ak_sk(self, expire: str | None = "600") -> Reply:
        """tokenByAkSk; keeps the AccessToken."""
        headers = {} if expire is None else {"X-Token-Expire": expire}
        reply = await self.sim.request(
            "POST",
            TOKEN_PATH,
            json_body={"app_key": self.app_key, "app_secret": self.app_secret},
            headers=headers,
        )
        if reply.status == 200:
            self.access_token = reply.json["AccessToken"]
        return reply

    def gateway_headers(self) -> dict[str, str]:
        """x-app-key and the Bearer AccessToken."""
        return {"x-app-key": self.app_key, "Authorization": f"Bearer {self.access_token}"}

    def headers(self) -> dict[str, str]:
        """Every header of a session call (reference §1.3)."""
        return {**self.gateway_headers(), "ccmessaging-token": self.token}

    async def apply_token(self) -> Reply:
        """applyToken; keeps the ccmessaging-token."""
        reply = await self.sim.request(
            "POST",
            f"{CCM}/applyToken",
            json_body={
                "userId": self.user_id,
                "userName": f"name-{self.user_id}",
                "channelId": self.channel_id,
                "locale": "en",
            },
            headers=self.gateway_headers(),
        )
        if reply.status == 200 and reply.json.get("resultCode", "0") == "0":
            self.token = reply.json["token"]
        return reply

    async def login(self, expire: str | None = "600") -> None:
        """tokenByAkSk then applyToken, both asserted to succeed."""
        reply = await self.token_by_ak_sk(expire)
        assert reply.status == 200, reply.text
        reply = await self.apply_token()
        assert reply.status == 200 and reply.json["resultCode"] == "0", reply.text

    def message(self, control: str, content: str | None = None, **extra: Any) -> dict[str, Any]:
        """A sendMsgReq body from this customer."""
        body: dict[str, Any] = {
            "channel": "WEB",
            "controlType": control,
            "from": self.user_id,
            "to": self.channel_id,
            "mediaType": "TEXT",
            "sourceType": "CUSTOMER",
            "senderNickname": f"name-{self.user_id}",
            "timestamp": str(int(time.time() * 1000)),
        }
        if content is not None:
            body["content"] = content
        body.update(extra)
        return body

    async def call(
        self, name: str, body: Any, *, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """POST ``/apiaccess/ccmessaging/{name}`` with the session headers."""
        return await self.sim.request(
            "POST", f"{CCM}/{name}", json_body=body, headers=headers or self.headers()
        )

    async def send(
        self, control: str, content: str | None = None, *, path: str = "send", **extra: Any
    ) -> Reply:
        """send (or ``path="sendAsync"``) one message."""
        return await self.call(path, self.message(control, content, **extra))

    async def connect(self) -> Reply:
        """Log in if needed, then CONNECT (asserted to answer 0)."""
        if not self.token:
            await self.login()
        reply = await self.send("CONNECT")
        assert reply.status == 200 and reply.json["resultCode"] == "0", reply.text
        return reply

    async def poll(self, *, receiver_id: str | None = None, need_read: str | None = None) -> Reply:
        """GET poll for this customer."""
        params = {"receiverId": receiver_id or self.user_id, "channel": "WEB"}
        if need_read is not None:
            params["isNeedRead"] = need_read
        return await self.sim.request("GET", f"{CCM}/poll", headers=self.headers(), params=params)

    async def queue_info(self) -> Reply:
        """queryQueueInfo for this customer."""
        return await self.call(
            "queryQueueInfo",
            {"userId": self.user_id, "channelConfigId": self.channel_id, "channel": "WEB"},
        )


#: what the connected scenario's agent and the robot scenarios' robot say first
GREETING = "Hello, this is Alice. How can I help you?"
ROBOT_GREETING = "Hello, I am the virtual assistant. Ask me anything, or ask for an agent."


async def with_agent(sim: Sim, receiver: RecordingReceiver, user: str) -> Customer:
    """A customer whose chat reached the agent (the connected scenario has greeted)."""
    customer = sim.customer(user)
    await customer.connect()
    await receiver.wait_message(user, content=GREETING)
    return customer


def valid(schema: str, reply: Reply) -> Any:
    """The JSON of a 200 answer that conforms to ``schema`` (the test fails otherwise)."""
    assert reply.status == 200, reply.text
    assert default_store().violations(schema, reply.json) == [], reply.text
    return reply.json


__all__ = [
    "APP_KEY",
    "APP_SECRET",
    "CCM",
    "CHANNEL",
    "GREETING",
    "PUSH_KEY",
    "ROBOT_GREETING",
    "TOKEN_PATH",
    "WAIT",
    "Customer",
    "MakeSim",
    "Push",
    "RecordingReceiver",
    "Reply",
    "Sim",
    "channel_doc",
    "config_doc",
    "valid",
    "with_agent",
]


class _NeverRetrieved(logging.Handler):
    """Collects asyncio's "... exception was never retrieved" reports: a future or task that
    failed and that nobody awaited (a push lost without a trace, hardening defect 1)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "never retrieved" in message:
            self.found.append(message + (f": {record.exc_info[1]!r}" if record.exc_info else ""))


@pytest.fixture(autouse=True)
def no_unretrieved_futures() -> Iterator[None]:
    """Every test: no future or task may fail unawaited. (asyncio reports one when it is
    freed; the session-end check below collects the ones freed only by the cycle collector.)"""
    handler = _NeverRetrieved()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not handler.found, "\n".join(handler.found)


@pytest.fixture(autouse=True, scope="session")
def no_unretrieved_futures_at_exit() -> Iterator[None]:
    handler = _NeverRetrieved()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    yield
    gc.collect()
    logger.removeHandler(handler)
    assert not handler.found, "\n".join(handler.found)


def serve_process(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    """``aicc-sim serve ARGS`` (``python -m simulator``, this checkout first on the path) as
    a child with text pipes; its first stdout line is the URL line, so reading it waits for
    the server (no sleep)."""
    return subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
