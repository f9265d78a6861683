"""The console tells the story: one line per request and per push attempt, text or JSON,
secrets masked; ``serve --fault`` puts rules in force. The README's five-call walk-through is
played against a real ``aicc-sim serve`` process and read back from its stderr."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest
from conftest import Sim

from simulator.cli import main
from simulator.cli.status import CANNOT_RUN
from simulator.server.console_log import mask_url
from simulator.testing.client import AdminClient

CHANNEL = "202105284494222653"


def _post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_serve_tells_the_five_call_walk_through_as_json_lines() -> None:
    rule = {"id": "cli-rule", "match": {"endpoint": "queryQueueInfo"}, "action": {"status": 503}}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "serve",
            "--port",
            "0",
            "--log-format",
            "json",
            "--fault",
            json.dumps(rule),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AICC_SIM_")},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        base = first.split(" on ", 1)[1].split(" ", 1)[0]
        status, token = _post(
            f"{base}/apigovernance/api/oauth/tokenByAkSk",
            {"app_key": "sim-app-key", "app_secret": "sim-app-secret"},
            {"X-Token-Expire": "600"},
        )
        assert status == 200
        gateway = {"x-app-key": "sim-app-key", "Authorization": f"Bearer {token['AccessToken']}"}
        status, applied = _post(
            f"{base}/apiaccess/ccmessaging/applyToken",
            {"userId": "44444444", "userName": "Ann", "channelId": CHANNEL, "locale": "en"},
            gateway,
        )
        session = {**gateway, "ccmessaging-token": applied["token"]}
        message = {
            "channel": "WEB",
            "from": "44444444",
            "to": CHANNEL,
            "mediaType": "TEXT",
            "sourceType": "CUSTOMER",
        }
        send = f"{base}/apiaccess/ccmessaging/send"
        assert _post(send, {**message, "controlType": "CONNECT", "content": ""}, session)[0] == 200
        chat = {**message, "controlType": "CHAT", "content": "hello", "messageId": "m1"}
        assert _post(send, chat, session)[0] == 200
        status, _ = _post(
            f"{base}/apiaccess/ccmessaging/queryQueueInfo",
            {"userId": "44444444", "channelConfigId": CHANNEL, "channel": "WEB"},
            session,
        )
        assert status == 503  # the --fault rule
        admin = AdminClient(base)
        admin.wait_for_delivery(user_id="44444444", content="You said: hello", timeout=20)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    pushes = [line for line in lines if line.get("event") == "push"]
    paths = [(r["method"], r["path"].rsplit("/", 1)[-1], r["status"]) for r in requests]
    for expected in [
        ("POST", "tokenByAkSk", 200),
        ("POST", "applyToken", 200),
        ("POST", "send", 200),
        ("POST", "queryQueueInfo", 503),
    ]:
        assert expected in paths, paths
    [faulted] = [r for r in requests if r["fault"]]
    assert faulted["fault"] == "cli-rule" and faulted["userId"] == "44444444"
    sends = [r for r in requests if r["path"].endswith("/send")]
    assert [r["resultCode"] for r in sends] == ["0", "0"]
    assert all(r["violations"] == 0 and r["ms"] >= 0 for r in requests)
    accepted = [p for p in pushes if p["verdict"] == "accepted"]
    assert len(accepted) >= 5, pushes
    assert {p["conversation"] for p in accepted} == {f"{CHANNEL}/44444444"}
    assert all(p["attempt"] == 1 and p["attempts"] == 3 and p["status"] == 200 for p in accepted)
    assert "CHAT/AGENT" in {p["carried"] for p in accepted}
    for secret in (token["AccessToken"], applied["token"], "sim-app-secret"):
        assert secret not in stderr


def test_a_bad_fault_flag_is_refused_with_its_pointer(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["serve", "--port", "0", "--fault", '{"action": {"status": 42}}'])
    assert status == CANNOT_RUN
    err = capsys.readouterr().err
    assert "--fault #1" in err and "/action/status" in err
    assert main(["serve", "--port", "0", "--fault", "{nope"]) == CANNOT_RUN
    assert "--fault #1: not JSON" in capsys.readouterr().err
    good = '{"action": {"status": 503}}'
    unknown = '{"match": {"endpoint": "pol"}, "action": {"status": 503}}'
    assert main(["serve", "--port", "0", "--fault", good, "--fault", unknown]) == CANNOT_RUN
    assert (
        "--fault #2: /match/endpoint: 'pol' is not an endpoint of the emulated AICC; "
        "did you mean 'poll'?"
    ) in capsys.readouterr().err


def test_serve_run_in_process_leaves_logging_as_it_found_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # serve sets up the console (a stderr handler at log_level) for its process; run
    # in-process (as tests do) it must not leave that handler, bound to this test's
    # captured stderr, behind for every later test's log lines
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        assert main(["serve", "--port", str(held.getsockname()[1])]) == CANNOT_RUN
    assert (list(root.handlers), root.level) == before
    assert "cannot listen on" in capsys.readouterr().err


async def test_text_lines_name_the_fired_rule_and_the_reason(
    sim: Sim, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="simulator.console")
    customer = sim.customer("cust-log")
    await customer.login()
    await customer.send("CHAT", "too early")
    await sim.admin(
        "POST",
        "/faults",
        json_body={"id": "r1", "match": {"endpoint": "send"}, "action": {"status": 503}},
    )
    await customer.send("CONNECT")
    lines = [r.getMessage() for r in caplog.records if r.name == "simulator.console"]
    [early] = [line for line in lines if "resultCode=13" in line]
    assert early.startswith("request POST /apiaccess/ccmessaging/send user=cust-log status=200")
    assert "reason='CHAT without a live session (CONNECT first)'" in early
    [faulted] = [line for line in lines if "fault=r1" in line]
    assert "status=503" in faulted and "(answered 503)" in faulted
    assert not any(customer.access_token in line or customer.token in line for line in lines)


async def test_nothing_is_built_above_info(sim: Sim, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="simulator.console")
    customer = sim.customer("quiet")
    await customer.login()
    assert not [r for r in caplog.records if r.name == "simulator.console"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pw@host:8080/aicc", "http://user:***@host:8080/aicc"),
        ("https://host/cb?token=abc&x=1", "https://host/cb?token=***&x=1"),
        ("https://host/cb?apiKey=abc", "https://host/cb?apiKey=***"),
        ("http://127.0.0.1:9/echo", "http://127.0.0.1:9/echo"),
    ],
)
def test_secrets_in_urls_are_masked(url: str, shown: str) -> None:
    assert mask_url(url) == shown
