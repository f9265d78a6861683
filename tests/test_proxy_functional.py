"""``aicc-sim proxy`` end to end, over real sockets and TLS both ways, without a real tenant:
a second simulator plays the tenant over HTTPS with its own self-signed CA; the proxy (HTTPS,
its own CA) sits between it and a recording integration (HTTPS receiver, its own CA) that
checks every push's signature. The tenant drifts on purpose (a scenario pushing an invalid
message with the ``invalid`` fault), the integration sends a request the contract refuses;
both must be in the drift report; the recorded conversation becomes a scenario that lints
and replays to the same receiver with the same messages; no secret is in the recording or
the report."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from conftest import (
    APP_KEY,
    APP_SECRET,
    CCM,
    CHANNEL,
    PUSH_KEY,
    WAIT,
    MakeSim,
    Sim,
    channel_doc,
    config_doc,
)
from receivers import Recorder, serving, signature_verifies

from simulator.cli.main import main
from simulator.config import ChannelConfig, Config, ListenConfig, parse_config
from simulator.core.journal import read_jsonl
from simulator.core.push import PushTarget, RetryPolicy
from simulator.core.tls import SelfSigned, client_context, make_self_signed, server_context
from simulator.core.validation import default_store
from simulator.delivery.replay import ReplayPlan, ScriptedUplink, replay
from simulator.proxy import (
    DRIFT,
    PUSH_PATH,
    RECORDING,
    ProxyRecord,
    ProxySettings,
    create_proxy_app,
)
from simulator.scenario import RunContext, Uplink, load_path
from simulator.server import RunningServer, start_server
from simulator.server.live_config import CONFIG

USER = "8613800001111"
DRIFT_USER = "drifting-user"
#: the customer's message: the tenant's answer quotes it (phone and e-mail to be redacted)
CHAT = "call me on +44 20 7946 0958 or at ann.smith@example.com"

DRIFTING = """\
name: drifting
description: A push the contract refuses, sent on purpose.
steps:
  - push: {content: no controlType here, omit: [controlType]}
    faults: {invalid: true}
"""


@pytest.fixture(scope="module")
def tls_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SelfSigned]:
    """A CA and server certificate each for the tenant, the proxy and the integration."""
    base = tmp_path_factory.mktemp("tls")
    return {
        name: make_self_signed(base / f"{name}-ca.pem", directory=base / name, name=name)
        for name in ("tenant", "proxy", "integration")
    }


@dataclass
class Integration(Recorder):
    """The integration's push receiver: accepts a push only when its signature verifies."""

    verified: list[bool] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        seen = await self.record(request)
        ok = signature_verifies(request, seen.body, PUSH_KEY)
        self.verified.append(ok)
        if not ok:
            return web.json_response({"resultCode": "1", "resultDesc": "bad signature"})
        return web.json_response({"resultCode": "0", "resultDesc": "success."})

    def messages_to(self, user: str) -> list[dict[str, Any]]:
        return [m for seen in self.seen for m in seen.messages if m.get("to") == user]


@dataclass
class Chain:
    """The three parties, running."""

    tenant: RunningServer
    proxy: RunningServer
    integration: Integration
    journal: Path
    sim: Sim
    """The integration's HTTP side, pointed at the proxy (trusting the proxy's CA)."""
    tenant_http: aiohttp.ClientSession
    """A client straight to the tenant (trusting the tenant's CA)."""

    def records(self) -> list[ProxyRecord]:
        return [entry.item for entry in self.proxy.app[RECORDING].list()]

    async def wait_push(self, user: str, control: str, content: str | None = None) -> None:
        """Until the proxy has relayed a push to ``user`` with that message."""

        def relayed(record: ProxyRecord) -> bool:
            if record.kind != "push" or record.user != user:
                return False
            return any(
                m.get("controlType") == control and (content is None or m.get("content") == content)
                for m in record.request.get("messages", [])
            )

        await self.proxy.app[RECORDING].wait_for(relayed, WAIT)


