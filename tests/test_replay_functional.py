"""``aicc-sim replay`` over real sockets, against a recording receiver on port 0."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from receivers import Recorder, serving, signature_verifies

from simulator.cli import main
from simulator.core import signing
from simulator.core.validation import default_store
from simulator.scenario import builtin_names

FIXTURES = Path(__file__).parent / "fixtures" / "vendor"
PUSH_KEY = "SimulatorPushKey0123456789abcdefghijklmnopq"  # the documented dev key
OTHER_KEY = "AnotherPushKey0123456789abcdefghijklmnopqrs"
TOKEN = "replay-test-token"
APP_KEY = "replay-app-key"
USER, CHANNEL = "cust-0001", "202401010000000001"
WAIT = 30.0  # generous bound for a whole CLI run

# --------------------------------------------------------------------------------------------
# the recording receiver

Decide = Callable[[web.Request, bytes], web.Response | None]


@dataclass
class Receiver(Recorder):
    """``decide`` may answer instead of the default 200 / "0"."""

    decide: Decide | None = None

    async def handle(self, request: web.Request) -> web.Response:
        seen = await self.record(request)
        if self.decide is not None and (answer := self.decide(request, seen.body)) is not None:
            return answer
        return web.json_response({"resultCode": "0", "resultDesc": "success."})


def refuse(status: int = 401, code: str = "1") -> web.Response:
    return web.json_response({"resultCode": code, "resultDesc": "refused"}, status=status)


def check_oauth(request: web.Request, body: bytes) -> web.Response | None:
    """A conforming OAuth receiver: right x-app-key and Bearer, and a valid body."""
    headers = request.headers
    if headers.get("x-app-key") != APP_KEY or headers.get("Authorization") != f"Bearer {TOKEN}":
        return refuse()
    if not default_store().is_valid("push-request", json.loads(body)):
        return refuse(400)
    return None


def check_signature(request: web.Request, body: bytes) -> web.Response | None:
    return None if signature_verifies(request, body, PUSH_KEY) else refuse()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    async with serving(recv.handle) as base_url:
        recv.base_url = base_url
        yield recv


async def cli(*argv: str) -> int:
    """Run ``aicc-sim`` in a worker thread (main owns its own event loop) while this loop
    serves the receiver."""
    async with asyncio.timeout(WAIT):
        return await asyncio.to_thread(main, list(argv))


def oauth_args(recv: Receiver) -> list[str]:
    return [
        "--callback",
        recv.url,
        "--user",
        USER,
        "--channel",
        CHANNEL,
        "--app-key",
        APP_KEY,
        "--token",
        TOKEN,
    ]


def seed(name: str) -> dict[str, Any]:
    """A seed DownLinkMsg, addressed to this test's user and channel."""
    message: dict[str, Any] = json.loads((FIXTURES / f"downlink-message.{name}.json").read_text())
    message["from"], message["to"] = CHANNEL, USER
    return message


def same_as_seed(got: dict[str, Any], expected: dict[str, Any]) -> None:
    assert type(got["timestamp"]) is int and got["timestamp"] > 1_600_000_000_000
    expected = {**expected, "timestamp": got["timestamp"]}
    assert list(got) == list(expected)  # the vendor's key order too
    assert got == expected


# --------------------------------------------------------------------------------------------
# every built-in scenario, exact messages

Kind = tuple[str, str | None, str, str | None]  # controlType, mediaType, sourceType, content

GREETING = "Hello, this is Alice. How can I help you?"
QUEUING: Kind = ("CHAT", "TEXT", "SYSTEM", "Queuing...")
CONNECTED: Kind = ("CHAT", "TEXT", "SYSTEM", "The call is connected to an agent.")
MEDIA = "5f0c2a1e-7b3d-4c55-9a10-00000000000"

