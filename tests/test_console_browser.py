"""The web console in a real browser: Debian's chromium driven by Playwright, against the
simulator and a recording receiver on real sockets.

Every test fails on a console error, an uncaught page error, or a request to anything but
127.0.0.1 (the page must need nothing from another host). With ``AICC_SIM_SCREENSHOTS=1`` the
tests rewrite the screenshots the docs use (``docs/console-*.png``); otherwise nothing is
written, so a normal run leaves the tree clean.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from conftest import CHANNEL, MakeSim, RecordingReceiver, Sim, channel_doc, config_doc
from playwright.async_api import Browser, ConsoleMessage, Page, Request, async_playwright, expect

from simulator.config import parse_config
from simulator.server import RunningServer, start_server
from simulator.server.faults import FAULTS
from simulator.server.live_config import CONFIG

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (scripts/install-browser.sh)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow

#: the flags scripts/install-browser.sh's browser needs here: no sandbox as root, and no
#: background traffic
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS = Path(__file__).resolve().parent.parent / "docs"
SCREENSHOTS = os.environ.get("AICC_SIM_SCREENSHOTS") == "1"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TOKEN = "browser-test-token"

expect.set_options(timeout=10_000)


@dataclass
class Watch:
    """What the page did that a test must not allow: console errors, page errors, requests
    to another host. ``allowed`` holds substrings of console errors a test expects."""

    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def on_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname != "127.0.0.1":
            self.foreign.append(request.url)

    def check(self) -> None:
        unexpected = [e for e in self.errors if not any(a in e for a in self.allowed)]
        assert not unexpected, f"console errors: {unexpected}"
        assert not self.foreign, f"requests to another host: {self.foreign}"


OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[tuple[OpenPage, Watch]]:
    """``await open_page(url, viewport=...)``: a fresh tab (own sessionStorage) on ``url``."""
    watch = Watch()
    contexts: list[Any] = []

    async def open_(url: str, viewport: dict[str, int] = DESKTOP) -> Page:
        context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        contexts.append(context)
        page = await context.new_page()
        page.on("console", watch.on_console)
        page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
        page.on("request", watch.on_request)
        await page.goto(url)
        return page

    yield open_, watch
    for context in contexts:
        await context.close()
    watch.check()


async def shot(page: Page, name: str) -> None:
    """Rewrite docs/console-<name>.png when screenshots are asked for."""
    if SCREENSHOTS:
        await page.screenshot(path=str(DOCS / f"console-{name}.png"))


async def live(page: Page) -> None:
    await expect(page.locator("#conn")).to_have_text("Live")


def conv(page: Page, user: str) -> Any:
    return page.locator(f'.conv[data-user="{user}"]')


async def test_conversation_live_and_answered_as_the_agent(
    sim: Sim, receiver: RecordingReceiver, open_page: tuple[OpenPage, Watch]
) -> None:
    open_, _ = open_page
    page = await open_(sim.base_url + "/")  # "/" leads to the console
    assert page.url.endswith("/__admin/ui/")
    await live(page)
    await expect(page.locator("#conv-empty")).to_be_visible()

    # an integration opens a conversation: the list updates by itself
    alice = sim.customer("alice-7421")
    await alice.connect()
    await expect(conv(page, "alice-7421")).to_be_visible()
    await expect(conv(page, "alice-7421")).to_have_attribute("data-state", "agent")
    await alice.send("CHAT", "Hi, my parcel has not arrived yet.", messageId="msg-001")
    await receiver.wait_message("alice-7421", controlType="READ")
    await sim.customer("bob-1180").connect()
    await expect(conv(page, "bob-1180")).to_be_visible()

    # without a mouse: focus the conversation, Enter opens it, the message box has focus
    await conv(page, "alice-7421").focus()
    await page.keyboard.press("Enter")
    messages = page.locator("#messages")
    await expect(messages.locator(".msg.in .bubble")).to_have_text(
        "Hi, my parcel has not arrived yet."
    )
    await expect(messages.locator(".msg.in .ticks")).to_have_text("✓✓")  # read by the agent
    await expect(page.locator("#agent-text")).to_be_focused()
    await page.keyboard.type("Sorry about that! Let me check the tracking number.")
    await page.keyboard.press("Enter")

    pushed = await receiver.wait_message(
        "alice-7421", content="Sorry about that! Let me check the tracking number."
    )
    assert pushed["sourceType"] == "AGENT" and pushed["controlType"] == "CHAT"
    assert pushed["senderNickname"] == "Alice"
    mine = messages.locator(".msg.out").filter(has_text="Let me check the tracking number.")
    await expect(mine.locator(".verdict")).to_have_attribute("data-verdict", "accepted")
    await expect(page.locator("#agent-text")).to_have_value("")
    await expect(page.locator("#timeline .mark")).not_to_have_count(0)
    await expect(conv(page, "alice-7421").locator(".counts .ok")).not_to_have_text("✓ 0")
    await shot(page, "conversation")

    # media: pick an image of the scenarios' media; it is pushed and shown inline
    await page.locator("#media-type").select_option("IMAGE")
    await expect(page.locator("#media-file")).to_be_visible()
    await page.get_by_role("button", name="Send").click()
    pushed = await receiver.wait_message("alice-7421", mediaType="IMAGE")
    assert pushed["content"] == "5f0c2a1e-7b3d-4c55-9a10-000000000001"  # agent-media's PNG
    image = messages.locator(".msg.out img")
    await expect(image).to_have_count(1)
    await expect(image).to_have_js_property("complete", True)
    assert await image.evaluate("img => img.naturalWidth") == 1  # the 1x1 PNG, loaded


async def test_disconnect_and_timeout_buttons(
    sim: Sim, receiver: RecordingReceiver, open_page: tuple[OpenPage, Watch]
) -> None:
    open_, _ = open_page
    bob, carol = sim.customer("bob"), sim.customer("carol")
    await bob.connect()
    await carol.connect()
    page = await open_(sim.base_url + "/__admin/ui")
    await live(page)

    await conv(page, "bob").click()
    await page.get_by_role("button", name="Agent disconnect").click()
    pushed = await receiver.wait_message("bob", controlType="DISCONNECT")
    assert pushed["sourceType"] == "AGENT" and pushed["content"] is None
    await expect(page.locator("#chat-state")).to_have_text("ended")
    divider = page.locator('.divider[data-kind="Agent disconnected"]')
    await expect(divider.locator(".verdict")).to_have_attribute("data-verdict", "accepted")
    await expect(page.locator("#send")).to_be_disabled()

    await conv(page, "carol").click()
    await expect(page.locator("#btn-read")).to_be_disabled()  # nothing unread
    # stop the scripted agent (it reads every message at once), then the customer writes
    await page.get_by_role("button", name="Stop run").click()
    await expect(page.locator("#chat-run")).to_be_empty()
    await carol.send("CHAT", "Are you there?", messageId="c-1")
    await expect(page.locator("#btn-read")).to_have_text("Read receipt (1)")
    await page.locator("#btn-read").click()
    pushed = await receiver.wait_message("carol", controlType="READ")
    assert pushed["content"] == "c-1"
    await expect(page.locator("#async-label")).to_contain_text("off: timeout-async-off")
    await page.locator("#async-switch").check()
    await expect(page.locator("#async-label")).to_contain_text("on: timeout-async-on")
    assert sim.app[CONFIG].current.channels[0].async_switch is True
    await page.get_by_role("button", name="Customer timeout").click()
    pushed = await receiver.wait_message("carol", controlType="DISCONNECT")
    assert pushed["isOfflineStatus"] is True and pushed["sourceType"] == "SYSTEM"
    await expect(
        page.locator(".divider").filter(has_text="Customer timeout (async on")
    ).to_be_visible()
    await expect(conv(page, "carol")).to_have_attribute("data-state", "ended")


async def test_run_a_scenario_and_stop_it(
    sim: Sim, receiver: RecordingReceiver, open_page: tuple[OpenPage, Watch]
) -> None:
    open_, _ = open_page
    page = await open_(sim.base_url + "/__admin/ui/")
    await live(page)
    await page.get_by_role("button", name="Scenarios").click()

    # a whole conversation, played 20 times as fast, to its end
    await page.locator("#run-scenario").select_option("full-conversation")
    await expect(page.locator('#run-vars input[data-var="agentName"]')).to_have_value("Alice")
    await page.locator('#run-vars input[data-var="agentName"]').fill("Grace")
    await page.locator("#run-user").fill("dana")
    await page.locator("#run-speed").fill("20")
    await page.get_by_role("button", name="Start run").click()
    await receiver.wait_message("dana", controlType="DISCONNECT")
    first = page.locator('#runs-body tr[aria-selected="true"]')
    await expect(first.locator(".run-status")).to_have_text("completed")
    assert any(m.get("senderNickname") == "Grace" for m in receiver.messages("dana"))
    await expect(page.locator("#run-pushes li").first).to_contain_text("Queuing...")
    await expect(page.locator("#run-pushes .verdict").first).to_have_text("accepted")

    # one that waits (30 s in the queue): watch its position, then stop it
    await page.locator("#run-scenario").select_option("connected")
    await page.locator('#run-vars input[data-var="queueWait"]').fill("30")
    await page.locator("#run-user").fill("eve")
    await page.locator("#run-speed").fill("1")
    await page.get_by_role("button", name="Start run").click()
    await receiver.wait_message("eve", content="Queuing...")
    running = page.locator('#runs-body tr[aria-selected="true"]')
    await expect(running.locator(".run-status")).to_have_text("running")
    await expect(running.locator(".mono")).to_contain_text("steps[1]")
    await shot(page, "scenarios")
    await running.get_by_role("button", name="Stop").click()
    await expect(running.locator(".run-status")).to_have_text("cancelled")
    assert len(receiver.messages("eve")) == 1  # nothing after the stop


async def test_journals_detail_and_copy_as_curl(
    sim: Sim, open_page: tuple[OpenPage, Watch]
) -> None:
    open_, _ = open_page
    fay = sim.customer("fay")
    await fay.connect()
    bad = fay.message("CHAT", "x" * 10)
    bad["mediaType"] = "HOLOGRAM"
    reply = await fay.call("send", bad)
    assert reply.status == 400
    page = await open_(sim.base_url + "/__admin/ui/")
    await live(page)
    await page.get_by_role("button", name="Journals").click()
    await page.locator('#j-filter input[name="status"]').fill("400")
    await page.locator('#j-filter input[name="status"]').press("Enter")
    rows = page.locator("#j-body tr")
    await expect(rows).to_have_count(1)
    await rows.first.focus()
    await page.keyboard.press("Enter")
    detail = page.locator("#j-detail")
    await expect(detail.locator(".violations")).to_contain_text("/mediaType")
    curl = page.locator("#curl")
    await expect(curl).to_contain_text("curl -X POST")
    await expect(curl).to_contain_text("/apiaccess/ccmessaging/send")
    await expect(curl).to_contain_text("Authorization: Bearer ***")  # masked stays masked
    await expect(curl).to_contain_text("HOLOGRAM")
    await shot(page, "journals")

    await page.get_by_role("button", name="Deliveries").click()
    await expect(page.locator("#j-body tr").first).to_be_visible()
    await page.locator("#j-body tr").first.click()
    await expect(detail.locator("h2")).to_contain_text(f"{CHANNEL}/fay")

    # the refused uplink in the conversation, with its pointer
    await page.get_by_role("button", name="Conversations").click()
    await conv(page, "fay").click()
    refused = page.locator("#messages .msg.in").filter(has_text="xxxxxxxxxx")
    await expect(refused.locator(".meta .error")).to_contain_text("HTTP 400")
    await expect(refused.locator(".violations code")).to_have_text("/mediaType")


async def test_admin_token_prompt(
    make_sim: MakeSim, receiver: RecordingReceiver, open_page: tuple[OpenPage, Watch]
) -> None:
    open_, _ = open_page
    sim = await make_sim(config_doc([channel_doc(receiver.url)], admin={"token": TOKEN}))
    await sim.customer("gus").connect()
    page = await open_(sim.base_url + "/__admin/ui/")
    dialog = page.locator("#login")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#login-token")).to_be_focused()
    await expect(conv(page, "gus")).to_have_count(0)  # no data without the token
    await shot(page, "login")
    await page.keyboard.type("not-the-token")
    await page.keyboard.press("Enter")
    await expect(page.locator("#login-error")).to_have_text("That token was refused.")
    await page.locator("#login-token").fill(TOKEN)
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await live(page)
    await expect(conv(page, "gus")).to_be_visible()
    stored = await page.evaluate("[sessionStorage.length, localStorage.length, document.cookie]")
    assert stored == [1, 0, ""]  # for this tab only
    # a new tab asks again
    second = await open_(sim.base_url + "/__admin/ui/")
    await expect(second.locator("#login")).to_be_visible()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _serve(receiver_url: str, port: int) -> RunningServer:
    document = config_doc([channel_doc(receiver_url)], listen={"port": port})
    return await start_server(parse_config(document, "<test>"))


async def test_server_stopped_then_back(
    receiver: RecordingReceiver, open_page: tuple[OpenPage, Watch]
) -> None:
    open_, watch = open_page
    # a refused connection is what this test is about; the browser logs each attempt
    watch.allowed += ["net::ERR_CONNECTION_REFUSED", "net::ERR_INCOMPLETE_CHUNKED_ENCODING"]
    port = _free_port()
    running = await _serve(receiver.url, port)
    base = f"http://127.0.0.1:{port}"
    assert running.url == base
    try:
        page = await open_(base + "/__admin/ui/")
        await live(page)
        await running.stop()
        await expect(page.locator("#conn")).to_have_text("Disconnected")
        await expect(page.locator("#banner")).to_contain_text("Lost the connection")
        await expect(page.locator("#banner")).to_contain_text("Reconnecting")
        running = await _serve(receiver.url, port)
        await live(page)
        await expect(page.locator("#banner")).to_be_hidden()
        # the new server's conversations show up on the same page
        async with aiohttp.ClientSession() as http:
            await Sim(running.app, base, http).customer("hal").connect()
        await expect(conv(page, "hal")).to_be_visible()
    finally:
        await running.stop()


async def test_phone_width(
    sim: Sim, receiver: RecordingReceiver, open_page: tuple[OpenPage, Watch]
) -> None:
    open_, _ = open_page
    ivy = sim.customer("ivy")
    await ivy.connect()
    await ivy.send("CHAT", "Can I change my delivery address?", messageId="m-9")
    await receiver.wait_message("ivy", content="You said: Can I change my delivery address?")
    page = await open_(sim.base_url + "/__admin/ui/", viewport=PHONE)
    await live(page)
    await conv(page, "ivy").click()
    await expect(page.locator("#messages .msg.in .bubble")).to_have_text(
        "Can I change my delivery address?"
    )
    await expect(page.locator("#conv-list")).to_be_hidden()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing wider than the phone
    await shot(page, "phone")
    await page.get_by_role("button", name="Back to the conversations").click()
    await expect(conv(page, "ivy")).to_be_visible()


async def test_faults_panel_adds_lists_counts_and_removes_rules(
    sim: Sim, receiver: RecordingReceiver, open_page: tuple[OpenPage, Watch]
) -> None:
    open_, watch = open_page
    watch.allowed.append("status of 400")  # the refused rules' answers, logged by the browser
    page = await open_(sim.base_url + "/__admin/ui/")
    await live(page)
    await page.get_by_role("button", name="Faults").click()
    await expect(page.locator("#faults-empty")).to_be_visible()

    # a misspelt endpoint: refused by the admin API, its words and pointer on the page
    form = page.locator("#fault-form")
    await form.locator('input[name="endpoint"]').fill("sendd")
    await form.locator('input[name="status"]').fill("503")
    await page.get_by_role("button", name="Add rule", exact=True).click()
    await expect(page.locator("#fault-status")).to_contain_text("HTTP 400")
    violations = page.locator("#fault-violations")
    await expect(violations.locator("code")).to_have_text("/match/endpoint")
    await expect(violations).to_contain_text(
        "'sendd' is not an endpoint of the emulated AICC; did you mean 'send'?"
    )
    await expect(page.locator("#faults-empty")).to_be_visible()
    assert sim.app[FAULTS].rules == []

    # corrected: in force, listed, and it acts on the next send
    await form.locator('input[name="endpoint"]').fill("send")
    await form.locator('select[name="controlType"]').select_option("CHAT")
    await form.locator('input[name="times"]').fill("2")
    await form.locator('input[name="id"]').fill("chat-down")
    await page.get_by_role("button", name="Add rule", exact=True).click()
    await expect(page.locator("#fault-status")).to_have_text("Rule chat-down is in force.")
    await expect(page.locator("#fault-violations")).to_be_hidden()
    row = page.locator('#faults-body tr[data-rule="chat-down"]')
    await expect(row).to_contain_text('{"endpoint":"send","controlType":"CHAT"}')
    await expect(row).to_contain_text('{"status":503}')
    await expect(row).to_contain_text("2 times")
    await expect(row.locator(".source")).to_have_text("admin")
    await expect(row.locator(".fired")).to_have_text("0")
    jo = sim.customer("jo")
    await jo.connect()
    reply = await jo.call("send", jo.message("CHAT", "hello?"))
    assert reply.status == 503
    await expect(row.locator(".fired")).to_have_text("1")  # followed live
    await expect(row.locator(".seen")).to_have_text("1")

    # a rule written as JSON, with the API's word on a bad one
    await page.locator("#fault-json-box summary").click()
    await page.locator("#fault-json").fill('{"match": {"endpoint": "poll", "method": "POST"},'
                                           ' "action": {"delay_ms": 10}}')
    await page.get_by_role("button", name="Add JSON rule").click()
    await expect(violations.locator("code")).to_have_text("/match/method")
    await page.locator("#fault-json").fill('{"id": "slow-poll", "match": {"endpoint": "poll"},'
                                           ' "action": {"delay_ms": 10}}')
    await page.get_by_role("button", name="Add JSON rule").click()
    await expect(page.locator("#faults-body tr")).to_have_count(2)
    await page.evaluate("window.scrollTo(0, 0)")
    await shot(page, "faults")

    # remove one, then clear the rest
    await page.get_by_role("button", name="Remove rule slow-poll").click()
    await expect(page.locator("#fault-status")).to_have_text("Rule slow-poll removed.")
    await expect(page.locator("#faults-body tr")).to_have_count(1)
    await page.get_by_role("button", name="Clear all").click()
    await expect(page.locator("#fault-status")).to_have_text("1 rule removed.")
    await expect(page.locator("#faults-empty")).to_be_visible()
    assert sim.app[FAULTS].rules == []
