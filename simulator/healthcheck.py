"""``python -m simulator.healthcheck``: exit 0 when the local simulator answers its health
check, 1 otherwise. The container image's HEALTHCHECK (no curl or wget in the image).

It probes ``/__admin/health`` on the port the server itself would use. The image runs it
every second (so that the container turns healthy about a second after start), so it must
be cheap: the standard library only, and the port read straight from the variables
(``AICC_SIM_LISTEN__PORT``, else ``AICC_SIM_PORT``, else 8080; the generic name wins over the
alias, as for the server). With a mounted file (``AICC_SIM_CONFIG``) or a variable it cannot
read as simply (``AICC_SIM_LISTEN`` as a whole, a port that is not a number) it loads the
configuration as the server does, so the file's ``listen`` and every rule of
``docs/config.md`` are followed. A wildcard bind address (``0.0.0.0``, ``::``) is probed on
loopback. Health never needs the admin token.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

__all__ = ["health_url", "main"]

_TIMEOUT = 2.0
_DEFAULT_HOST = "127.0.0.1"
_DEFAULT_PORT = 8080


def _url(host: str, port: int) -> str:
    # local_url_host without importing the package's heavier parts
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/__admin/health"


def _from_variables(environ: Mapping[str, str]) -> str | None:
    """The URL from the plain variables alone, or None when only the loader can tell."""
    if environ.get("AICC_SIM_CONFIG") or "AICC_SIM_LISTEN" in environ:
        return None
    host = environ.get("AICC_SIM_LISTEN__HOST", environ.get("AICC_SIM_HOST", _DEFAULT_HOST))
    port_text = environ.get("AICC_SIM_LISTEN__PORT", environ.get("AICC_SIM_PORT"))
    if port_text is None:
        return _url(host, _DEFAULT_PORT)
    text = port_text.strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= 65535:
        return None  # let the loader explain (or accept a YAML form we do not parse here)
    return _url(host, int(text))


def health_url(environ: Mapping[str, str]) -> str:
    """The health URL of the simulator configured by ``environ``; raises
    :class:`~simulator.core.errors.SimulatorError` for a configuration the server would
    refuse."""
    fast = _from_variables(environ)
    if fast is not None:
        return fast
    from simulator.config import load_config

    listen = load_config(None, environ=environ).listen
    return _url(listen.host, listen.port)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Probe once; print why on failure (Docker keeps the output of failed checks)."""
    from simulator.core.errors import SimulatorError

    del argv  # no options: everything comes from the environment, like the server's
    env = os.environ if environ is None else environ
    try:
        url = health_url(env)
    except SimulatorError as exc:
        print(f"aicc-sim healthcheck: {exc}", file=sys.stderr)
        return 1
    # no proxies: the probe must reach this container's own loopback
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=_TIMEOUT) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except (urllib.error.URLError, OSError) as exc:
        print(f"aicc-sim healthcheck: {url}: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"aicc-sim healthcheck: {url}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
