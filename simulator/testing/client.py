"""A small, synchronous client of the ``/__admin`` API.

For a simulator running somewhere else (a docker-compose sidecar, another process)::

    from simulator.testing.client import AdminClient

    sim = AdminClient("http://aicc-sim:8080")          # or AdminClient.from_env()
    sim.wait_until_healthy(timeout=30)
    run_id = sim.start_run("agent-disconnect", user_id="customer-1")
    push = sim.wait_for_delivery(user_id="customer-1", control_type="DISCONNECT", timeout=5)

Standard library only (``urllib``), so it can be copied into any test environment. HTTP
proxies from the environment are ignored on purpose: the simulator is a local test double.

Waiting here means **polling** the admin API (every 50 ms at first, backing off to 0.5 s)
with a ``since`` cursor, so each poll returns only what is new: the client is on the other
side of a process boundary and the admin API has no push channel. The in-process pytest
fixture (:mod:`simulator.testing.pytest_plugin`) waits on the journal itself instead and
never polls.

Both share the matching vocabulary of :mod:`simulator.testing.matching` (pure, no I/O),
re-exported here: :class:`DeliveryMatch`, :class:`RequestMatch`, :func:`messages_of` and
the :class:`DeliveryFilters` / :class:`RequestFilters` keywords of every wait.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Unpack

from simulator.core.errors import AdminApiError, WaitTimeout
from simulator.core.faults.model import FaultKwargs, rule_document
from simulator.testing.matching import (
    DEFAULT_TIMEOUT,
    SHOWN_ON_TIMEOUT,
    DeliveryFilters,
    DeliveryMatch,
    Predicate,
    RequestFilters,
    RequestMatch,
    describe_delivery,
    describe_request,
    inject_messages,
    messages_of,
    query_of,
    timeout_message,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "SHOWN_ON_TIMEOUT",
    "AdminClient",
    "DeliveryFilters",
    "DeliveryMatch",
    "Predicate",
    "RequestFilters",
    "RequestMatch",
    "describe_delivery",
    "describe_request",
    "inject_messages",
    "messages_of",
    "timeout_message",
]

_ADMIN: Final = "/__admin"
_PAGE: Final = 1000
#: The admin API's listing (path and JSON key) of each journal.
_LISTING: Final = {"delivery": "deliveries", "request": "requests"}


# --------------------------------------------------------------------------- the client


class AdminClient:
    """The ``/__admin`` API of a simulator at ``base_url``, over HTTP (sync, thread-safe:
    it keeps no connection state)."""

    def __init__(
        self,
        base_url: str,
        admin_token: str | None = None,
        *,
        http_timeout: float = 10.0,
        poll_interval: float = 0.05,
    ) -> None:
        """``admin_token``: the simulator's ``admin.token``, sent as ``X-Admin-Token``;
        ``http_timeout``: seconds per HTTP call; ``poll_interval``: the first pause of a
        wait (it backs off to 0.5 s)."""
        self._base_url = base_url.rstrip("/")
        self._admin_token = admin_token
        self._http_timeout = http_timeout
        self._poll_interval = poll_interval
        # no proxies: a proxy from the environment must not stand between a test and its
        # local simulator
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AdminClient:
        """A client for ``AICC_SIM_URL`` (default ``http://127.0.0.1:8080``) with
        ``AICC_SIM_ADMIN_TOKEN``, if set. Pass ``os.environ``."""
        return cls(
            environ.get("AICC_SIM_URL") or "http://127.0.0.1:8080",
            environ.get("AICC_SIM_ADMIN_TOKEN") or None,
        )

    @property
    def base_url(self) -> str:
        """The simulator's URL, without a trailing slash."""
        return self._base_url

    @property
    def admin_url(self) -> str:
        """``base_url + "/__admin"``."""
        return self._base_url + _ADMIN

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base_url!r})"

    # -- HTTP ---------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        *,
        http_timeout: float | None = None,
    ) -> Any:
        url = self.admin_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self._admin_token:
            headers["X-Admin-Token"] = self._admin_token
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        timeout = self._http_timeout if http_timeout is None else http_timeout
        try:
            with self._opener.open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                raw = exc.read()
            raise _api_error(method, url, exc.code, raw) from None
        except urllib.error.URLError as exc:
            raise AdminApiError(method, url, None, f"no answer: {exc.reason}") from None
        except TimeoutError:
            raise AdminApiError(method, url, None, f"no answer within {timeout:g} s") from None
        except OSError as exc:  # reset connections and the like
            raise AdminApiError(method, url, None, f"no answer: {exc}") from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise AdminApiError(method, url, 200, f"answer is not JSON: {raw[:200]!r}") from None

    # -- reading ------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``GET /__admin/health``."""
        result: dict[str, Any] = self._call("GET", "/health")
        return result

    def wait_until_healthy(self, timeout: float = 30.0) -> dict[str, Any]:
        """Poll ``/__admin/health`` until it answers 200 (a container that is starting);
        :class:`WaitTimeout` with the last error after ``timeout`` seconds."""
        last: AdminApiError | None = None
        for _ in self._attempts(timeout):
            try:
                return self._call("GET", "/health", http_timeout=min(2.0, self._http_timeout))  # type: ignore[no-any-return]
            except AdminApiError as exc:
                last = exc
        raise WaitTimeout(
            f"the simulator at {self._base_url} was not healthy within {timeout:g} s (last: {last})"
        )

    def requests(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        status: int | None = None,
        user_id: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        include_echo: bool = False,
    ) -> list[dict[str, Any]]:
        """The request journal's entries as a list, oldest first (``GET /__admin/requests``
        filters). The echo
        receiver's own requests only with ``include_echo=True`` or a ``path`` naming them."""
        query = query_of(
            path=path,
            method=method,
            status=status,
            userId=user_id,
            since=since,
            limit=limit,
            includeEcho="true" if include_echo else None,
        )
        result: list[dict[str, Any]] = self._call("GET", "/requests", query=query)["requests"]
        return result

    def clear_requests(self) -> None:
        """``DELETE /__admin/requests``."""
        self._call("DELETE", "/requests")

    def deliveries(
        self,
        *,
        user_id: str | None = None,
        run_id: str | None = None,
        verdict: str | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Every push attempt and poll hand-off, oldest first (``GET /__admin/deliveries``): the
        listing's entries as a list (its ``total``/``dropped``/``lastSeq`` counters left out);
        an unknown ``verdict`` is an :class:`AdminApiError` 400 naming the known ones."""
        query = query_of(userId=user_id, runId=run_id, verdict=verdict, since=since, limit=limit)
        result: list[dict[str, Any]] = self._call("GET", "/deliveries", query=query)["deliveries"]
        return result

    def sessions(self) -> list[dict[str, Any]]:
        """Every known session (``GET /__admin/sessions``)."""
        result: list[dict[str, Any]] = self._call("GET", "/sessions")["sessions"]
        return result

    def session(self, user_id: str) -> dict[str, Any]:
        """``GET /__admin/sessions/{userId}``: ``{"userId", "sessions": [... with history]}``;
        :class:`AdminApiError` 404 when the user has none."""
        result: dict[str, Any] = self._call("GET", f"/sessions/{_segment(user_id)}")
        return result

    def scenarios(self) -> list[dict[str, Any]]:
        """The scenario library: ``[{"name", "description"}]``."""
        result: list[dict[str, Any]] = self._call("GET", "/scenarios")["scenarios"]
        return result

    def run(self, run_id: str) -> dict[str, Any]:
        """One scenario run's status (``GET /__admin/runs/{runId}``)."""
        result: dict[str, Any] = self._call("GET", f"/runs/{_segment(run_id)}")
        return result

    def runs(self) -> list[dict[str, Any]]:
        """Every remembered run."""
        result: list[dict[str, Any]] = self._call("GET", "/runs")["runs"]
        return result

    def satisfaction(
        self,
        *,
        user_id: str | None = None,
        kind: str | None = None,
        accepted: bool | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Every rating, oldest first (``GET /__admin/satisfaction``): saveSatisfaction
        (``kind`` ``agent``) and v1/robot/feedbacksatisfaction (``robot``), with its
        ``resultCode`` and ``accepted``."""
        flag = None if accepted is None else str(accepted).lower()
        query = query_of(userId=user_id, kind=kind, accepted=flag, since=since, limit=limit)
        result: list[dict[str, Any]] = self._call("GET", "/satisfaction", query=query)["ratings"]
        return result

    def calls(self) -> list[dict[str, Any]]:
        """Every click-to-call, live or ended (``GET /__admin/calls``)."""
        result: list[dict[str, Any]] = self._call("GET", "/calls")["calls"]
        return result

    def running_config(self) -> dict[str, Any]:
        """The running configuration, secrets masked (``GET /__admin/config``)."""
        result: dict[str, Any] = self._call("GET", "/config")
        return result

    # -- acting -------------------------------------------------------------------------------
    def start_run(
        self,
        name: str,
        user_id: str,
        channel_id: str | None = None,
        callback_url: str | None = None,
        vars: Mapping[str, Any] | None = None,
    ) -> str:
        """Start scenario ``name`` for ``user_id``; returns the ``runId``."""
        body: dict[str, Any] = {"userId": user_id}
        if channel_id is not None:
            body["channelId"] = channel_id
        if callback_url is not None:
            body["callbackUrl"] = callback_url
        if vars is not None:
            body["vars"] = dict(vars)
        answer = self._call("POST", f"/scenarios/{_segment(name)}/runs", body)
        return str(answer["runId"])

    def inject(
        self,
        user_id: str,
        messages: str | Mapping[str, Any] | Iterable[Mapping[str, Any]],
        *,
        channel_id: str | None = None,
        invalid: bool = False,
    ) -> dict[str, Any]:
        """Push messages into ``user_id``'s live session now, as an agent would: a text, one
        partial DownLinkMsg or several (missing fields are filled by the simulator)."""
        body: dict[str, Any] = {"messages": inject_messages(messages)}
        if channel_id is not None:
            body["channelId"] = channel_id
        if invalid:
            body["invalid"] = True
        result: dict[str, Any] = self._call("POST", f"/sessions/{_segment(user_id)}/messages", body)
        return result

    def call_event(
        self,
        user_id: str,
        event: str,
        *,
        channel_id: str | None = None,
        result_desc: str | None = None,
        event_id: int | str | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        """Queue a click-to-call event for ``user_id`` now (``queuing``, ``connected``,
        ``queue-timeout``, ``released``, ``failed``), as the CTI would send it; ``content``
        overrides content fields (``causeId``, ``gwAddresses``, ...). Returns the answer
        the customer's next getClickToCallEvents will get."""
        body: dict[str, Any] = {"event": event, **content}
        if channel_id is not None:
            body["channelId"] = channel_id
        if result_desc is not None:
            body["resultDesc"] = result_desc
        if event_id is not None:
            body["eventId"] = event_id
        answer: dict[str, Any] = self._call("POST", f"/calls/{_segment(user_id)}/events", body)[
            "answer"
        ]
        return answer

    def reset(self) -> None:
        """Forget sessions, runs, tokens, files, journals and counters."""
        self._call("POST", "/reset")

    # -- waiting: polling here (see the module docstring); the in-process simulator of
    # simulator.testing.pytest_plugin overrides _wait_for_match to wait on the journal itself
    def wait_for_delivery(
        self,
        predicate: Predicate | None = None,
        *,
        since: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **filters: Unpack[DeliveryFilters],
    ) -> dict[str, Any]:
        """The first delivery journal entry (already there with ``seq > since``, or to come)
        that matches every given filter (see :class:`DeliveryMatch`); :class:`WaitTimeout`
        after ``timeout`` seconds.

        A push attempt is journaled once the receiver has answered, so when this returns
        the receiver has seen the push. Blocking, for sync tests: in async tests, the
        in-process simulator has ``await_delivery``."""
        return self._wait_for_match(DeliveryMatch(predicate, **filters), since, timeout)

    def wait_for_request(
        self,
        predicate: Predicate | None = None,
        *,
        since: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **filters: Unpack[RequestFilters],
    ) -> dict[str, Any]:
        """The first request journal entry that matches every given filter (see
        :class:`RequestMatch`). Blocking, for sync tests: in async tests, the in-process
        simulator has ``await_request``."""
        return self._wait_for_match(RequestMatch(predicate, **filters), since, timeout)

    def _attempts(self, timeout: float) -> Iterator[None]:
        """Yield at once, then again after each pause (50 ms at first, backing off to 0.5 s)
        until ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        interval = self._poll_interval
        while True:
            yield
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(interval, remaining))
            interval = min(interval * 1.5, 0.5)

    def _wait_for_match(
        self, match: DeliveryMatch | RequestMatch, since: int | None, timeout: float
    ) -> dict[str, Any]:
        """What every wait does: poll the admin API with a ``since`` cursor."""
        listing = _LISTING[match.kind]
        path = "/" + listing
        query = match.query()
        cursor = since
        last_seq = since or 0
        for _ in self._attempts(timeout):
            while True:
                page = {**query, "limit": str(_PAGE)}
                if cursor is not None:
                    page["since"] = str(cursor)
                answer = self._call("GET", path, query=page)
                entries: list[dict[str, Any]] = answer[listing]
                for entry in entries:
                    if match(entry):
                        return entry
                last_seq = int(answer.get("lastSeq", last_seq))
                if len(entries) < _PAGE:
                    break
                # a full page may hide more: continue after its last entry, at once
                cursor = int(entries[-1]["seq"])
            cursor = last_seq
        recent = self._call("GET", path, query={"since": str(max(0, last_seq - SHOWN_ON_TIMEOUT))})
        raise WaitTimeout(timeout_message(match.kind, match, timeout, recent[listing]))

    # -- inbound fault rules (docs/faults.md) and the contract check --------------------------
    def add_fault(
        self, rule: Mapping[str, Any] | None = None, **kwargs: Unpack[FaultKwargs]
    ) -> dict[str, Any]:
        """Put a fault rule in force (``POST /__admin/faults``): a rule document, or the flat
        keywords of :func:`~simulator.core.faults.model.rule_document`
        (``add_fault(endpoint="send", status=503, times=2)``). Returns the rule with its id."""
        document = dict(rule) if rule is not None else rule_document(**kwargs)
        result: dict[str, Any] = self._call("POST", "/faults", document)
        return result

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules in force with their ``source`` (``start-up``, ``scenario``,
        ``admin``) and their ``seen`` / ``fired`` counters."""
        result: list[dict[str, Any]] = self._call("GET", "/faults")["faults"]
        return result

    def remove_fault(self, rule_id: str) -> None:
        """Remove one fault rule (``AdminApiError`` 404 when it is gone already)."""
        self._call("DELETE", f"/faults/{_segment(rule_id)}")

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "/faults")

    @contextlib.contextmanager
    def fault(
        self, rule: Mapping[str, Any] | None = None, **kwargs: Unpack[FaultKwargs]
    ) -> Iterator[dict[str, Any]]:
        """A fault rule in force for the ``with`` block, removed on exit (if still there)::

        with sim.fault(endpoint="send", status=503, times=2):
            ...
        """
        created = self.add_fault(rule, **kwargs)
        try:
            yield created
        finally:
            if any(r.get("id") == created["id"] for r in self.faults()):
                self.remove_fault(created["id"])

    def _all(self, listing: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        cursor: int | None = None
        while True:
            query = {"limit": str(_PAGE), **({"since": str(cursor)} if cursor else {})}
            page: list[dict[str, Any]] = self._call("GET", f"/{listing}", query=query)[listing]
            entries += page
            if len(page) < _PAGE:
                return entries
            cursor = int(page[-1]["seq"])

    #: set by :meth:`expect_violations`: the fixture's contract check is off for this test
    expecting_violations = False

    def expect_violations(self) -> None:
        """This test breaks the contract on purpose (a malformed request, a receiver that
        refuses pushes): the ``aicc_sim`` fixture will not fail it. The marker
        ``@pytest.mark.aicc_sim_expect_violations`` does the same for a test, class or module."""
        self.expecting_violations = True

    def assert_clean(self) -> None:
        """Raise ``AssertionError`` listing the journal entries if the code under test sent
        a request the contract refused, or a push was refused by the receiver when no fault
        asked for it (:mod:`simulator.testing.contract_check`)."""
        from simulator.testing.contract_check import breaches, report

        requests, pushes = breaches(self._all("requests"), self._all("deliveries"))
        if requests or pushes:
            raise AssertionError(report(requests, pushes))


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _api_error(method: str, url: str, status: int, raw: bytes) -> AdminApiError:
    body: Any = None
    reason = raw[:200].decode("utf-8", "replace") or "(empty body)"
    with contextlib.suppress(ValueError):  # not every error page is JSON (a proxy's, say)
        body = json.loads(raw)
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("exceptionInfo") or reason
        violations = body.get("violations") or []
        listed = "; ".join(
            f"{v.get('pointer') or '/'}: {v.get('message')}"
            for v in violations
            if isinstance(v, dict)
        )
        reason = f"{detail} ({listed})" if listed else str(detail)
    return AdminApiError(method, url, status, reason, body)
