"""``aicc-sim replay SCENARIO --callback URL``: play a scenario against a push receiver, no
server needed, with a live timeline (one line per push) and a summary.

Exit status: 0 when every push behaved as expected (accepted; fault-injected ones refused as
they should be) and the run did not fail; 1 otherwise (including an unreachable receiver);
2 for bad input (unknown scenario, bad file, bad option).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import aiohttp

from simulator.cli.junit import JUnitCase, check_writable, write_junit
from simulator.cli.options import (
    add_address_options,
    add_auth_options,
    auth_settings,
    callback_url,
    describe_auth,
    positive_float,
    positive_int,
    var_assignment,
)
from simulator.core.push import PushFaults, RetryPolicy
from simulator.core.validation import default_store
from simulator.delivery.replay import (
    PushReport,
    ReplayEvent,
    ReplayPlan,
    ReplayReport,
    ScriptedUplink,
    customer_script,
    replay,
)
from simulator.delivery.verdicts import answer_of, excerpt, push_kind, sent_attempts
from simulator.scenario import RunContext, Uplink, load

__all__ = [
    "UPLINK_CONTROLS",
    "format_event",
    "format_push",
    "format_summary",
    "junit_cases",
    "register",
    "uplink_spec",
]

#: controlTypes a scripted customer uplink may have (the uplink enumeration of ``send``).
UPLINK_CONTROLS = ("CONNECT", "CHAT", "TRANS2AGENT", "INPUT", "DISCONNECT", "READ")


def uplink_spec(text: str) -> ScriptedUplink:
    """argparse type: ``CONTROLTYPE[:content]@SECONDS``, e.g. ``CHAT:hello@1.5``.

    A CHAT gets mediaType TEXT and a messageId ``replay-<seconds>`` so that scenarios that
    send read receipts have something to acknowledge.
    """
    spec, sep, when = text.rpartition("@")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected CONTROLTYPE[:content]@SECONDS, got {text!r}")
    try:
        at = float(when)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {when!r} in {text!r}") from None
    if not at >= 0 or at == float("inf"):
        raise argparse.ArgumentTypeError(f"seconds must be 0 or more: {text!r}")
    control, has_content, content = spec.partition(":")
    control = control.strip().upper()
    if control not in UPLINK_CONTROLS:
        raise argparse.ArgumentTypeError(
            f"unknown uplink controlType {control!r}; one of {', '.join(UPLINK_CONTROLS)}"
        )
    chat = control == "CHAT"
    return ScriptedUplink(
        at,
        Uplink(
            control_type=control,
            media_type="TEXT" if chat else None,
            content=content if has_content else ("" if chat else None),
            message_id=f"replay-{when.strip()}"[:32] if chat else None,
        ),
    )


def register(sub: Any) -> None:
    """Add the ``replay`` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "replay",
        help="play a scenario against a push receiver (no server needed)",
        description="Play one scenario run against --callback with a live timeline. The "
        "customer is the scenario's customer: block (built-ins that wait for the customer "
        "declare one), or the --uplink messages when given; --no-customer sends none, so "
        "expect steps run to their timeout branches. Exit 0 only if every push behaved as "
        "expected.",
    )
    parser.add_argument(
        "scenario",
        metavar="SCENARIO",
        help="a built-in scenario name or a path to a scenario YAML file",
    )
    parser.add_argument(
        "--callback",
        required=True,
        type=callback_url,
        metavar="URL",
        help="the receiver's callback URL (signature mode appends /webhooks/v1/messages)",
    )
    add_address_options(parser)
    parser.add_argument(
        "--speed",
        type=positive_float,
        default=1.0,
        metavar="F",
        help="play waits, timeouts and fault delays F times faster (default 1)",
    )
    parser.add_argument(
        "--tips",
        default="{TIPS}",
        metavar="TEXT",
        help="content of an offline (async on) timeout DISCONNECT (default {TIPS})",
    )
    parser.add_argument(
        "--idle-timeout",
        type=positive_float,
        default=2.0,
        metavar="SECONDS",
        help="the idleTimeout variable (scenario time; default 2)",
    )
    parser.add_argument(
        "--var",
        dest="vars",
        action="append",
        type=var_assignment,
        default=[],
        metavar="NAME=VALUE",
        help="override a scenario variable (repeatable)",
    )
    customer = parser.add_mutually_exclusive_group()
    customer.add_argument(
        "--uplink",
        dest="uplinks",
        action="append",
        type=uplink_spec,
        default=[],
        metavar="CONTROL[:content]@SECONDS",
        help="inject a customer message at SECONDS (scenario time) after the "
        "start, e.g. CHAT:hello@1.5 or TRANS2AGENT@2 (repeatable); replaces the scenario's "
        "customer: block",
    )
    customer.add_argument(
        "--no-customer",
        action="store_true",
        help="play no customer, not even the scenario's customer: block (expect steps time "
        "out)",
    )
    parser.add_argument(
        "--max-duration",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help="stop the run after this many seconds (a scenario that loops forever): a push "
        "due at or after the limit is not sent; the pushes so far are judged as usual",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="seed for jitter and generated messageCodes",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=5.0,
        metavar="SECONDS",
        help="per-attempt timeout (default 5)",
    )
    parser.add_argument(
        "--attempts",
        type=positive_int,
        default=3,
        metavar="N",
        help="attempts per push, with backoff 0.2 s doubling (default 3)",
    )
    parser.add_argument(
        "--junit", metavar="FILE", help="also write a JUnit XML report, one testcase per push"
    )
    add_auth_options(parser)
    parser.set_defaults(handler=_handle)