@pytest.fixture
async def chain(
    tls_sets: dict[str, SelfSigned], tmp_path: Path
) -> AsyncIterator[Chain]:
    tenant_tls, proxy_tls, integration_tls = (
        tls_sets["tenant"], tls_sets["proxy"], tls_sets["integration"]
    )  # fmt: skip
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "drifting.yaml").write_text(DRIFTING, encoding="utf-8")
    tenant_doc = config_doc(
        [channel_doc("echo", on_connect="full-conversation")],
        scenario_dirs=[str(scenarios)],
    )
    integration = Integration()
    journal = tmp_path / "proxy.jsonl"
    async with AsyncExitStack() as stack:
        integration.base_url = await stack.enter_async_context(
            serving(integration.handle, server_context(integration_tls.cert, integration_tls.key))
        )
        tenant = await start_server(
            parse_config(tenant_doc, "<tenant>"),
            tls=server_context(tenant_tls.cert, tenant_tls.key),
        )
        stack.push_async_callback(tenant.stop)
        settings = ProxySettings(
            upstream=tenant.url,
            channel=ChannelConfig(
                id="proxy",
                app_key=APP_KEY,
                access_key=APP_KEY,
                push_mode="signature",
                callback_url=integration.url,
                push_key=PUSH_KEY,
                ca_bundle=integration_tls.ca_cert,
            ),
            upstream_tls=client_context(tenant_tls.ca_cert),
            journal_path=str(journal),
        )
        proxy = await start_server(
            Config(credentials=(), channels=(), listen=ListenConfig("127.0.0.1", 0)),
            tls=server_context(proxy_tls.cert, proxy_tls.key),
            build=lambda _config, _url: create_proxy_app(settings),
        )
        stack.push_async_callback(proxy.stop)
        # the tenant's push address is the proxy's push endpoint, over HTTPS (proxy's CA)
        tenant.app[CONFIG].current = parse_config(
            {
                **tenant_doc,
                "channels": [
                    channel_doc(
                        proxy.url + PUSH_PATH,
                        on_connect="full-conversation",
                        push_mode="signature",
                        push_key=PUSH_KEY,
                        ca_bundle=proxy_tls.ca_cert,
                    )
                ],
            },
            "<tenant>",
        )
        http = await stack.enter_async_context(
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=client_context(proxy_tls.ca_cert))
            )
        )
        tenant_http = await stack.enter_async_context(
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=client_context(tenant_tls.ca_cert))
            )
        )
        yield Chain(tenant, proxy, integration, journal, Sim(proxy.app, proxy.url, http),
                    tenant_http)  # fmt: skip


def _shape(message: dict[str, Any]) -> dict[str, Any]:
    """A message without what differs on every run (its clock time and random code)."""
    return {k: v for k, v in message.items() if k not in ("timestamp", "messageCode")}


async def _converse(chain: Chain) -> None:
    """One whole conversation through the proxy: CONNECT, one CHAT, the agent's goodbye."""
    customer = chain.sim.customer(USER)
    await customer.connect()
    await chain.wait_push(USER, "CHAT", "Hello, this is Alice. How can I help you?")
    reply = await customer.send("CHAT", CHAT, messageId="m-1")
    assert reply.status == 200 and reply.json["resultCode"] == "0", reply.text
    await chain.wait_push(USER, "DISCONNECT")


async def test_proxied_conversation_reaches_the_integration_signed_and_unchanged(
    chain: Chain,
) -> None:
    await _converse(chain)
    got = chain.integration.messages_to(USER)
    assert [m["controlType"] for m in got] == [
        "CHAT", "CHAT", "CHAT", "READ", "CHAT", "CHAT", "DISCONNECT"
    ]  # fmt: skip
    assert got[4]["content"] == f"Thank you, I have noted: {CHAT}"
    assert all(chain.integration.verified)  # re-signed with the integration's push key
    # the pushes the tenant sent are what the integration got (its deliveries journal)
    report = chain.proxy.app[DRIFT].to_json()
    assert report["findings"] == 0, report
    assert report["checked"] > 10


