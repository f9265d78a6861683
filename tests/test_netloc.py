"""Reaching a server from its bind address."""

import pytest

from simulator.core.netloc import local_url_host


@pytest.mark.parametrize(
    ("bound", "url_host"),
    [
        ("0.0.0.0", "127.0.0.1"),
        ("", "127.0.0.1"),
        ("::", "[::1]"),
        ("::1", "[::1]"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
        ("fe80::1", "[fe80::1]"),
    ],
)
def test_local_url_host(bound: str, url_host: str) -> None:
    assert local_url_host(bound) == url_host