def _faults_text(faults: PushFaults) -> str:
    parts = []
    if faults.delay > 0:
        parts.append(f"delay {faults.delay:.3f}s")
    if faults.duplicate:
        parts.append(f"duplicate x{faults.duplicate}")
    if faults.drop:
        parts.append("drop")
    if faults.invalid:
        parts.append("invalid")
    if faults.auth != "ok":
        parts.append(f"auth {faults.auth}")
    return ", ".join(parts)


def format_push(report: PushReport) -> str:
    """One timeline line: offset, kinds, content excerpt, answer, latency, verdict, faults."""
    first = report.messages[0] if report.messages else {}
    kind = push_kind(report.messages[:1])
    if len(report.messages) > 1:  # a batch: the first message, and how many follow
        kind += f" +{len(report.messages) - 1} more"
    last = report.last_attempt
    latency = f"{last.latency_ms:7.1f} ms" if last and last.latency_ms is not None else "      - ms"
    sent = len(sent_attempts(report.attempts))
    line = (
        f"+{report.offset:.3f}s  {kind:<26} {excerpt(first.get('content'), 40):<40}  "
        f"{answer_of(last):<22} {latency}  {report.verdict}"
    )
    extras = []
    if sent > 1:
        extras.append(f"{sent} attempts")
    if faults := _faults_text(report.faults):
        extras.append(f"faults: {faults}")
    if report.duplicates:
        extras.append(f"{report.duplicates} duplicate POST(s) sent")
    return line + (f"  [{'; '.join(extras)}]" if extras else "")


def format_event(event: ReplayEvent) -> str:
    """One timeline line for a customer message or an expect step that timed out."""
    if event.uplink is not None:
        uplink = event.uplink
        kind = uplink.control_type + (f"/{uplink.media_type}" if uplink.media_type else "")
        text = f"+{event.offset:.3f}s  customer {kind:<17} {excerpt(uplink.content, 40)}"
        if uplink.message_id:
            text += f"  (messageId {uplink.message_id})"
        return text.rstrip()
    assert event.timeout is not None
    waited = " or ".join(event.timeout.controls)
    return (
        f"+{event.offset:.3f}s  timeout  {event.timeout.path}: no {waited} from the customer "
        "in time; on to its on_timeout branch"
    )


def format_summary(report: ReplayReport) -> str:
    """The closing lines: counts, duration, outcome and PASS/FAIL."""
    pushes = report.pushes
    refused = sum(p.expected == "refuse" and p.passed for p in pushes)
    dropped = sum(p.expected == "none" for p in pushes)
    lines = [
        f"{len(pushes)} push(es): {report.accepted} accepted, {refused} rejected as expected, "
        f"{dropped} dropped by the scenario, {report.failed} failed; "
        f"run {report.outcome} in {report.duration:.3f} s"
    ]
    sent = sum(e.kind == "customer" for e in report.events)
    timeouts = sum(e.kind == "timeout" for e in report.events)
    if sent or timeouts:
        lines.append(
            f"customer: {sent} message(s) sent; {timeouts} expect step(s) timed out waiting"
        )
    if not pushes:
        lines.append("note: the scenario pushed nothing")
    if report.note:
        lines.append(f"note: {report.note}")
    lines.append("PASS" if report.passed else "FAIL")
    return "\n".join(lines)