# Without a customer (--no-customer) every expect step runs into its timeout branch; what the
# scenarios' own customer scripts add is tested in tests/test_replay_customer.py.
EXPECTED_PUSHES: dict[str, list[Kind]] = {
    "after-hours": [],
    "agent-disconnect": [("DISCONNECT", None, "AGENT", None)],
    "agent-media": [
        ("CHAT", "IMAGE", "AGENT", MEDIA + "1"),
        ("CHAT", "VIDEO", "AGENT", MEDIA + "2"),
        ("CHAT", "AUDIO", "AGENT", MEDIA + "3"),
        ("CHAT", "LOCATE", "AGENT", "22.6531/114.0579/Huawei Bantian Base, Shenzhen"),
        ("CHAT", "DOCUMENT", "AGENT", MEDIA + "4"),
    ],
    "connected": [QUEUING, CONNECTED, ("CHAT", "TEXT", "AGENT", GREETING)],
    "full-conversation": [
        QUEUING,
        CONNECTED,
        ("CHAT", "TEXT", "AGENT", GREETING),
        ("CHAT", "TEXT", "AGENT", "Are you still there? I will close this chat now."),
        ("CHAT", "TEXT", "AGENT", "Thank you for contacting us. Goodbye!"),
        ("DISCONNECT", None, "AGENT", None),
    ],
    "queuing": [QUEUING],
    "read-receipt": [("READ", None, "AGENT", "messageId1,messageId2")],
    "robot-transfer": [
        (
            "CHAT",
            "TEXT",
            "ROBOT",
            "Hello, I am the virtual assistant. Ask me anything, or ask for an agent.",
        ),
    ],
    "timeout-async-off": [("DISCONNECT", None, "SYSTEM", None)],
    "timeout-async-on": [("DISCONNECT", "TEXT", "SYSTEM", "{TIPS}")],
    # click-to-call events are not pushed (getClickToCallEvents answers them)
    "call-connected": [],
    "call-queue-timeout": [],
    "call-failed": [],
    "rated-conversation": [
        QUEUING,
        CONNECTED,
        ("CHAT", "TEXT", "AGENT", GREETING),
        ("DISCONNECT", None, "AGENT", None),
    ],
}

#: built-ins that push exactly one vendor-sample message
SEED_OF = {
    "agent-disconnect": "seed-pushmsg-disconnect-agent",
    "queuing": "seed-pushmsg-queuing",
    "read-receipt": "seed-pushmsg-read",
    "timeout-async-off": "seed-pushmsg-disconnect-timeout-async-off",
    "timeout-async-on": "seed-pushmsg-disconnect-timeout-async-on",
}


def test_the_table_covers_every_builtin() -> None:
    assert set(EXPECTED_PUSHES) == set(builtin_names())