async def test_answers_and_errors_come_back_unchanged(chain: Chain) -> None:
    customer = chain.sim.customer(USER)
    await customer.login()
    body = customer.message("CHATTY", "not a control type")
    headers = {**customer.headers(), "Content-Type": "application/json"}
    proxied = await chain.sim.request("POST", f"{CCM}/send", json_body=body, headers=headers)
    async with chain.tenant_http.post(
        f"{chain.tenant.url}{CCM}/send", data=json.dumps(body), headers=headers
    ) as direct:
        direct_text = await direct.text()
        assert (proxied.status, proxied.text) == (direct.status, direct_text)
        assert proxied.headers["Content-Type"] == direct.headers["Content-Type"]
    assert proxied.status == 400
    items = chain.proxy.app[DRIFT].to_json()["items"]
    refused = [i for i in items if i["side"] == "integration" and i["pointer"] == "/controlType"]
    assert refused and refused[0]["endpoint"] == f"POST {CCM}/send", items
    assert refused[0]["count"] == 1


async def test_a_drifting_tenant_is_in_the_drift_report(chain: Chain) -> None:
    async with chain.tenant_http.post(
        f"{chain.tenant.url}/__admin/scenarios/drifting/runs", json={"userId": DRIFT_USER}
    ) as started:
        assert started.status in (200, 201, 202), await started.text()
    await chain.proxy.app[RECORDING].wait_for(
        lambda r: r.kind == "push" and r.user == DRIFT_USER, WAIT
    )
    # relayed as it came (the report says what is wrong; the proxy never alters)
    relayed = chain.integration.messages_to(DRIFT_USER)
    assert len(relayed) == 1 and "controlType" not in relayed[0]
    async with chain.sim.http.get(f"{chain.proxy.url}/__admin/drift") as answer:
        report = await answer.json()
    tenant_items = [i for i in report["items"] if i["side"] == "tenant"]
    assert [(i["what"], i["pointer"], i["schema"]) for i in tenant_items] == [
        ("push", "/messages/0", "push-request")
    ], report
    assert "controlType" in tenant_items[0]["message"]


async def test_secrets_stay_out_of_recording_and_report(chain: Chain) -> None:
    customer = chain.sim.customer(USER)
    await customer.connect()
    await chain.wait_push(USER, "CHAT", "Hello, this is Alice. How can I help you?")
    await customer.call("send", {"app_secret": APP_SECRET, "token": customer.token})
    chain.proxy.app[RECORDING].flush()
    recorded = chain.journal.read_text(encoding="utf-8")
    assert "tokenByAkSk" in recorded and "applyToken" in recorded
    report = json.dumps(chain.proxy.app[DRIFT].to_json())
    assert chain.proxy.app[DRIFT].to_json()["integration"] >= 1
    for secret in (APP_SECRET, customer.access_token, customer.token, PUSH_KEY):
        assert secret not in recorded
        assert secret not in report


async def test_recorded_conversation_becomes_a_scenario_that_replays_the_same(
    chain: Chain, tmp_path: Path, tls_sets: dict[str, SelfSigned]
) -> None:
    await _converse(chain)
    chain.proxy.app[RECORDING].flush()
    redacted, kept = tmp_path / "recorded.yaml", tmp_path / "recorded-kept.yaml"
    assert main(["record-to-scenario", str(chain.journal), "-o", str(redacted)]) == 0
    text = redacted.read_text(encoding="utf-8")
    assert "[phone]" in text and "[email]" in text
    assert "7946" not in text and "example.com" not in text and USER not in text
    assert main(["record-to-scenario", str(chain.journal), "--user", USER, "--keep",
                 "-o", str(kept)]) == 0  # fmt: skip
    assert main(["scenarios", "lint", str(kept)]) == 0
    scenario = load_path(kept)
    assert scenario.name == "recorded-kept"

    original = [_shape(m) for m in chain.integration.messages_to(USER)]
    entries = [e for _, e in read_jsonl(chain.journal)]
    connect_at = next(e["at"] for e in entries if e["request"] and
                      e["request"].get("controlType") == "CONNECT")  # fmt: skip
    chat_at = next(e["at"] for e in entries if e["request"] and
                   e["request"].get("controlType") == "CHAT" and e["kind"] == "call")  # fmt: skip
    chain.integration.seen.clear()
    target = PushTarget(
        url=PushTarget.webhook_url(chain.integration.url, "signature"),
        mode="signature",
        push_key=PUSH_KEY,
        access_key=APP_KEY,
        tls=client_context(tls_sets["integration"].ca_cert),
    )
    plan = ReplayPlan(
        scenario=scenario,
        context=RunContext(user_id=USER, channel_id=CHANNEL, idle_timeout=WAIT),
        target=target,
        policy=RetryPolicy(attempts=1),
        store=default_store(),
        uplinks=(
            ScriptedUplink(
                (chat_at - connect_at) / 1000,
                Uplink("CHAT", "TEXT", CHAT, "m-1"),
            ),
        ),
    )
    async with aiohttp.ClientSession() as http:
        report = await replay(plan, http)
    assert report.outcome == "completed", report
    assert [_shape(m) for m in chain.integration.messages_to(USER)] == original
    assert all(chain.integration.verified)


