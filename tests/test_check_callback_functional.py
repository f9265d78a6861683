"""``aicc-sim check-callback`` over real sockets: a conforming receiver passes, faulty ones fail
with the case (and its controlType/mediaType) named."""

from __future__ import annotations

import asyncio
import json
import socket
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from receivers import Recorder, serving, signature_verifies

from simulator.cli import main
from simulator.cli.junit import JUnitCase, junit_bytes
from simulator.core import signing
from simulator.core.validation import default_store
from simulator.delivery import conformance_cases as catalogue
from simulator.delivery.conformance_cases import Case, build_cases

FIXTURES = Path(__file__).parent / "fixtures" / "vendor"
PUSH_KEY = "SimulatorPushKey0123456789abcdefghijklmnopq"
TOKEN = "check-test-token"
APP_KEY = "check-app-key"
WAIT = 30.0

Rule = Callable[[dict[str, Any]], bool]  # True = this receiver refuses the body


@dataclass
class Receiver(Recorder):
    """A push receiver: checks auth (unless ``lax``), validates the body, then applies
    ``refuse_if`` (a receiver bug under test)."""

    mode: str = "oauth"
    lax: bool = False
    refuse_if: Rule | None = None
    status: int = 400

    def authorized(self, request: web.Request, body: bytes) -> bool:
        if self.mode == "oauth":
            return (
                request.headers.get("x-app-key") == APP_KEY
                and request.headers.get("Authorization") == f"Bearer {TOKEN}"
            )
        return signature_verifies(request, body, PUSH_KEY)

    async def handle(self, request: web.Request) -> web.Response:
        body = (await self.record(request)).body
        if not self.lax and not self.authorized(request, body):
            return web.json_response({"resultCode": "1", "resultDesc": "unauthorized"}, status=401)
        document = json.loads(body)
        if not default_store().is_valid("push-request", document):
            return web.json_response({"resultCode": "1", "resultDesc": "invalid"}, status=400)
        if self.refuse_if is not None and self.refuse_if(document):
            return web.json_response(
                {"resultCode": "2", "resultDesc": "unsupported"}, status=self.status
            )
        return web.json_response({"resultCode": "0", "resultDesc": "success."})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    async with serving(recv.handle) as base_url:
        recv.base_url = base_url
        yield recv


async def cli(*argv: str) -> int:
    async with asyncio.timeout(WAIT):
        return await asyncio.to_thread(main, list(argv))


def oauth(recv: Receiver) -> list[str]:
    return ["check-callback", recv.url, "--app-key", APP_KEY, "--token", TOKEN]


def lines_of(out: str) -> dict[str, str]:
    """case name -> its PASS/FAIL/SKIP line."""
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[0] in ("PASS", "FAIL", "SKIP"):
            found[parts[1]] = line
    return found


ALL = build_cases()
NAMES = [c.name for c in ALL]


def names_where(predicate: Callable[[Case], bool]) -> set[str]:
    return {c.name for c in ALL if predicate(c)}


def any_message(case: Case, test: Callable[[dict[str, Any]], bool]) -> bool:
    return any(test(m) for m in case.messages)


# --------------------------------------------------------------------------------------------
# the suite itself (pure)


def test_every_case_is_a_valid_push() -> None:
    store = default_store()
    for case in ALL:
        assert (
            store.violations("push-request", {"timestamp": 1, "messages": list(case.messages)})
            == []
        ), case.name


def test_the_suite_covers_every_downlink_variant() -> None:
    controls = {m["controlType"] for c in ALL for m in c.messages}
    media = {m["mediaType"] for c in ALL for m in c.messages}
    offline = {m.get("isOfflineStatus", "absent") for c in ALL for m in c.messages}
    assert controls == {"CONNECT", "CHAT", "DISCONNECT", "READ", "Trans2Agent"}
    assert media == {"TEXT", "IMAGE", "VIDEO", "AUDIO", "LOCATE", "DOCUMENT", None}
    assert offline == {True, False, None, "absent"}
    assert any(len(c.messages) > 1 for c in ALL)
    assert any("interIdx" in m for c in ALL for m in c.messages)
    assert [c.name for c in ALL if c.expects_refusal] == [
        "security-wrong-auth",
        "security-missing-auth",
    ]
    assert not any(c.expects_refusal for c in build_cases(security=False))
    assert len(set(NAMES)) == len(NAMES)


