"""``aicc-sim check-callback URL``: run the conformance suite against a push receiver.

One line per case and a summary; exit 0 only if every case passed, 1 if any failed or the
receiver could not be reached, 2 for bad input. See :mod:`simulator.delivery.conformance`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp

from simulator.cli.junit import JUnitCase, check_writable, write_junit
from simulator.cli.options import (
    AuthSettings,
    add_address_options,
    add_auth_options,
    auth_settings,
    callback_url,
    describe_auth,
    positive_float,
)
from simulator.core.tls import client_context
from simulator.core.validation import default_store
from simulator.delivery.conformance import CaseResult, SuiteReport, run_suite
from simulator.delivery.conformance_cases import build_cases
from simulator.delivery.tls_probe import TLSCase, probe_tls

__all__ = ["format_result", "format_summary", "junit_cases", "register"]


def register(sub: Any) -> None:
    """Add the ``check-callback`` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "check-callback",
        help="run the push conformance suite against an integration's receiver",
        description="POST every downlink variant (each controlType and mediaType, the vendor "
        "samples, offline status, null and extra fields, batches) to URL, each of which must "
        'be answered HTTP 200 with resultCode "0", and check that pushes with wrong or no '
        "credentials are refused. Exit 0 only if every case passed.",
    )
    parser.add_argument(
        "url",
        type=callback_url,
        metavar="URL",
        help="the receiver's callback URL (signature mode appends /webhooks/v1/messages)",
    )
    add_address_options(parser)
    parser.add_argument(
        "--tips",
        default="{TIPS}",
        metavar="TEXT",
        help="content of the generated offline DISCONNECT case (default {TIPS})",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=5.0,
        metavar="SECONDS",
        help="time allowed for each answer (default 5)",
    )
    parser.add_argument(
        "--skip-auth-cases",
        action="store_true",
        help="leave out the security cases (wrong and missing credentials)",
    )
    parser.add_argument(
        "--junit", metavar="FILE", help="also write a JUnit XML report, one testcase per case"
    )
    add_auth_options(parser)
    tls = parser.add_argument_group("https receivers (TLS cases run first)")
    tls.add_argument("--ca-bundle", metavar="FILE",
                     help="PEM CAs the receiver is verified against (default: the system's)")
    tls.add_argument("--client-cert", metavar="FILE",
                     help="client certificate to present (two-way TLS)")
    tls.add_argument("--client-key", metavar="FILE", help="its private key")
    parser.set_defaults(handler=_handle)


def format_tls(case: TLSCase) -> str:
    """One line per TLS case, as :func:`format_result`."""
    mark = "SKIP" if case.passed is None else ("PASS" if case.passed else "FAIL")
    return f"{mark}  {case.name:<24} {'TLS':<20}      - ms  {case.reason}"


def tls_junit_cases(cases: list[TLSCase]) -> list[JUnitCase]:
    """One testcase per TLS case (classname ``aicc-sim.check-callback.tls``)."""
    return [
        JUnitCase(
            name=case.name,
            classname="aicc-sim.check-callback.tls",
            seconds=0.0,
            failure=case.reason if case.passed is False else None,
            skipped=case.reason if case.passed is None else None,
            details=f"{case.title}\n{case.reason}",
        )
        for case in cases
    ]


def format_result(result: CaseResult) -> str:
    """One line per case: PASS/FAIL/SKIP, name, controlType/mediaType, reason."""
    mark = "SKIP" if result.skipped else ("PASS" if result.passed else "FAIL")
    latency = f"{result.latency_ms:6.1f} ms" if result.latency_ms is not None else "     - ms"
    subject = result.case.subject
    if len(subject) > 30:
        subject = subject.split(":", 1)[0]  # "batch of 6"
    return f"{mark}  {result.case.name:<24} {subject:<20} {latency}  {result.reason}"


