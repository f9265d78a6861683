"""How to reach, from this machine, a server bound to a given host."""

from __future__ import annotations

__all__ = ["local_url_host"]


def local_url_host(host: str) -> str:
    """The host part of a URL for a server bound to ``host``: wildcard binds are reached on
    loopback (``0.0.0.0`` → ``127.0.0.1``, ``::`` → ``[::1]``); IPv6 literals get brackets."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