@pytest.mark.parametrize(
    ("constant", "fixture"),
    [
        ("SEED_CONNECTED", "push-request.seed-pushmsg-connected.json#0"),
        ("SEED_QUEUING", "downlink-message.seed-pushmsg-queuing.json"),
        ("SEED_AGENT_DISCONNECT", "downlink-message.seed-pushmsg-disconnect-agent.json"),
        (
            "SEED_TIMEOUT_ASYNC_OFF",
            "downlink-message.seed-pushmsg-disconnect-timeout-async-off.json",
        ),
        ("SEED_TIMEOUT_ASYNC_ON", "downlink-message.seed-pushmsg-disconnect-timeout-async-on.json"),
        ("SEED_READ", "downlink-message.seed-pushmsg-read.json"),
        ("SEED_BATCH", "push-request.seed-webhook-batch.json#all"),
    ],
)
def test_seed_messages_are_exact_copies_of_the_fixtures(constant: str, fixture: str) -> None:
    file, _, part = fixture.partition("#")
    data = json.loads((FIXTURES / file).read_text())
    expected = data["messages"][0] if part == "0" else data["messages"] if part == "all" else data
    got = getattr(catalogue, constant)
    got = list(got) if isinstance(got, tuple) else got
    assert json.dumps(got) == json.dumps(expected)  # key order included


def test_seed_cases_are_exact_by_default_and_retargeted_on_request() -> None:
    [batch] = [c for c in ALL if c.name == "seed-batch"]
    assert list(batch.messages) == list(catalogue.SEED_BATCH)
    moved = {c.name: c for c in build_cases(user_id="u-1", channel_id="c-1")}
    assert all(m["to"] == "u-1" and m["from"] == "c-1" for c in moved.values() for m in c.messages)
    assert catalogue.SEED_BATCH[0]["to"] == catalogue.SEED_USER_ID  # not mutated


# --------------------------------------------------------------------------------------------
# conforming receivers pass


async def test_a_conforming_oauth_receiver_passes(
    receiver: Receiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "check.xml"
    status = await cli(*oauth(receiver), "--junit", str(report))
    out = capsys.readouterr().out
    assert status == 0, out
    found = lines_of(out)
    assert list(found) == NAMES
    assert all(line.startswith("PASS") for line in found.values())
    assert "refused as expected (HTTP 401)" in found["security-wrong-auth"]
    assert f"{len(ALL)} case(s): {len(ALL)} passed, 0 failed" in out
    assert out.rstrip().endswith("PASS")
    assert len(receiver.seen) == len(ALL)  # one attempt per case
    # the bodies went as built: the seed batch exactly
    batch = json.loads(receiver.seen[NAMES.index("seed-batch")].body)
    assert batch["messages"] == list(catalogue.SEED_BATCH)
    assert type(batch["timestamp"]) is int
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        str(len(ALL)),
        "0",
        "0",
        "0",
    )
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name", "").split()[0] for c in cases] == NAMES
    assert cases[0].get("classname") == "aicc-sim.check-callback.seed"