@pytest.mark.parametrize("name", builtin_names())
async def test_replay_builtin_pushes_exactly_the_scenario(
    name: str, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.decide = check_oauth
    status = await cli("replay", name, *oauth_args(receiver), "--speed", "200", "--no-customer")
    out = capsys.readouterr().out
    assert status == 0, out
    expected = EXPECTED_PUSHES[name]
    assert len(receiver.seen) == len(expected)
    for seen, (control, media, source, content) in zip(receiver.seen, expected, strict=True):
        assert seen.path == "/aicc"
        assert seen.headers["x-app-key"] == APP_KEY
        assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
        assert seen.headers["Content-Type"] == "application/json"
        document = seen.document
        assert type(document["timestamp"]) is int
        [message] = seen.messages
        assert (
            message["controlType"],
            message["mediaType"],
            message["sourceType"],
            message["content"],
        ) == (control, media, source, content)
        assert (message["from"], message["to"], message["channel"]) == (CHANNEL, USER, "WEB")
        assert type(message["timestamp"]) is int
    if name in SEED_OF:
        same_as_seed(receiver.seen[0].messages[0], seed(SEED_OF[name]))
    # the live timeline: one line per push (and one per expect that timed out), then the summary
    lines = [
        line for line in out.splitlines() if line.startswith("+") and "  timeout  " not in line
    ]
    assert len(lines) == len(expected)
    assert "  customer " not in out.split("customer: none (--no-customer)", 1)[1]
    assert all(line.endswith("accepted") for line in lines)
    assert f"{len(expected)} push(es): {len(expected)} accepted" in out
    assert out.rstrip().endswith("PASS")


async def test_timeout_async_off_is_the_seed_message_exactly(receiver: Receiver) -> None:
    assert await cli("replay", "timeout-async-off", *oauth_args(receiver)) == 0
    [seen] = receiver.seen
    [message] = seen.messages
    same_as_seed(message, seed("seed-pushmsg-disconnect-timeout-async-off"))
    assert message["mediaType"] is None and message["content"] is None
    assert "isOfflineStatus" not in message  # the sample has none


async def test_tips_option_fills_the_offline_disconnect(receiver: Receiver) -> None:
    tips = "We are offline; leave a message."
    assert await cli("replay", "timeout-async-on", *oauth_args(receiver), "--tips", tips) == 0
    [message] = receiver.seen[0].messages
    assert message["isOfflineStatus"] is True and message["content"] == tips


async def test_signature_mode_pushes_verify(receiver: Receiver) -> None:
    receiver.decide = check_signature
    status = await cli(
        "replay", "agent-media", "--callback", receiver.url, "--mode", "signature", "--speed", "100"
    )
    assert status == 0
    assert len(receiver.seen) == 5
    for seen in receiver.seen:
        assert seen.path == "/aicc/webhooks/v1/messages"
        parsed = signing.parse_authorization(seen.headers["Authorization"])
        assert parsed.access_key == signing.DEFAULT_ACCESS_KEY
        assert parsed.timestamp == seen.document["timestamp"]
        signing.verify(
            seen.headers["Authorization"],
            method="POST",
            path=seen.path,
            headers=seen.headers,
            body=seen.body,
            push_key=PUSH_KEY,
        )


async def test_signature_mode_with_the_wrong_key_fails(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.decide = check_signature
    status = await cli(
        "replay",
        "queuing",
        "--callback",
        receiver.url,
        "--mode",
        "signature",
        "--push-key",
        OTHER_KEY,
        "--attempts",
        "2",
    )
    out = capsys.readouterr().out
    assert status == 1
    assert len(receiver.seen) == 2  # retried per --attempts
    assert "HTTP 401" in out and "FAILED" in out and out.rstrip().endswith("FAIL")
    assert OTHER_KEY not in out  # a given secret is never printed


async def test_generated_token_is_printed_and_sent(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli("replay", "queuing", "--callback", receiver.url) == 0
    out = capsys.readouterr().out
    sent = receiver.seen[0].headers["Authorization"].removeprefix("Bearer ")
    assert len(sent) >= 20
    assert f"Bearer {sent} (generated)" in out
    assert receiver.seen[0].headers["x-app-key"] == "sim-app-key"


# --------------------------------------------------------------------------------------------
# scripted customer messages


async def test_scripted_uplinks_drive_the_expect_branch(receiver: Receiver) -> None:
    status = await cli(
        "replay",
        "connected",
        *oauth_args(receiver),
        "--speed",
        "10",
        "--idle-timeout",
        "20",
        "--uplink",
        "CHAT:where is my parcel?@2",
        "--uplink",
        "DISCONNECT@3",
    )
    assert status == 0
    kinds = [(m["controlType"], m["content"]) for s in receiver.seen for m in s.messages]
    assert kinds == [
        ("CHAT", "Queuing..."),
        ("CHAT", "The call is connected to an agent."),
        ("CHAT", GREETING),
        ("READ", "replay-2"),
        ("CHAT", "You said: where is my parcel?"),
    ]


async def test_robot_transfer_with_a_scripted_trans2agent(receiver: Receiver) -> None:
    status = await cli(
        "replay",
        "robot-transfer",
        *oauth_args(receiver),
        "--speed",
        "20",
        "--idle-timeout",
        "20",
        "--uplink",
        "TRANS2AGENT@1",
    )
    assert status == 0
    controls = [m["controlType"] for s in receiver.seen for m in s.messages]
    assert controls == ["CHAT", "Trans2Agent", "CHAT", "CHAT", "CHAT"]


# --------------------------------------------------------------------------------------------
# faults: judged by what the receiver should do

FAULTS_YAML = """\
name: faulty
description: one push per fault
steps:
  - push: {content: plain}
  - push: {content: wrong auth}
    faults: {auth: wrong}
  - push: {content: no auth}
    faults: {auth: missing}
  - push: {control: BOGUS, content: 42}
    faults: {invalid: true}
  - push: {content: never sent}
    faults: {drop: true}
  - push: {content: twice}
    faults: {duplicate: 1}
"""


@pytest.fixture
def faulty(tmp_path: Path) -> str:
    path = tmp_path / "faulty.yaml"
    path.write_text(FAULTS_YAML)
    return str(path)


async def test_fault_pushes_refused_by_a_strict_receiver_pass(
    receiver: Receiver, faulty: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.decide = check_oauth
    report = tmp_path / "replay.xml"
    status = await cli("replay", faulty, *oauth_args(receiver), "--junit", str(report))
    out = capsys.readouterr().out
    assert status == 0, out
    contents = [s.messages[0]["content"] for s in receiver.seen]
    # each refused push is tried once; the dropped one never; the duplicate twice
    assert contents == ["plain", "wrong auth", "no auth", 42, "twice", "twice"]
    assert receiver.seen[1].headers["Authorization"] == f"Bearer wrong-{TOKEN}"
    assert "Authorization" not in receiver.seen[2].headers
    lines = [line for line in out.splitlines() if line.startswith("+")]
    assert [line.split("  ")[-2 if "[" in line else -1].strip() for line in lines] == [
        "accepted",
        "rejected as expected",
        "rejected as expected",
        "rejected as expected",
        "dropped (not sent, as scripted)",
        "accepted",
    ]
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "0", "0")
    assert len(root.findall("./testsuite/testcase")) == 6


async def test_fault_pushes_accepted_by_a_lax_receiver_fail(
    receiver: Receiver, faulty: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "replay.xml"
    status = await cli("replay", faulty, *oauth_args(receiver), "--junit", str(report))
    out = capsys.readouterr().out
    assert status == 1
    assert out.count("ACCEPTED BUT SHOULD NOT") == 3
    assert out.rstrip().endswith("FAIL")
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures")) == ("6", "3")
    failed = [c.get("name") or "" for c in root.iter("testcase") if c.find("failure") is not None]
    assert [name.split()[2] for name in failed] == ["steps[1]", "steps[2]", "steps[3]"]


async def test_a_receiver_that_fails_is_retried_then_reported(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.decide = lambda request, body: refuse(200, "13")
    status = await cli("replay", "queuing", *oauth_args(receiver), "--attempts", "2")
    out = capsys.readouterr().out
    assert status == 1
    assert len(receiver.seen) == 2
    assert 'FAILED: resultCode "13"' in out and "2 attempts" in out


# --------------------------------------------------------------------------------------------
# bad input and dead receivers: a message, never a traceback


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


async def test_dead_receiver_is_a_clean_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{dead_port()}/aicc"
    report = tmp_path / "dead.xml"
    status = await cli("replay", "connected", "--callback", url, "--junit", str(report))
    captured = capsys.readouterr()
    assert status == 1
    assert f"cannot reach {url}" in captured.err
    assert "connection refused" in captured.out
    assert "run aborted" in captured.out
    assert "Traceback" not in captured.out + captured.err
    # stopped after the first push instead of playing the whole scenario into a dead socket
    assert len([line for line in captured.out.splitlines() if line.startswith("+")]) == 1
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "1")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-scenario"], "unknown scenario 'no-such-scenario'"),
        (["missing/file.yaml"], "missing/file.yaml"),
        (["queuing", "--var", "nope=1"], "has no variable 'nope'"),
        (["queuing", "--mode", "signature", "--push-key", "short"], "auth-v2 key"),
    ],
)
async def test_bad_input_is_refused_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await cli("replay", *argv, "--callback", f"http://127.0.0.1:{dead_port()}/")
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and "Traceback" not in err


async def test_bad_scenario_file_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ndescription: x\nsteps:\n  - push: {control: NOPE}\n")
    status = await cli("replay", str(path), "--callback", "http://127.0.0.1:1/")
    err = capsys.readouterr().err
    assert status == 2
    assert f"{path}:4" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["queuing", "--callback", "ftp://example.com/"],
        ["queuing", "--callback", "not a url"],
        ["queuing", "--callback", "http://x/", "--speed", "0"],
        ["queuing", "--callback", "http://x/", "--attempts", "0"],
        ["queuing", "--callback", "http://x/", "--uplink", "CHAT:hi"],
        ["queuing", "--callback", "http://x/", "--uplink", "SHOUT@1"],
        ["queuing", "--callback", "http://x/", "--var", "novalue"],
        ["queuing", "--callback", "http://x/", "--max-duration", "0"],
    ],
)
def test_bad_options_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["replay", *argv])
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# the real console script


