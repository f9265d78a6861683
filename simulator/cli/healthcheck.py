"""``python -m simulator.cli.healthcheck``: exit 0 when the local simulator answers its health
check, 1 otherwise. The container image's HEALTHCHECK (no curl or wget in the image).

It probes ``/__admin/health`` on the port the server itself would use: the configuration is
loaded the same way (``AICC_SIM_CONFIG``, ``AICC_SIM_*`` variables), so a port changed by a
variable or a mounted file is followed. A wildcard bind address (``0.0.0.0``, ``::``) is
probed on loopback. Health never needs the admin token.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

from simulator.core.errors import SimulatorError

__all__ = ["health_url", "main"]

_TIMEOUT = 2.0


def health_url(environ: Mapping[str, str]) -> str:
    """The health URL of the simulator configured by ``environ``."""
    from simulator.config import load_config
    from simulator.core.netloc import local_url_host

    listen = load_config(None, environ=environ).listen
    return f"http://{local_url_host(listen.host)}:{listen.port}/__admin/health"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Probe once; print why on failure (Docker keeps the output of failed checks)."""
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
