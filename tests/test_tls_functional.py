"""TLS both ways over real sockets: ``serve --tls self-signed`` (its CA file trusted by a
client, TLS below 1.2 refused), pushes to ``https://`` callbacks verified against the
channel's CA bundle, two-way TLS (a receiver demanding a client certificate refuses a push
without one and accepts it with one), a receiver offering only TLS 1.1 refused, and the
channel's TLS settings checked at start."""

from __future__ import annotations

import ssl
import sys
import urllib.request
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from conftest import CHANNEL, WAIT, MakeSim, Sim, channel_doc, config_doc, serve_process
from receivers import Recorder, serving

from simulator.cli.main import main
from simulator.cli.status import CANNOT_RUN
from simulator.config import parse_config
from simulator.core.errors import ConfigError, SimulatorError
from simulator.core.tls import (
    MINIMUM_VERSION,
    SelfSigned,
    client_context,
    make_self_signed,
    server_context,
)
from simulator.delivery.records import AttemptRecord
from simulator.server.deliveries import DELIVERIES

PYTHON = [sys.executable, "-m", "simulator"]


@pytest.fixture(scope="module")
def tls_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SelfSigned]:
    """A CA and certificate each for a receiver and for a client (two-way TLS)."""
    base = tmp_path_factory.mktemp("tls")
    return {
        name: make_self_signed(base / f"{name}-ca.pem", directory=base / name, name=name)
        for name in ("receiver", "client", "other")
    }


def _tls11_only(*, server: bool, cert: SelfSigned | None = None) -> ssl.SSLContext:
    """A context that speaks TLS 1.0-1.1 only (security level 0, so that OpenSSL itself
    would allow it: what refuses it is the other side's minimum)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    if cert is not None:
        context.load_cert_chain(cert.cert, cert.key)
    if not server:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def test_every_context_refuses_below_tls_1_2(tls_sets: dict[str, SelfSigned]) -> None:
    receiver = tls_sets["receiver"]
    assert MINIMUM_VERSION is ssl.TLSVersion.TLSv1_2
    assert server_context(receiver.cert, receiver.key).minimum_version is MINIMUM_VERSION
    assert client_context(receiver.ca_cert).minimum_version is MINIMUM_VERSION


def test_serve_tls_self_signed_writes_a_ca_the_client_trusts(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    process = serve_process(
        "--port", "0", "--tls", "self-signed", "--tls-ca-out", str(ca), cwd=tmp_path
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until serve prints: no sleep needed
        second = process.stdout.readline()
        assert first.startswith("aicc-sim: serving the emulated AICC on https://127.0.0.1:"), first
        assert str(ca) in second, second
        url = first.split(" on ")[1].split()[0]
        trusted = client_context(str(ca))
        with urllib.request.urlopen(f"{url}/__admin/health", context=trusted) as answer:
            assert answer.status == 200
        # the system trust store does not know the CA
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(f"{url}/__admin/health", context=client_context())
        # a client that speaks at most TLS 1.1 gets no connection
        with pytest.raises(OSError):
            urllib.request.urlopen(
                f"{url}/__admin/health", context=_tls11_only(server=False)
            )
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_serve_tls_options_exclude_each_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--tls", "self-signed", "--tls-cert", "x.pem"]) == CANNOT_RUN
    assert main(["serve", "--tls-cert", str(tmp_path / "absent.pem"),
                 "--tls-key", str(tmp_path / "absent.key")]) == CANNOT_RUN  # fmt: skip
    err = capsys.readouterr().err
    assert "exclude each other" in err and "cannot use TLS certificate" in err
    assert "Traceback" not in err


@dataclass
class Receiver(Recorder):
    """Accepts every push."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        return web.json_response({"resultCode": "0", "resultDesc": "success."})


@pytest.fixture
async def mtls_receiver(tls_sets: dict[str, SelfSigned]) -> AsyncIterator[Receiver]:
    """An HTTPS receiver that demands a client certificate signed by the client CA."""
    receiver = Receiver()
    certs = tls_sets["receiver"]
    context = server_context(certs.cert, certs.key, client_ca=tls_sets["client"].ca_cert)
    async with serving(receiver.handle, context) as url:
        receiver.base_url = url
        yield receiver


async def _last_attempt(sim: Sim, user: str) -> AttemptRecord:
    """The first delivery attempt of ``user``'s run that settles it (accepted or the last)."""
    entry = await sim.app[DELIVERIES].wait_for(
        lambda e: isinstance(e, AttemptRecord)
        and e.conversation.endswith(f"/{user}")
        and (e.verdict == "accepted" or e.attempt == 2),
        WAIT,
    )
    assert isinstance(entry.item, AttemptRecord)
    return entry.item


