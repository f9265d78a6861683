"""``python -m webchat_backend``: serve the example backend (settings from ``WEBCHAT_*``)."""

from __future__ import annotations

import os
import sys

from aiohttp import web

from webchat_backend.app import create_app
from webchat_backend.settings import Settings, SettingsError


def main() -> int:
    """Run until interrupted."""
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"webchat_backend: {exc}", file=sys.stderr)
        return 2
    web.run_app(create_app(settings), host=settings.host, port=settings.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
