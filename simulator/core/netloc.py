"""Addresses: how to reach a server bound to a given host, and which callback URLs can be used."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["callback_url_problem", "local_url_host"]


def local_url_host(host: str) -> str:
    """The host part of a URL for a server bound to ``host``: wildcard binds are reached on
    loopback (``0.0.0.0`` → ``127.0.0.1``, ``::`` → ``[::1]``); IPv6 literals get brackets."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def callback_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a push callback URL, or None when it can.

    Refused where a URL enters (config, an admin run request, ``set_callback``) so that a
    push is never planned to an address no request can be built for: a scheme other than
    http/https, no host, ``user:password@`` (a secret in a URL ends up in logs and answers;
    the simulator authenticates pushes itself), a port outside 1-65535, or a host name that
    DNS cannot carry (a label over 63 characters, or a name over 253)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"is not a usable URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    if "@" in parts.netloc:
        return "must not carry user:password@ (pushes are authenticated by the simulator)"
    host = parts.hostname
    if not host:
        return "has no host"
    if port == 0:
        return "has port 0"
    if not host.startswith("[") and ":" not in host:
        name = host.rstrip(".")
        if len(name) > 253:
            return f"host name is {len(name)} characters long; DNS allows 253"
        for label in name.split("."):
            if not label:
                return f"host {host!r} has an empty label"
            if len(label) > 63:
                return f"host label {label[:20]}… is {len(label)} characters long; DNS allows 63"
    return None
