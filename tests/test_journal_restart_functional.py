"""The journal file across a real ``kill -9``: the next server continues its sequence."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.core.journal import read_jsonl
from simulator.testing.client import AdminClient

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        # the checkout under test, whatever is installed
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "AICC_SIM_PORT": str(port),
        "AICC_SIM_JOURNAL__PATH": str(tmp_path / "journal"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    AdminClient(f"http://127.0.0.1:{port}").wait_until_healthy(timeout=30)
    return process


def _traffic(port: int, count: int) -> None:
    """``count`` requests on one keep-alive connection, each answered before the next."""
    body = b'{"app_key":"k","app_secret":"wrong"}'
    request = (
        b"POST /apigovernance/api/oauth/tokenByAkSk HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    with socket.create_connection(("127.0.0.1", port)) as conn:
        for _ in range(count):
            conn.sendall(request)
            seen = b""
            while b"\r\n\r\n" not in seen:
                seen += conn.recv(65536)
            head, _, rest = seen.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(rest) < length:
                rest += conn.recv(65536)


@pytest.fixture
def port() -> Iterator[int]:
    yield _free_port()


@pytest.mark.parametrize("round_", range(3))
def test_kill_9_then_restart_continues_the_sequence(
    tmp_path: Path, port: int, round_: int
) -> None:
    first = _serve(tmp_path, port)
    try:
        # enough entries that the write buffer has reached the file, likely mid-line
        _traffic(port, 300 + 37 * round_)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    path = tmp_path / "journal.requests.jsonl"
    before = [seq for seq, _ in read_jsonl(path)]
    assert before == list(range(1, len(before) + 1))
    second = _serve(tmp_path, port)
    try:
        _traffic(port, 5)
    finally:
        second.terminate()
        second.wait(timeout=30)
    after = [seq for seq, _ in read_jsonl(path)]
    # one unbroken sequence: the restart went on from the last intact line (the health
    # probes are journaled too, so count only that seqs are unique and contiguous)
    assert after == list(range(1, len(after) + 1))
    assert len(after) >= len(before) + 5
