"""Connections that misbehave at the HTTP level, against the real server runner (hardening
defects 6 and 7): slow heads are closed and counted, slow bodies answered 408, malformed
HTTP answered with the JSON error shape and one log line, never a traceback."""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.request
from collections.abc import Iterator

import pytest

from simulator.testing.pytest_plugin import InProcessSimulator

HEAD_TIMEOUT = 0.3
WAIT = 10.0  # generous bound on every wait for the server to act


@pytest.fixture
def sim() -> Iterator[InProcessSimulator]:
    layers = {"limits.head_timeout": HEAD_TIMEOUT, "limits.body_timeout": HEAD_TIMEOUT}
    with InProcessSimulator.from_overrides(layers) as running:
        yield running


def _address(sim: InProcessSimulator) -> tuple[str, int]:
    host, _, port = sim.base_url.removeprefix("http://").rpartition(":")
    return host, int(port)


def _closed_by_server(conn: socket.socket) -> bool:
    """Wait (bounded) until the server closes ``conn``; True when it did."""
    conn.settimeout(WAIT)
    try:
        while chunk := conn.recv(65536):
            del chunk
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def _metric(sim: InProcessSimulator, name: str) -> float:
    with urllib.request.urlopen(sim.admin_url + "/metrics", timeout=WAIT) as reply:
        text = reply.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in the metrics:\n{text}")


def _answer(conn: socket.socket) -> tuple[int, dict[str, object]]:
    """Read one HTTP answer (Content-Length framed) from ``conn``."""
    conn.settimeout(WAIT)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        chunk = conn.recv(65536)
        assert chunk
        body += chunk
    assert b"application/json" in head.lower(), head
    return status, json.loads(body[:length])


def test_silent_and_dribbling_heads_are_closed_and_counted(sim: InProcessSimulator) -> None:
    before = _metric(sim, "aicc_sim_slow_connections_closed_total")
    silent = [socket.create_connection(_address(sim)) for _ in range(20)]
    partial = [socket.create_connection(_address(sim)) for _ in range(20)]
    for conn in partial:
        conn.sendall(b"POST /apiaccess/ccmessaging/send HTTP/1.1\r\nHost: x\r\n")
    dribbler = socket.create_connection(_address(sim))
    try:
        # a byte every 50 ms: the deadline counts from the head's first byte, not the last
        started = time.monotonic()
        closed = False
        for byte in b"GET /__admin/health HTTP/1.1\r\nX-Slow: " + b"a" * 1000:
            try:
                dribbler.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)  # the client's pace, not a wait for the server
            if time.monotonic() - started > WAIT:
                break
        assert closed or _closed_by_server(dribbler)
        for conn in silent + partial:
            assert _closed_by_server(conn)
        # meanwhile and after, ordinary requests are served
        assert sim.health()["status"] == "ok"
        assert _metric(sim, "aicc_sim_slow_connections_closed_total") - before == 41
    finally:
        for conn in [*silent, *partial, dribbler]:
            conn.close()


def test_a_kept_alive_connection_gets_the_deadline_for_each_head(sim: InProcessSimulator) -> None:
    with socket.create_connection(_address(sim)) as conn:
        conn.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, body = _answer(conn)
        assert status == 200 and body["status"] == "ok"
        conn.sendall(b"GET /__admin/health HTTP/1.1\r\nHo")  # the next head stalls
        assert _closed_by_server(conn)


@pytest.mark.parametrize("with_rule", [False, True], ids=["no-rule", "with-a-fault-rule"])
def test_a_slow_body_is_408_in_the_json_shape(sim: InProcessSimulator, with_rule: bool) -> None:
    if with_rule:  # the fault path reads the body too: under the same deadline
        sim.add_fault(endpoint="tokenByAkSk", delay_ms=1)
    with socket.create_connection(_address(sim)) as conn:
        conn.sendall(
            b"POST /apigovernance/api/oauth/tokenByAkSk HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"app_key\""
        )
        status, body = _answer(conn)
    assert status == 408
    assert body["errorCode"] == "408"
    assert "limits.body_timeout" in str(body["detail"])


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n",
        b"POST /apiaccess/ccmessaging/send HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST /apiaccess/ccmessaging/send HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"G\x01T /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["nul-in-header", "bad-chunk-size", "cl-and-te", "bad-method"],
)
def test_malformed_http_gets_json_and_one_log_line(
    sim: InProcessSimulator, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.create_connection(_address(sim)) as conn:
        conn.sendall(raw)
        status, body = _answer(conn)
    assert status == 400
    assert body["errorCode"] == "400"
    assert "malformed HTTP request" in str(body["detail"])
    assert "Traceback" not in caplog.text
    refused = [r for r in caplog.records if "malformed HTTP" in r.getMessage()]
    assert len(refused) == 1 and refused[0].exc_info is None
    assert sim.health()["status"] == "ok"


def test_a_slow_body_to_a_console_action_is_408_too(sim: InProcessSimulator) -> None:
    with socket.create_connection(_address(sim)) as conn:
        conn.sendall(
            b"POST /__admin/sessions/nobody/events/queuing HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"channelId\""
        )
        status, body = _answer(conn)
    assert status == 408
    assert "limits.body_timeout" in str(body["detail"])


def test_the_console_stream_outlives_the_head_deadline(sim: InProcessSimulator) -> None:
    # the head deadline is for heads only: a live stream stays open while it streams
    with socket.create_connection(_address(sim)) as conn:
        conn.settimeout(WAIT)
        conn.sendall(b"GET /__admin/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"event: hello" not in data:
            chunk = conn.recv(65536)
            assert chunk, f"closed: {data!r}"
            data += chunk
        opened = time.monotonic()
        # the stream's own heartbeat comes seconds after the deadline would have struck
        while b": ping" not in data:
            chunk = conn.recv(65536)
            assert chunk, f"closed after {time.monotonic() - opened:.1f} s: {data!r}"
            data += chunk
        assert time.monotonic() - opened > HEAD_TIMEOUT
    assert _metric(sim, "aicc_sim_slow_connections_closed_total") == 0