def format_summary(report: SuiteReport) -> str:
    """Counts, the failing cases named, and PASS/FAIL."""
    results = report.results
    security = [r for r in results if r.case.expects_refusal]
    ran = [r for r in results if not r.skipped]
    passed = sum(r.passed for r in ran)
    lines = [
        f"{len(results)} case(s): {passed} passed, {len(report.failed)} failed, "
        f"{len(results) - len(ran)} not run"
        + (
            f" (security: {sum(r.passed for r in security)}/{len(security)} passed)"
            if security
            else ""
        )
    ]
    for result in report.failed:
        lines.append(f"  failed: {result.case.name} ({result.case.subject}): {result.reason}")
    if report.aborted:
        lines.append(f"stopped: {report.aborted}")
    lines.append("PASS" if report.passed else "FAIL")
    return "\n".join(lines)


def _auth_hint(report: SuiteReport) -> str | None:
    positive = [r for r in report.results if not r.case.expects_refusal and not r.skipped]
    if positive and all(r.status in (401, 403) for r in positive):
        return (
            "every case was refused with 401/403: does the receiver expect other "
            "credentials? (--token, --app-key, --push-key, --access-key, --mode)"
        )
    return None


def junit_cases(report: SuiteReport) -> list[JUnitCase]:
    """One testcase per case (classname ``aicc-sim.check-callback.<group>``)."""
    cases = []
    for result in report.results:
        case = result.case
        cases.append(
            JUnitCase(
                name=f"{case.name} ({case.subject})",
                classname=f"aicc-sim.check-callback.{case.group}",
                seconds=(result.latency_ms or 0.0) / 1000,
                failure=None if result.passed or result.skipped else result.reason,
                skipped=result.reason if result.skipped else None,
                details=f"{case.title}\n{result.reason}",
            )
        )
    return cases


async def _run(settings: AuthSettings, args: argparse.Namespace) -> SuiteReport:
    cases = build_cases(
        user_id=args.user,
        channel_id=args.channel,
        tips=args.tips,
        security=not args.skip_auth_cases,
    )

    def show(result: CaseResult) -> None:
        print(format_result(result), flush=True)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
        report = await run_suite(
            session,
            settings.target,
            cases,
            answer_timeout=args.timeout,
            store=default_store(),
            on_result=show,
        )
    for result in report.results:
        if result.skipped:
            show(result)
    return report


def _handle(args: argparse.Namespace) -> int:
    if args.junit:
        check_writable(args.junit)  # before anything is sent: a lost report is a lost run
    settings = auth_settings(args, args.url)
    tls_cases: list[TLSCase] = []
    if settings.target.url.startswith("https://"):
        tls = client_context(args.ca_bundle, args.client_cert, args.client_key)
        settings = replace(settings, target=replace(settings.target, tls=tls))
    started = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"check-callback {settings.target.url}")
    print(f"  {describe_auth(settings)}", flush=True)
    if settings.target.tls is not None:
        tls_cases = asyncio.run(
            probe_tls(
                settings.target.url,
                ca_bundle=args.ca_bundle,
                client_cert=args.client_cert,
                client_key=args.client_key,
                timeout=args.timeout,
            )
        )
        for case in tls_cases:
            print(format_tls(case), flush=True)
    report = asyncio.run(_run(settings, args))
    tls_failed = [case for case in tls_cases if case.passed is False]
    if tls_cases:
        ran = [case for case in tls_cases if case.passed is not None]
        print(f"TLS: {len(ran) - len(tls_failed)}/{len(ran)} passed"
              + "".join(f"\n  failed: {c.name}: {c.reason}" for c in tls_failed))
    print(format_summary(report))
    if hint := _auth_hint(report):
        print(f"hint: {hint}")
    if report.aborted:
        print(f"aicc-sim check-callback: {report.aborted}", file=sys.stderr)
    if args.junit:
        write_junit(
            args.junit,
            "check-callback",
            tls_junit_cases(tls_cases) + junit_cases(report),
            timestamp=started,
            properties={"url": settings.target.url, "mode": settings.target.mode},
        )
    return 0 if report.passed and not tls_failed else 1