async def _start_proxy(settings: ProxySettings) -> RunningServer:
    return await start_server(
        Config(credentials=(), channels=(), listen=ListenConfig("127.0.0.1", 0)),
        build=lambda _config, _url: create_proxy_app(settings),
    )


@dataclass
class OAuthIntegration(Recorder):
    """Accepts every push; the test reads the headers it got."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        return web.json_response({"resultCode": "0", "resultDesc": "success."})


async def test_oauth_pushes_are_relayed_with_the_bearer_and_app_key(
    make_sim: MakeSim, tmp_path: Path
) -> None:
    integration = OAuthIntegration()
    async with serving(integration.handle) as url, AsyncExitStack() as stack:
        integration.base_url = url
        tenant = await make_sim(config_doc([channel_doc("echo")]))
        proxy = await _start_proxy(
            ProxySettings(
                upstream=tenant.base_url,
                channel=ChannelConfig(
                    id="proxy", app_key=APP_KEY, access_key=APP_KEY, callback_url=integration.url
                ),
            )
        )
        stack.push_async_callback(proxy.stop)
        tenant.app[CONFIG].current = parse_config(
            config_doc([channel_doc(proxy.url + PUSH_PATH)]), "<tenant>"
        )
        customer = Sim(proxy.app, proxy.url, tenant.http).customer(USER)
        await customer.connect()
        await proxy.app[RECORDING].wait_for(lambda r: r.kind == "push", WAIT)
        seen = integration.seen[0]
        assert seen.path == "/aicc"
        assert seen.headers["x-app-key"] == APP_KEY
        assert seen.headers["Authorization"].startswith("Bearer ")
        # a push without credentials is refused and reported, not relayed
        async with tenant.http.post(
            proxy.url + PUSH_PATH, json={"timestamp": 1, "messages": []}
        ) as refused:
            assert refused.status == 401
        items = proxy.app[DRIFT].to_json()["items"]
        assert [(i["side"], i["what"]) for i in items] == [("tenant", "push-auth")], items
        assert len(integration.seen) == 1


async def test_proxy_command_prints_the_drift_summary_at_exit(
    make_sim: MakeSim, tmp_path: Path
) -> None:
    tenant = await make_sim(config_doc([channel_doc("echo")]))
    journal = tmp_path / "rec.jsonl"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "proxy", "--upstream", tenant.base_url,
        "--callback", "http://127.0.0.1:9/aicc", "--port", "0", "--journal", str(journal),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), WAIT)).decode()
        assert first.startswith("aicc-sim proxy: forwarding http://127.0.0.1:"), first
        url = first.split("forwarding ")[1].split()[0]
        customer = Sim(tenant.app, url, tenant.http).customer(USER)
        await customer.login()
        reply = await customer.send("CHATTY")
        assert reply.status == 400
    finally:
        process.terminate()
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
    text = out.decode()
    assert process.returncode == 0, err.decode()
    assert "aicc-sim proxy: 1 contract drift finding in" in text, text
    assert f"integration request POST {CCM}/send /controlType" in text, text
    assert APP_SECRET not in text + err.decode() and customer.token not in text
    assert [e["path"] for _, e in read_jsonl(journal)][-1] == f"{CCM}/send"
