"""The TLS cases of ``check-callback`` for an ``https://`` receiver: the version it speaks,
whether its certificate is trusted, is for its host and is within its dates, and whether it
refuses a client that offers only TLS 1.0/1.1 (the vendor's floor is TLS 1.2).

Each certificate question is asked on its own handshake so that one problem does not hide
another: *trusted* verifies the chain with the time check off and no host check; *host*
adds the host check; *dates* checks the time with no host check. When the chain is not
trusted, host and dates cannot be judged and are reported as not run."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import warnings
from dataclasses import dataclass

from yarl import URL

from simulator.core.tls import client_context

__all__ = ["TLSCase", "probe_tls"]

#: OpenSSL's X509_V_FLAG_NO_CHECK_TIME (not named by the ssl module)
_NO_CHECK_TIME = 0x200000
#: X509 verify codes of a certificate outside its dates
_EXPIRED, _NOT_YET_VALID = 10, 9
#: X509 verify codes of a certificate for another host name, e-mail or IP address
_HOST_MISMATCH = frozenset({62, 63, 64})


@dataclass(frozen=True, slots=True)
class TLSCase:
    """One TLS case: ``passed`` None when it could not be judged (not run)."""

    name: str
    title: str
    passed: bool | None
    reason: str


def _context(
    base: ssl.SSLContext,
    *,
    check_time: bool,
    check_host: bool,
    cafile: str | None,
    client: tuple[str | None, str | None],
) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    context.minimum_version = base.minimum_version
    context.check_hostname = check_host
    if client[0] is not None:  # a receiver that demands one refuses the handshake without
        context.load_cert_chain(client[0], client[1])
    if not check_time:
        context.verify_flags |= _NO_CHECK_TIME
    return context


def _old_client() -> ssl.SSLContext:
    """A client that offers only TLS 1.0-1.1 (security level 0, so that OpenSSL itself
    would make the handshake: only the receiver's floor can refuse it)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


async def _handshake(
    host: str, port: int, context: ssl.SSLContext, timeout: float  # noqa: ASYNC109
) -> tuple[str | None, BaseException | None]:
    """The negotiated version, or the error of the handshake."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=host
            )
    except (OSError, TimeoutError) as exc:
        return None, exc
    ssl_object = writer.get_extra_info("ssl_object")
    version = ssl_object.version() if ssl_object is not None else None
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return version, None


def _why(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        code = error.verify_code
        if code == _EXPIRED:
            return "certificate expired"
        if code == _NOT_YET_VALID:
            return "certificate not yet valid"
        if code in _HOST_MISMATCH:
            return f"certificate is for another host ({error.verify_message})"
        return f"certificate not trusted ({error.verify_message})"
    if isinstance(error, TimeoutError):
        return "no TLS handshake within the time allowed"
    text = str(error) or type(error).__name__
    return f"handshake failed: {text}"


async def probe_tls(
    url: str,
    *,
    ca_bundle: str | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
    timeout: float = 5.0,  # noqa: ASYNC109
) -> list[TLSCase]:
    """The TLS cases of ``url`` (an ``https://`` URL)."""
    parsed = URL(url)
    host, port = parsed.host or "", parsed.port or 443
    full = client_context(ca_bundle, client_cert, client_key)
    cases: list[TLSCase] = []

    version, error = await _handshake(host, port, full, timeout)
    cases.append(
        TLSCase(
            "tls-handshake",
            "TLS 1.2 or later, certificate verified",
            error is None,
            f"{version}" if error is None else _why(error),
        )
    )
    client = (client_cert, client_key)
    probes = {
        name: _context(
            full, check_time=time, check_host=host_check, cafile=ca_bundle, client=client
        )
        for name, time, host_check in (
            ("trusted", False, False),
            ("host", False, True),
            ("dates", True, False),
        )
    }
    _, trust_error = await _handshake(host, port, probes["trusted"], timeout)
    trusted = trust_error is None
    cases.append(
        TLSCase(
            "tls-certificate-trusted",
            "certificate signed by a trusted CA",
            trusted,
            "signed by a trusted CA" if trusted else _why(trust_error),  # type: ignore[arg-type]
        )
    )
    for name, title, ok_text in (
        ("host", f"certificate is for {host}", f"certificate names {host}"),
        ("dates", "certificate within its validity dates", "within its dates"),
    ):
        if not trusted:
            cases.append(
                TLSCase(f"tls-certificate-{name}", title, None, "not run: certificate not trusted")
            )
            continue
        _, problem = await _handshake(host, port, probes[name], timeout)
        cases.append(
            TLSCase(
                f"tls-certificate-{name}",
                title,
                problem is None,
                ok_text if problem is None else _why(problem),
            )
        )
    old_version, old_error = await _handshake(host, port, _old_client(), timeout)
    cases.append(
        TLSCase(
            "tls-refuses-old",
            "a client offering only TLS 1.0/1.1 is refused",
            old_error is not None,
            "TLS 1.1 refused"
            if old_error is not None
            else f"accepted {old_version} (the vendor requires TLS 1.2 or later)",
        )
    )
    return cases