def junit_cases(report: ReplayReport) -> list[JUnitCase]:
    """One testcase per push, plus an error case when the run failed or was aborted."""
    classname = f"aicc-sim.replay.{report.scenario}"
    cases = []
    for push in report.pushes:
        last = push.last_attempt
        seconds = sum((a.latency_ms or 0.0) for a in push.attempts) / 1000
        body = last.request_body if last else ""
        details = f"step {push.step}; verdict {push.verdict}; answer {answer_of(last)}" + (
            f"; response {last.response_body}" if last and last.response_body else ""
        )
        cases.append(
            JUnitCase(
                name=f"#{push.index} +{push.offset:.3f}s {push.step} {push_kind(push.messages)}",
                classname=classname,
                seconds=seconds,
                failure=None if push.passed else push.verdict,
                details=details,
                output=body,
            )
        )
    if report.outcome in ("failed", "aborted"):
        cases.append(
            JUnitCase(
                name="scenario run",
                classname=classname,
                error=f"run {report.outcome}: {report.note}",
            )
        )
    return cases


async def _replay(plan: ReplayPlan) -> ReplayReport:
    def show(push: PushReport) -> None:
        print(format_push(push), flush=True)

    def show_event(event: ReplayEvent) -> None:
        print(format_event(event), flush=True)

    # One session for the whole run; its own timeout is off, the deliverer sets one per attempt.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
        return await replay(plan, session, on_push=show, on_event=show_event)


def _customer(args: argparse.Namespace, scripted: tuple[ScriptedUplink, ...]) -> str:
    """Who plays the customer, for the heading (``--uplink`` wins over the scenario's
    script; ``--no-customer`` over both)."""
    if args.no_customer:
        return "customer: none (--no-customer)"
    if args.uplinks:
        return f"customer: {len(args.uplinks)} --uplink message(s)"
    if scripted:
        return f"customer: the scenario's script, {len(scripted)} message(s) (--no-customer: none)"
    return "customer: none (the scenario declares no customer: block)"


def _handle(args: argparse.Namespace) -> int:
    if args.junit:
        check_writable(args.junit)  # before anything is sent: a lost report is a lost run
    scenario = load(args.scenario)
    settings = auth_settings(args, args.callback)
    context = RunContext(
        user_id=args.user,
        channel_id=args.channel,
        speed=args.speed,
        tips=args.tips,
        vars=dict(args.vars),
        seed=args.seed,
        idle_timeout=args.idle_timeout,
    )
    scripted = customer_script(scenario)
    if args.no_customer:
        uplinks: tuple[ScriptedUplink, ...] = ()
    elif args.uplinks:
        uplinks = tuple(args.uplinks)
    else:
        uplinks = scripted
    plan = ReplayPlan(
        scenario=scenario,
        context=context,
        target=settings.target,
        policy=RetryPolicy(attempts=args.attempts, timeout=args.timeout),
        store=default_store(),
        uplinks=uplinks,
        max_duration=args.max_duration,
    )
    started = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"replay {scenario.name} -> {settings.target.url}")
    print(
        f"  user {args.user}, channel {args.channel}, speed {args.speed:g}; "
        f"{describe_auth(settings)}",
    )
    print(f"  {_customer(args, scripted)}", flush=True)
    report = asyncio.run(_replay(plan))
    print(format_summary(report))
    if report.outcome == "aborted":
        print(f"aicc-sim replay: {report.note}", file=sys.stderr)
    if args.junit:
        write_junit(
            args.junit,
            f"replay {scenario.name}",
            junit_cases(report),
            timestamp=started,
            properties={
                "scenario": scenario.name,
                "url": settings.target.url,
                "mode": settings.target.mode,
                "outcome": report.outcome,
            },
        )
    return 0 if report.passed else 1
