"""``check-callback`` against ``https://`` receivers over real sockets: the TLS version it
speaks, and each certificate problem (untrusted, wrong host, expired) reported as its own
case; a receiver that still accepts TLS 1.1 fails ``tls-refuses-old``; two-way TLS with
``--client-cert``."""

from __future__ import annotations

import asyncio
import ssl
import warnings
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from receivers import Recorder, serving

from simulator.cli import main
from simulator.core.tls import SelfSigned, make_self_signed, server_context

WAIT = 60.0


@dataclass
class Receiver(Recorder):
    """Accepts every push (the TLS cases are what is under test)."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        return web.json_response({"resultCode": "0", "resultDesc": "success."})


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SelfSigned]:
    base = tmp_path_factory.mktemp("tls")

    def make(
        name: str, hosts: tuple[str, ...] = (), *, loopback: bool = True, expired: bool = False
    ) -> SelfSigned:
        return make_self_signed(
            base / f"{name}-ca.pem", directory=base / name, name=name, hosts=hosts,
            loopback=loopback, expired=expired,
        )  # fmt: skip

    return {
        "good": make("good"),
        "wrong-host": make("wronghost", ("wrong.example",), loopback=False),
        "expired": make("expired", expired=True),
        "client": make("client"),
    }


async def _check(url: str, *extra: str) -> tuple[int, dict[str, str], str]:
    """Run check-callback; its exit status, TLS case lines by name, and its whole output."""
    import io

    out = io.StringIO()

    def run() -> int:
        with redirect_stdout(out):
            return main(["check-callback", url, "--skip-auth-cases", *extra])

    async with asyncio.timeout(WAIT):
        status = await asyncio.to_thread(run)
    text = out.getvalue()
    lines = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[0] in ("PASS", "FAIL", "SKIP") and parts[1].startswith("tls-"):
            lines[parts[1]] = line
    return status, lines, text


@pytest.fixture
async def https(certs: dict[str, SelfSigned]) -> AsyncIterator[dict[str, str]]:
    """One receiver per certificate set, by name; plus a two-way TLS one."""
    urls: dict[str, str] = {}
    async with AsyncExitStack() as stack:
        for name in ("good", "wrong-host", "expired"):
            receiver = Receiver()
            context = server_context(certs[name].cert, certs[name].key)
            receiver.base_url = await stack.enter_async_context(serving(receiver.handle, context))
            urls[name] = receiver.url
        mutual = Receiver()
        context = server_context(
            certs["good"].cert, certs["good"].key, client_ca=certs["client"].ca_cert
        )
        mutual.base_url = await stack.enter_async_context(serving(mutual.handle, context))
        urls["mutual"] = mutual.url
        old = Receiver()
        legacy = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        legacy.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            legacy.minimum_version = ssl.TLSVersion.TLSv1
        legacy.load_cert_chain(certs["good"].cert, certs["good"].key)
        old.base_url = await stack.enter_async_context(serving(old.handle, legacy))
        urls["old"] = old.url
        yield urls


async def test_a_good_receiver_passes_every_tls_case(
    https: dict[str, str], certs: dict[str, SelfSigned], tmp_path: Path
) -> None:
    junit = tmp_path / "report.xml"
    status, lines, text = await _check(
        https["good"], "--ca-bundle", certs["good"].ca_cert, "--junit", str(junit)
    )
    assert status == 0, text
    assert set(lines) == {
        "tls-handshake", "tls-certificate-trusted", "tls-certificate-host",
        "tls-certificate-dates", "tls-refuses-old",
    }  # fmt: skip
    assert all(line.startswith("PASS") for line in lines.values()), text
    assert "TLSv1.3" in lines["tls-handshake"] or "TLSv1.2" in lines["tls-handshake"]
    names = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
    assert "tls-certificate-dates" in names


async def test_an_untrusted_certificate_is_a_failed_case(https: dict[str, str]) -> None:
    status, lines, text = await _check(https["good"])  # the system's CAs: not ours
    assert status == 1
    assert lines["tls-certificate-trusted"].startswith("FAIL"), text
    assert "not trusted" in lines["tls-certificate-trusted"]
    assert lines["tls-certificate-host"].startswith("SKIP")
    assert lines["tls-certificate-dates"].startswith("SKIP")


async def test_a_certificate_for_another_host_is_a_failed_case(
    https: dict[str, str], certs: dict[str, SelfSigned]
) -> None:
    ca = certs["wrong-host"].ca_cert
    status, lines, text = await _check(https["wrong-host"], "--ca-bundle", ca)
    assert status == 1
    assert lines["tls-certificate-trusted"].startswith("PASS"), text
    assert lines["tls-certificate-host"].startswith("FAIL")
    assert "another host" in lines["tls-certificate-host"]
    assert lines["tls-certificate-dates"].startswith("PASS")


async def test_an_expired_certificate_is_a_failed_case(
    https: dict[str, str], certs: dict[str, SelfSigned]
) -> None:
    status, lines, text = await _check(https["expired"], "--ca-bundle", certs["expired"].ca_cert)
    assert status == 1
    assert lines["tls-certificate-dates"].startswith("FAIL"), text
    assert "certificate expired" in lines["tls-certificate-dates"]
    assert lines["tls-certificate-host"].startswith("PASS")
    assert "certificate expired" in lines["tls-handshake"]


async def test_a_receiver_still_accepting_tls_1_1_fails_that_case(
    https: dict[str, str], certs: dict[str, SelfSigned]
) -> None:
    status, lines, text = await _check(https["old"], "--ca-bundle", certs["good"].ca_cert)
    assert status == 1
    assert lines["tls-refuses-old"].startswith("FAIL"), text
    assert "accepted TLSv1.1" in lines["tls-refuses-old"]
    assert lines["tls-handshake"].startswith("PASS")


async def test_two_way_tls_with_the_client_certificate(
    https: dict[str, str], certs: dict[str, SelfSigned]
) -> None:
    ca = certs["good"].ca_cert
    client = certs["client"]
    status, lines, text = await _check(
        https["mutual"], "--ca-bundle", ca, "--client-cert", client.cert, "--client-key", client.key
    )
    assert status == 0, text
    assert all(line.startswith("PASS") for line in lines.values()), text
    refused, _, text = await _check(https["mutual"], "--ca-bundle", ca)
    assert refused == 1, text
