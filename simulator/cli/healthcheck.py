"""``python -m simulator.cli.healthcheck``: the health probe, kept under its first name.

The probe itself is :mod:`simulator.healthcheck` (outside ``simulator.cli``, whose package
imports every sub-command and aiohttp: too slow for a probe that runs every second); the
image's HEALTHCHECK runs ``python -m simulator.healthcheck``.
"""

from __future__ import annotations

import sys

from simulator.healthcheck import health_url, main

__all__ = ["health_url", "main"]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