async def test_a_conforming_signature_receiver_passes(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.mode = "signature"
    status = await cli("check-callback", receiver.url, "--mode", "signature")
    out = capsys.readouterr().out
    assert status == 0, out
    assert {s.path for s in receiver.seen} == {"/aicc/webhooks/v1/messages"}
    wrong = receiver.seen[NAMES.index("security-wrong-auth")]
    assert signing.parse_authorization(wrong.headers["Authorization"])  # well-formed...
    assert not signing.is_valid(
        wrong.headers["Authorization"],
        method="POST",
        path=wrong.path,
        headers=wrong.headers,
        body=wrong.body,
        push_key=PUSH_KEY,
    )
    assert "Authorization" not in receiver.seen[NAMES.index("security-missing-auth")].headers


# --------------------------------------------------------------------------------------------
# faulty receivers fail, naming what they got wrong


@pytest.mark.parametrize(
    ("bug", "refuse_if", "lax", "failing"),
    [
        (
            "rejects READ",
            lambda doc: any(m["controlType"] == "READ" for m in doc["messages"]),
            False,
            names_where(lambda c: any_message(c, lambda m: m["controlType"] == "READ")),
        ),
        (
            "rejects null mediaType",
            lambda doc: any(m["mediaType"] is None for m in doc["messages"]),
            False,
            names_where(lambda c: any_message(c, lambda m: m["mediaType"] is None)),
        ),
        (
            "rejects batches",
            lambda doc: len(doc["messages"]) > 1,
            False,
            names_where(lambda c: len(c.messages) > 1),
        ),
        ("accepts any credentials", None, True, {"security-wrong-auth", "security-missing-auth"}),
    ],
)
async def test_a_faulty_receiver_fails_the_right_cases(
    bug: str,
    refuse_if: Rule | None,
    lax: bool,
    failing: set[str],
    receiver: Receiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    receiver.refuse_if, receiver.lax = refuse_if, lax
    report = tmp_path / "check.xml"
    status = await cli(*oauth(receiver), "--junit", str(report))
    out = capsys.readouterr().out
    assert status == 1, bug
    found = lines_of(out)
    assert {name for name, line in found.items() if line.startswith("FAIL")} == failing
    assert {name for name, line in found.items() if line.startswith("PASS")} == set(NAMES) - failing
    by_name = {c.name: c for c in ALL}
    for name in failing:
        # the summary names the case and its controlType/mediaType
        assert f"failed: {name} ({by_name[name].subject})" in out
    if lax:
        assert "ACCEPTED a push with wrong credentials" in found["security-wrong-auth"]
        assert "ACCEPTED a push with no Authorization header" in found["security-missing-auth"]
    else:
        assert all("refused: HTTP 400" in found[name] for name in failing)
        assert '"resultCode": "2"' in found[min(failing)]  # the receiver's answer is shown
    assert out.rstrip().endswith("FAIL")
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures")) == (str(len(ALL)), str(len(failing)))
    failed = {
        c.get("name", "").split()[0] for c in root.iter("testcase") if c.find("failure") is not None
    }
    assert failed == failing


async def test_a_refusal_by_result_code_alone_fails_a_positive_case(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.refuse_if = lambda doc: doc["messages"][0]["controlType"] == "Trans2Agent"
    receiver.status = 200
    assert await cli(*oauth(receiver)) == 1
    line = lines_of(capsys.readouterr().out)["control-trans2agent"]
    assert line.startswith("FAIL") and "Trans2Agent/null" in line
    assert 'refused: 200 resultCode "2"' in line


async def test_skip_auth_cases_leaves_out_the_security_cases(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.lax = True
    status = await cli(*oauth(receiver), "--skip-auth-cases")
    out = capsys.readouterr().out
    assert status == 0
    assert not any(name.startswith("security-") for name in lines_of(out))
    assert len(receiver.seen) == len(ALL) - 2


async def test_wrong_credentials_everywhere_get_a_hint(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await cli("check-callback", receiver.url)  # generated token: refused by the receiver
    out = capsys.readouterr().out
    assert status == 1
    assert "hint: every case was refused with 401/403" in out


# --------------------------------------------------------------------------------------------
# a dead receiver, bad input


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_dead_receiver_is_a_clean_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{dead_port()}/aicc"
    report = tmp_path / "dead.xml"
    status = await cli("check-callback", url, "--junit", str(report))
    captured = capsys.readouterr()
    assert status == 1
    assert f"cannot reach {url}" in captured.err
    assert "Traceback" not in captured.out + captured.err
    found = lines_of(captured.out)
    assert found[NAMES[0]].startswith("FAIL") and "connection refused" in found[NAMES[0]]
    assert all(found[name].startswith("SKIP") for name in NAMES[1:])
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == (
        str(len(ALL)),
        "1",
        str(len(ALL) - 1),
    )


async def test_an_unwritable_junit_path_is_a_clean_error(
    receiver: Receiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-dir" / "x.xml"
    status = await cli(*oauth(receiver), "--junit", str(target))
    err = capsys.readouterr().err
    assert status == 2
    assert str(target) in err and "cannot write the JUnit report" in err
    assert "Traceback" not in err


def test_a_bad_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check-callback", "localhost:9000"])
    assert exit_info.value.code == 2
    assert "not an http(s) URL" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# the JUnit writer


def test_junit_counts_and_hostile_text() -> None:
    cases = [
        JUnitCase("ok", "suite.a", 0.5),
        JUnitCase("bad", "suite.a", failure="HTTP 400", details="body: \x00\x1b<&>"),
        JUnitCase("broken", "suite.b", error="unreachable"),
        JUnitCase("later", "suite.b", skipped="not run"),
    ]
    root = ET.fromstring(junit_bytes("s", cases, properties={"url": "http://x/"}))
    suite = root.find("testsuite")
    assert suite is not None
    for node in (root, suite):
        assert (
            node.get("tests"),
            node.get("failures"),
            node.get("errors"),
            node.get("skipped"),
            node.get("time"),
        ) == ("4", "1", "1", "1", "0.500")
    bad = suite.find("./testcase[@name='bad']/failure")
    assert bad is not None and bad.get("message") == "HTTP 400"
    assert bad.text == "body: \ufffd\ufffd<&>"  # control bytes replaced, markup escaped
    prop = suite.find("./properties/property")
    assert prop is not None and prop.get("value") == "http://x/"