async def _run(sim: Sim, channel: str, user: str) -> None:
    reply = await sim.admin(
        "POST", "/scenarios/connected/runs", json_body={"userId": user, "channelId": channel}
    )
    assert reply.status in (200, 201, 202), reply.text


async def test_two_way_tls_push_needs_the_channels_client_certificate(
    make_sim: MakeSim, mtls_receiver: Receiver, tls_sets: dict[str, SelfSigned]
) -> None:
    ca = tls_sets["receiver"].ca_cert
    client = tls_sets["client"]
    sim = await make_sim(
        config_doc(
            [
                channel_doc(mtls_receiver.url, id="without-cert", ca_bundle=ca),
                channel_doc(
                    mtls_receiver.url,
                    id="with-cert",
                    ca_bundle=ca,
                    client_cert=client.cert,
                    client_key=client.key,
                ),
                # a client certificate from a CA the receiver does not trust
                channel_doc(
                    mtls_receiver.url,
                    id="wrong-cert",
                    ca_bundle=ca,
                    client_cert=tls_sets["other"].cert,
                    client_key=tls_sets["other"].key,
                ),
            ]
        )
    )
    await _run(sim, "without-cert", "u-anonymous")
    refused = await _last_attempt(sim, "u-anonymous")
    assert refused.verdict == "connection-error", refused
    await _run(sim, "wrong-cert", "u-stranger")
    assert (await _last_attempt(sim, "u-stranger")).verdict == "connection-error"
    await _run(sim, "with-cert", "u-known")
    accepted = await _last_attempt(sim, "u-known")
    assert accepted.verdict == "accepted", accepted
    users = {m["to"] for seen in mtls_receiver.seen for m in seen.messages}
    assert users == {"u-known"}


async def test_a_callback_signed_by_another_ca_is_refused(
    make_sim: MakeSim, tls_sets: dict[str, SelfSigned]
) -> None:
    receiver = Receiver()
    certs = tls_sets["receiver"]
    async with serving(receiver.handle, server_context(certs.cert, certs.key)) as url:
        receiver.base_url = url
        sim = await make_sim(
            config_doc(
                [
                    channel_doc(receiver.url, id="trusting", ca_bundle=certs.ca_cert),
                    channel_doc(receiver.url, id="other-ca", ca_bundle=tls_sets["other"].ca_cert),
                ]
            )
        )
        await _run(sim, "other-ca", "u-untrusted")
        untrusted = await _last_attempt(sim, "u-untrusted")
        assert untrusted.verdict == "connection-error"
        assert "CERTIFICATE_VERIFY_FAILED" in (untrusted.error or ""), untrusted.error
        await _run(sim, "trusting", "u-trusted")
        assert (await _last_attempt(sim, "u-trusted")).verdict == "accepted"


async def test_a_receiver_offering_only_tls_1_1_is_refused(
    make_sim: MakeSim, tls_sets: dict[str, SelfSigned]
) -> None:
    receiver = Receiver()
    certs = tls_sets["receiver"]
    async with serving(receiver.handle, _tls11_only(server=True, cert=certs)) as url:
        receiver.base_url = url
        # the receiver does answer a TLS 1.1 client: only the simulator's minimum refuses it
        async with aiohttp.ClientSession() as http, http.get(
            url, ssl=_tls11_only(server=False)
        ) as answer:
            assert answer.status == 200
        receiver.seen.clear()
        sim = await make_sim(config_doc([channel_doc(receiver.url, ca_bundle=certs.ca_cert)]))
        await _run(sim, CHANNEL, "u-old")
        old = await _last_attempt(sim, "u-old")
        assert old.verdict == "connection-error", old
        assert receiver.seen == []


def test_channel_tls_settings_are_checked(tmp_path: Path) -> None:
    doc: dict[str, Any] = config_doc(
        [channel_doc("https://127.0.0.1:9/aicc", client_key=str(tmp_path / "k.pem"))]
    )
    with pytest.raises(ConfigError, match="client_cert"):
        parse_config(doc, "<test>")
    missing = str(tmp_path / "absent.pem")
    config = parse_config(
        config_doc([channel_doc("https://127.0.0.1:9/aicc", ca_bundle=missing)]), "<test>"
    )
    from simulator.server.app import create_app

    with pytest.raises(SimulatorError, match="cannot use CA bundle"):
        create_app(config)