def console_script() -> Path:
    script = Path(sys.executable).parent / "aicc-sim"
    assert script.exists(), f"the console script is not installed at {script}"
    return script


async def test_console_script_replays_against_a_live_receiver(receiver: Receiver) -> None:
    receiver.decide = check_signature
    process = await asyncio.create_subprocess_exec(
        str(console_script()),
        "replay",
        "timeout-async-on",
        "--callback",
        receiver.url,
        "--mode",
        "signature",
        "--user",
        USER,
        "--channel",
        CHANNEL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(WAIT):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert "replay timeout-async-on -> " + receiver.url + "/webhooks/v1/messages" in text
    assert 'DISCONNECT/TEXT/SYSTEM     "{TIPS}"' in text
    assert text.rstrip().endswith("PASS")
    [seen] = receiver.seen
    same_as_seed(seen.messages[0], seed("seed-pushmsg-disconnect-timeout-async-on"))


async def test_console_script_dead_receiver_exits_non_zero_cleanly() -> None:
    process = await asyncio.create_subprocess_exec(
        str(console_script()),
        "replay",
        "queuing",
        "--callback",
        f"http://127.0.0.1:{dead_port()}/aicc",
        "--attempts",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(WAIT):
        out, err = await process.communicate()
    assert process.returncode == 1
    assert b"cannot reach" in err and b"Traceback" not in err + out


async def test_an_expect_without_timeout_stops_the_run_with_a_note(
    receiver: Receiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "waits.yaml"
    path.write_text(
        "name: waits\ndescription: x\nsteps:\n  - push: {content: hi}\n"
        "  - expect: {control: CHAT}\n  - push: {content: never}\n"
    )
    status = await cli("replay", str(path), *oauth_args(receiver))
    out = capsys.readouterr().out
    assert status == 0  # every push that was sent behaved; the note says the run stopped
    assert [s.messages[0]["content"] for s in receiver.seen] == ["hi"]
    assert "run stalled" in out
    assert "steps[1] waits for a customer message with no timeout" in out


async def test_max_duration_stops_a_scenario_that_loops_forever(
    receiver: Receiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "forever.yaml"
    path.write_text(
        "name: forever\ndescription: x\nsteps:\n  - label: again\n    push: {content: tick}\n"
        "  - wait: 0.05\n  - goto: again\n"
    )
    status = await cli("replay", str(path), *oauth_args(receiver), "--max-duration", "0.3")
    out = capsys.readouterr().out
    assert status == 0  # what was sent behaved; the limit is the user's own choice
    assert "run time-limit" in out
    assert "stopped after 0.3 s" in out
    ticks = [s.messages[0]["content"] for s in receiver.seen]
    assert ticks and set(ticks) == {"tick"}
    # due at 0, 0.05, ..., 0.25 s at most (a loaded machine only drifts them later); the 7th
    # is due at the limit and is not sent
    assert len(ticks) <= 6


@pytest.mark.parametrize(("wait", "sent"), [("0.3", 1), ("0.29", 2)])
async def test_max_duration_sends_no_push_due_at_or_after_the_limit(
    receiver: Receiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    wait: str,
    sent: int,
) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(
        "name: two\ndescription: x\nsteps:\n  - push: {content: first}\n"
        f"  - wait: {wait}\n  - push: {{content: second}}\n"
    )
    status = await cli("replay", str(path), *oauth_args(receiver), "--max-duration", "0.3")
    out = capsys.readouterr().out
    assert status == 0
    contents = [s.messages[0]["content"] for s in receiver.seen]
    assert contents == ["first", "second"][:sent]
    assert ("run time-limit" in out) == (sent == 1)
