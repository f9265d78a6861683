"""TLS both ways: the server context of ``serve``/``proxy`` (a given certificate, or a
self-signed one made at start with its CA written to a file), and the client contexts of
pushes to ``https://`` callbacks (a CA bundle, an optional client certificate for two-way
TLS). Every context refuses anything below TLS 1.2 (the vendor is HTTPS-only, TLS 1.2+).

The self-signed certificate is made with the ``openssl`` command line (present wherever
Python's ``ssl`` module is built, and no new Python dependency): a throw-away CA, and a
server certificate signed by it for ``localhost``, ``127.0.0.1``, ``::1`` and the bound host.
"""

from __future__ import annotations

import functools
import ipaddress
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from simulator.core.errors import SimulatorError

__all__ = [
    "MINIMUM_VERSION",
    "SelfSigned",
    "TLSSetupError",
    "client_context",
    "make_self_signed",
    "server_context",
]

#: The lowest protocol version accepted either way.
MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


class TLSSetupError(SimulatorError):
    """A certificate, key or CA bundle cannot be used (the message names the file)."""


def server_context(cert: str, key: str, *, client_ca: str | None = None) -> ssl.SSLContext:
    """A server context for ``cert``/``key`` (PEM), TLS 1.2 or later; with ``client_ca``
    it demands a client certificate signed by that CA (two-way TLS)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = MINIMUM_VERSION
    try:
        context.load_cert_chain(cert, key)
        if client_ca is not None:
            context.load_verify_locations(cafile=client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        raise TLSSetupError(f"cannot use TLS certificate {cert} / key {key}: {exc}") from None
    return context


@functools.lru_cache(maxsize=64)
def client_context(
    ca_bundle: str | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
) -> ssl.SSLContext:
    """A client context verifying the server against ``ca_bundle`` (default: the system's
    trust store) and its host name, TLS 1.2 or later, presenting ``client_cert``/
    ``client_key`` when given. Made once per combination (the files are read once)."""
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise TLSSetupError(f"cannot use CA bundle {ca_bundle}: {exc}") from None
    context.minimum_version = MINIMUM_VERSION
    if client_cert is not None:
        try:
            context.load_cert_chain(client_cert, client_key)
        except (OSError, ssl.SSLError) as exc:
            raise TLSSetupError(
                f"cannot use client certificate {client_cert} / key {client_key}: {exc}"
            ) from None
    return context


@dataclass(frozen=True, slots=True)
class SelfSigned:
    """The files of a self-signed set-up: the CA to trust, the server's certificate and key."""

    ca_cert: str
    cert: str
    key: str


def _openssl(*args: str) -> None:
    tool = shutil.which("openssl")
    if tool is None:
        raise TLSSetupError("--tls self-signed needs the openssl command; it is not on PATH")
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TLSSetupError(f"openssl {args[0]} failed: {done.stderr.strip()[-400:]}")


def _san(hosts: tuple[str, ...], loopback: bool = True) -> str:
    names = []
    local = ("localhost", "127.0.0.1", "::1") if loopback else ()
    for host in dict.fromkeys((*local, *hosts)):
        if not host or host in ("0.0.0.0", "::"):
            continue
        try:
            ipaddress.ip_address(host)
        except ValueError:
            names.append(f"DNS:{host}")
        else:
            names.append(f"IP:{host}")
    return ",".join(names)


_CA_CONFIG = """\
[ca]
default_ca = signer
[signer]
database = {index}
new_certs_dir = {directory}
serial = {serial}
default_md = sha256
policy = anything
copy_extensions = none
[anything]
commonName = supplied
[server]
{extensions}
"""


def make_self_signed(
    ca_out: str | Path,
    *,
    hosts: tuple[str, ...] = (),
    directory: str | Path | None = None,
    days: int = 30,
    name: str = "aicc-sim",
    loopback: bool = True,
    expired: bool = False,
) -> SelfSigned:
    """Make a CA and a server certificate it signs for ``localhost``, the loopback
    addresses and ``hosts``; write the CA certificate to ``ca_out`` (the file the
    integration trusts). The server's key and certificate go to ``directory`` (default: a
    new private temporary directory). ``loopback=False`` leaves localhost and the loopback
    addresses out, ``expired=True`` makes a certificate valid only on 1 January 2020 (both
    for the check-callback tests)."""
    where = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="aicc-tls-"))
    where.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = where / f"{name}-ca.key", where / f"{name}-ca.pem"
    key, csr, cert = where / f"{name}.key", where / f"{name}.csr", where / f"{name}.pem"
    ext = where / f"{name}.ext"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", str(ca_key), "-out", str(ca_cert), "-days", "3650",
        "-subj", f"/CN={name} test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={hosts[0] if hosts else name}",
    )  # fmt: skip
    extensions = (
        f"subjectAltName={_san(hosts, loopback)}\nbasicConstraints=CA:FALSE\n"
        "extendedKeyUsage=serverAuth,clientAuth\n"
    )
    ext.write_text(extensions, encoding="ascii")
    if expired:  # x509 -req has no start date before OpenSSL 3.4: the ca command has
        index, serial, config = where / "index.txt", where / "serial", where / "ca.cnf"
        index.write_text("", encoding="ascii")
        serial.write_text("01\n", encoding="ascii")
        config.write_text(
            _CA_CONFIG.format(
                index=index, directory=where, serial=serial, extensions=extensions
            ),
            encoding="ascii",
        )
        _openssl(
            "ca", "-batch", "-config", str(config), "-cert", str(ca_cert), "-keyfile",
            str(ca_key), "-in", str(csr), "-out", str(cert), "-startdate", "20200101000000Z",
            "-enddate", "20200102000000Z", "-extensions", "server", "-notext",
        )  # fmt: skip
    else:
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
            "-CAcreateserial", "-out", str(cert), "-extfile", str(ext), "-days", str(days),
        )  # fmt: skip
    Path(ca_out).write_bytes(ca_cert.read_bytes())
    return SelfSigned(str(ca_out), str(cert), str(key))
