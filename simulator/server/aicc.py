"""The emulated AICC: what each web-channel call does to a customer's conversation.

Handlers parse and validate; this service decides: it owns the tokens, sessions, files,
scenario runs and the way downlink messages leave (push delivery or the poll queue).
Answers use the vendor's resultCode / resultDesc pairs (reference §3).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from simulator.config import ChannelConfig, Config
from simulator.core.clock import epoch_ms
from simulator.core.errors import (
    AuthError,
    ConfigError,
    SimulatorError,
    ValidationFailed,
    Violation,
)
from simulator.core.journal import Journal
from simulator.core.push import PlannedPush, PushFaults, PushTarget
from simulator.core.validation import SchemaStore
from simulator.scenario import (
    RunContext,
    Scenario,
    ScenarioRun,
    Uplink,
    builtin_names,
    load_builtin,
    load_library,
)
from simulator.server.echo import ECHO_PATH
from simulator.server.files import FileStore
from simulator.server.runs import Conductor, RunRecord
from simulator.server.sessions import Session, SessionState, SessionStore
from simulator.server.tokens import AccessToken, MessagingToken, TokenStore

__all__ = ["Aicc", "DeliveryNote", "NotFound", "Outcome", "wall_ms"]

log = logging.getLogger(__name__)

# resultDesc texts, verbatim from the vendor's pages (reference §3.1, §3.2, §3.8)
CONNECT_OK = "success"
CONNECT_ROBOT_OK = "connect to robot successfully."
OUTSIDE_HOURS = "The current time is not within the working time of the service agents"
NO_CCUCS = "No ccucs address available!"
DISCONNECT_OK = "disconnect successfully"
DISCONNECT_FAILED = "disconnect failed"
DISCONNECT_ROBOT_OK = "Disconnect robot successfully"
DISCONNECT_ROBOT_FAILED = "Failed to disconnect robot"
CHAT_OK = "sendUserMessage successfully."
CHAT_FAILED = "sendUserMessage failed"
CHAT_ROBOT_OK = "Send message to robot successfully"
TRANSFER_NO_CHANNEL = "transfer to agent failed, none channel config found."
TRANSFER_NO_SESSION = "fail to transfer from robot to agent,session keep touch failed."
TRANSFER_ALREADY = "fail to transfer from robot to agent,it has been agent service."
ASYNC_OK = "send sendMessageForOpenApiAsync success."
POLL_OK = "query user messages success."
LEAVE_OK = "Save leaveMessage success!"

#: where downloadFileStream's temporary ``fileUrl`` links point (served without auth)
FILES_PATH = "/__files"

#: messageIds remembered per session for READ receipts
MAX_UNREAD_IDS = 100


class NotFound(SimulatorError):
    """An admin-API lookup that found nothing (answered 404)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """A resultCode / resultDesc answer."""

    code: str
    desc: str

    def body(self) -> dict[str, str]:
        """The JSON body ``{"resultCode": …, "resultDesc": …}``."""
        return {"resultCode": self.code, "resultDesc": self.desc}


@dataclass(frozen=True, slots=True)
class DeliveryNote:
    """A downlink message put in a poll queue, journaled beside push attempts."""

    run_id: str | None
    conversation: str
    messages: tuple[dict[str, Any], ...]
    queued_ms: int
    verdict: str = "queued-for-poll"
    violations: tuple[Violation, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready view."""
        data: dict[str, Any] = {
            "kind": "poll",
            "runId": self.run_id,
            "conversation": self.conversation,
            "messages": list(self.messages),
            "queuedAt": self.queued_ms,
            "verdict": self.verdict,
        }
        if self.violations:
            data["violations"] = [{"pointer": v.pointer, "message": v.message}
                                  for v in self.violations]  # fmt: skip
        return data


#: hands a push to the delivery worker; False when it was refused at once (full backlog)
Submit = Callable[[str, PushTarget, PlannedPush, str | None], bool]


def _conversation(channel_id: str, user_id: str) -> str:
    return f"{channel_id}/{user_id}"


#: epoch milliseconds now (re-exported: the middleware journals with it)
wall_ms = epoch_ms


class Aicc:
    """The emulated AICC service for one configuration."""

    def __init__(
        self,
        config: Config,
        store: SchemaStore,
        *,
        clock: Callable[[], float] = time.monotonic,
        deliveries: Journal[Any] | None = None,
    ) -> None:
        """``deliveries`` is the journal poll-queue hand-offs go to (beside push attempts)."""
        self.config = config
        self.store = store
        self.clock = clock
        self.tokens = TokenStore(clock)
        self.sessions = SessionStore()
        self.files = FileStore()
        self.poll_journal: Journal[Any] = (
            deliveries if deliveries is not None else Journal(config.journal.capacity)
        )
        self.leave_messages: deque[dict[str, Any]] = deque(maxlen=1000)
        self.conductor = Conductor(self._dispatch, on_finished=self._run_finished, wall_ms=wall_ms)
        self.base_url = f"http://{config.listen.host}:{config.listen.port}"
        self._submit: Submit | None = None
        self._idle: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._poll_waiters: dict[tuple[str, str], asyncio.Future[None]] = {}
        self._push_tokens: dict[str, AccessToken] = {}
        # the built-in library, then the configured scenario_dirs (same name: the file wins)
        self.library: dict[str, Scenario] = {name: load_builtin(name) for name in builtin_names()}
        self.library.update(load_library(config.scenario_dirs))
        self._check_references()
        for scenario in self.library.values():
            self._register_media(scenario)

    def use_config(self, config: Config) -> None:
        """Run with ``config`` from the next request and push on (``PUT /__admin/config``).
        Its scenario references are checked first: nothing changes when one is unknown."""
        previous, self.config = self.config, config
        try:
            self._check_references()
        except ConfigError:
            self.config = previous
            raise

    def _check_references(self) -> None:
        for channel in self.config.channels:
            names = (
                channel.on_connect,
                channel.timeout_scenarios.async_off,
                channel.timeout_scenarios.async_on,
            )
            for name in names:
                if name is not None and name not in self.library:
                    raise ConfigError(
                        self.config.source,
                        None,
                        f"channel {channel.id}: no scenario {name!r} "
                        f"(known: {', '.join(sorted(self.library))})",
                    )

    # --- wiring -----------------------------------------------------------------------

    def attach_delivery(self, submit: Submit) -> None:
        """Connect the push delivery worker (done by the app's cleanup context)."""
        self._submit = submit

    def set_base_url(self, url: str) -> None:
        """The URL this simulator is reachable at (for the built-in echo receiver)."""
        self.base_url = url.rstrip("/")

    def scenario(self, name: str) -> Scenario:
        """A scenario of the library by name."""
        found = self.library.get(name)
        if found is None:
            raise NotFound(f"unknown scenario {name!r}; known: {', '.join(sorted(self.library))}")
        return found

    def _register_media(self, scenario: Scenario) -> None:
        for file_id, media in scenario.media.items():
            self.files.put(file_id, media.file_type, media.data)

    # --- tokens -------------------------------------------------------------------------

    def token_by_ak_sk(self, app_key: str, app_secret: str, expire: str | None) -> AccessToken:
        """tokenByAkSk: a new AccessToken for a configured credential pair."""
        credential = self.config.credential(app_key)
        if credential is None or credential.app_secret != app_secret:
            raise AuthError(401, "app_key or app_secret is wrong")
        tokens = self.config.tokens
        lifetime = tokens.access_token_default_ttl
        if expire is not None and expire.strip():
            try:
                lifetime = int(expire.strip())
            except ValueError:
                raise ValidationFailed(
                    "token-request",
                    [Violation("", f"X-Token-Expire must be whole seconds, got {expire!r}")],
                ) from None
            if lifetime < 1:
                raise ValidationFailed(
                    "token-request", [Violation("", "X-Token-Expire must be at least 1")]
                )
        # the vendor's maximum is 3600 s; a larger request is clamped, as gateways do
        lifetime = min(lifetime, tokens.access_token_max_ttl)
        return self.tokens.issue_access(app_key, lifetime)

    def apply_token(self, access: AccessToken, body: Mapping[str, Any]) -> dict[str, str]:
        """applyToken: a ccmessaging-token for the user on the channel. Success answers as the
        vendor's example, ``{"resultCode": "0", "token": …}`` (resultDesc is "currently not
        returned", §2.2); an unknown channel is resultCode 1 without a token."""
        channel = self.config.channel(body["channelId"])
        if channel is None:
            return {
                "resultCode": "1",
                "resultDesc": f"channel config {body['channelId']} not found",
            }
        token = self.tokens.issue_messaging(
            access.app_key,
            user_id=body["userId"],
            user_name=body["userName"],
            channel_id=channel.id,
            locale=body["locale"],
            lifetime=self.config.tokens.ccmessaging_token_ttl,
        )
        return {"resultCode": "0", "token": token.value}

    def messaging_token(
        self, value: str | None, access: AccessToken
    ) -> tuple[MessagingToken, str | None]:
        """Check a ccmessaging-token. An expired one is renewed while the user's session is
        live (the new value goes back in the response header, reference §2.2) and refused
        with 401 otherwise. Returns the token and the renewed value, if any."""
        token = self.tokens.find_messaging(value)
        if token.app_key != access.app_key:
            raise AuthError(401, "ccmessaging-token was issued to another app")
        if not self.tokens.is_expired(token):
            return token, None
        session = self.sessions.get(token.channel_id, token.user_id)
        if session is None or not session.active:
            raise AuthError(401, "ccmessaging-token expired (call applyToken again)")
        renewed = self.tokens.renew_messaging(token, self.config.tokens.ccmessaging_token_ttl)
        return renewed, renewed.value

    # --- send / sendAsync ---------------------------------------------------------------

    def send(self, token: MessagingToken, body: Mapping[str, Any]) -> Outcome:
        """One uplink message (CONNECT, CHAT, INPUT, READ, TRANS2AGENT, DISCONNECT)."""
        self._check_identity(token, body)
        channel = self.config.channel(body["to"])
        control = body["controlType"]
        if channel is None:
            return Outcome("13", TRANSFER_NO_CHANNEL if control == "TRANS2AGENT" else NO_CCUCS)
        session = self.sessions.get(channel.id, token.user_id)
        if control == "CONNECT":
            return self._connect(channel, token, session, body)
        if session is None or not session.active:
            return self._without_session(control, robot=channel.robot)
        self._arm_idle(channel, session)
        if control == "DISCONNECT":
            session.record(body, from_customer=True)
            robot = session.state is SessionState.ROBOT
            self._end_session(session, "customer-disconnect")
            return Outcome("0", DISCONNECT_ROBOT_OK if robot else DISCONNECT_OK)
        if control == "TRANS2AGENT":
            if not self._in_working_hours(channel):
                return Outcome("12", OUTSIDE_HOURS + ".")
            if session.state in (SessionState.AGENT, SessionState.QUEUING):
                return Outcome("13", TRANSFER_ALREADY)
            self._feed(session, body)
            return Outcome("0", "success")
        if control == "CHAT":
            session.record(body, from_customer=True)
            message_id = body.get("messageId")
            if message_id:
                session.unread_ids.append(message_id)
                if len(session.unread_ids) > MAX_UNREAD_IDS:  # bounded, like the engine's
                    del session.unread_ids[:-MAX_UNREAD_IDS]
            self._feed(session, body)
            robot = session.state is SessionState.ROBOT
            return Outcome("0", CHAT_ROBOT_OK if robot else CHAT_OK)
        # INPUT and READ: accepted, handed to the scenario, no history entry
        self._feed(session, body)
        return Outcome("0", "success")

    def _check_identity(self, token: MessagingToken, body: Mapping[str, Any]) -> None:
        if body["from"] != token.user_id:
            raise ValidationFailed(
                "send-request",
                [
                    Violation(
                        "/from",
                        f"{body['from']!r} is not the userId of the ccmessaging-token "
                        f"({token.user_id!r})",
                    )
                ],
            )
        if body["to"] != token.channel_id:
            raise ValidationFailed(
                "send-request",
                [
                    Violation(
                        "/to",
                        f"{body['to']!r} is not the channelId of the ccmessaging-token "
                        f"({token.channel_id!r})",
                    )
                ],
            )

    @staticmethod
    def _without_session(control: str, *, robot: bool) -> Outcome:
        if control == "DISCONNECT":
            return Outcome("13", DISCONNECT_ROBOT_FAILED if robot else DISCONNECT_FAILED)
        if control == "TRANS2AGENT":
            return Outcome("13", TRANSFER_NO_SESSION)
        return Outcome("13", CHAT_FAILED)

    def _connect(
        self,
        channel: ChannelConfig,
        token: MessagingToken,
        session: Session | None,
        body: Mapping[str, Any],
    ) -> Outcome:
        robot_text = CONNECT_ROBOT_OK if channel.robot else CONNECT_OK
        if session is not None and session.active:
            return Outcome("0", robot_text)  # already connected: nothing new starts
        if not self._in_working_hours(channel):
            return Outcome("12", OUTSIDE_HOURS)
        if session is not None:
            self._end_idle(session)  # an ended session's timer must not stand in for the new one
        session = self._new_session(channel, token.user_id, token.user_name)
        session.record(body, from_customer=True)
        if not channel.on_connect:
            self._arm_idle(channel, session)
            return Outcome("0", robot_text)
        scenario = self.scenario(channel.on_connect)
        answer = scenario.connect_result
        outcome = Outcome(answer["resultCode"], answer["resultDesc"]) if answer else None
        if outcome is not None and outcome.code != "0":
            # the scenario answers the CONNECT itself (e.g. after-hours: 12); no live session
            session.end("connect-refused")
        else:
            self._arm_idle(channel, session)
        record = self._start(scenario, channel, session, "connect")
        session.run_id = record.run_id
        return outcome or Outcome("0", robot_text)

    def _new_session(self, channel: ChannelConfig, user_id: str, user_name: str) -> Session:
        session = Session(
            channel.id, user_id, user_name, robot=channel.robot, now=self.clock(),
            now_ms=wall_ms(),
        )  # fmt: skip
        self.sessions.put(session)
        return session

    def _in_working_hours(self, channel: ChannelConfig) -> bool:
        return channel.working_hours.is_open(datetime.now(UTC))

    def _feed(self, session: Session, body: Mapping[str, Any]) -> None:
        if session.run_id is None:
            return
        self.conductor.feed(
            session.run_id,
            Uplink(
                control_type=body["controlType"],
                media_type=body.get("mediaType"),
                content=body.get("content"),
                message_id=body.get("messageId"),
            ),
        )

    def _end_session(self, session: Session, reason: str) -> None:
        session.end(reason)
        self._end_idle(session)
        if session.run_id is not None:
            self.conductor.cancel(session.run_id)
        self._wake_poll(session)

    # --- idle timeout -------------------------------------------------------------------

    def _arm_idle(self, channel: ChannelConfig, session: Session) -> None:
        """Note the customer's activity; one timer per session, created on the first uplink
        and re-armed for the remaining time when it fires (not cancelled on every send)."""
        if not channel.idle_timeout or channel.idle_timeout <= 0:
            return
        loop = asyncio.get_running_loop()
        session.last_uplink = loop.time()
        key = (session.channel_id, session.user_id)
        if key not in self._idle:
            self._idle[key] = loop.call_later(
                channel.idle_timeout, self._idle_expired, channel, session
            )

    def _idle_expired(self, channel: ChannelConfig, session: Session) -> None:
        key = (session.channel_id, session.user_id)
        self._idle.pop(key, None)
        loop = asyncio.get_running_loop()
        if not session.active:
            return
        remaining = session.last_uplink + (channel.idle_timeout or 0) - loop.time()
        if remaining > 0.001:  # the customer wrote since the timer was set
            self._idle[key] = loop.call_later(remaining, self._idle_expired, channel, session)
            return
        if session.run_id is not None:
            self.conductor.cancel(session.run_id)
        name = channel.timeout_scenario
        if name is None:  # no timeout scenario configured: the session just ends
            self._end_session(session, "timeout")
            return
        record = self._start(self.scenario(name), channel, session, "idle-timeout")
        session.run_id = record.run_id

    # --- runs and dispatch ----------------------------------------------------------------

    def _prepare(
        self,
        scenario: Scenario,
        channel: ChannelConfig,
        user_id: str,
        unread: Sequence[str],
        extra: Mapping[str, Any],
    ) -> ScenarioRun:
        """A run ready to start; raises :class:`ScenarioError` (bad vars) before anything
        about the session has changed."""
        context = RunContext(
            user_id=user_id,
            channel_id=channel.id,
            speed=channel.speed,
            tips=channel.tips,
            vars=dict(extra),
            wall_ms=wall_ms,
            message_ids=tuple(unread),
            idle_timeout=float(channel.idle_timeout or 0) or 3600.0,
        )
        return ScenarioRun(scenario, context)

    def _start(
        self, scenario: Scenario, channel: ChannelConfig, session: Session, trigger: str
    ) -> RunRecord:
        run = self._prepare(scenario, channel, session.user_id, session.unread_ids, {})
        return self.conductor.start(run, trigger=trigger)

    def start_run(
        self,
        name: str,
        *,
        user_id: str,
        channel_id: str | None,
        callback_url: str | None,
        variables: Mapping[str, Any],
    ) -> RunRecord:
        """Admin: start scenario ``name`` for ``user_id`` (a session is made if needed).

        With ``callback_url`` the run's pushes go there, whatever the channel's delivery.
        Everything is checked before the user's current run is replaced: a refused request
        changes nothing."""
        scenario = self.scenario(name)
        channel = self._channel_or_default(channel_id)
        target = None
        if callback_url is not None:
            self.check_callback_allowed(callback_url)
            target = self._target(channel, callback_url)
        session = self.sessions.get(channel.id, user_id)
        live = session is not None and session.active
        unread = session.unread_ids if session is not None and live else ()
        run = self._prepare(scenario, channel, user_id, unread, variables)
        if session is None or not live:
            session = self._new_session(channel, user_id, user_id)
        if session.run_id is not None:
            self.conductor.cancel(session.run_id)
        record = self.conductor.start(run, trigger="admin", target=target)
        session.run_id = record.run_id
        return record

    def _channel_or_default(self, channel_id: str | None) -> ChannelConfig:
        if channel_id is None:
            return self.config.channels[0]
        channel = self.config.channel(channel_id)
        if channel is None:
            raise NotFound(f"no channel {channel_id!r} is configured")
        return channel

    def _dispatch(self, record: RunRecord, push: PlannedPush) -> None:
        channel = self.config.channel(record.channel_id)
        if channel is None:
            return
        session = self.sessions.get(record.channel_id, record.user_id)
        self._route(channel, session, record.user_id, push, record.run_id, record.target)

    def _route(
        self,
        channel: ChannelConfig,
        session: Session | None,
        user_id: str,
        push: PlannedPush,
        run_id: str | None,
        target: PushTarget | None,
    ) -> None:
        """Send one planned push on its way: to the push worker, or to the poll queue of a
        poll-mode channel (unless a run was given its own callback URL). The session follows
        what the push says only if it was taken (not refused as invalid for poll, nor
        refused by a full delivery backlog)."""
        conversation = _conversation(channel.id, user_id)
        if channel.delivery == "poll" and target is None:
            taken = self._enqueue_poll(session, run_id, push, conversation)
        elif self._submit is None:
            raise SimulatorError("no delivery worker attached")
        else:
            taken = self._submit(conversation, target or self._target(channel, None), push, run_id)
        if taken and session is not None and not push.faults.invalid and not push.faults.drop:
            now = self.clock()
            for message in push.messages:
                session.observe_downlink(message, now)
            if not session.active:
                self._end_idle(session)
                self._wake_poll(session)

    def _end_idle(self, session: Session) -> None:
        timer = self._idle.pop((session.channel_id, session.user_id), None)
        if timer is not None:
            timer.cancel()

    def _enqueue_poll(
        self, session: Session | None, run_id: str | None, push: PlannedPush, conversation: str
    ) -> bool:
        """Queue ``push`` for the user's polls; False when it was not queued."""
        if push.faults.drop:
            self.poll_journal.append(
                DeliveryNote(run_id, conversation, push.messages, wall_ms(), "dropped")
            )
            return False
        if not push.faults.invalid:
            # what poll will answer must match poll-response (e.g. content <= 500), as a push
            # must match push-request before it leaves
            answer = {"resultCode": "0", "downlinkMessages": list(push.messages)}
            if not self.store.is_valid("poll-response", answer):
                found = tuple(self.store.violations("poll-response", answer))
                self.poll_journal.append(
                    DeliveryNote(
                        run_id, conversation, push.messages, wall_ms(), "invalid-outbound", found
                    )
                )
                return False
        copies = 1 + push.faults.duplicate
        if session is not None:
            for _ in range(copies):
                session.poll_queue.extend(push.messages)
            self._wake_poll(session)
        self.poll_journal.append(DeliveryNote(run_id, conversation, push.messages, wall_ms()))
        return True

    def _run_finished(self, record: RunRecord) -> None:
        session = self.sessions.get(record.channel_id, record.user_id)
        if session is not None and session.run_id == record.run_id:
            session.run_id = None

    def _target(self, channel: ChannelConfig, override_url: str | None) -> PushTarget:
        if override_url is not None:
            channel = replace(channel, callback_url=override_url)
        bearer = self._push_bearer(channel.app_key) if channel.push_mode == "oauth" else ""
        return channel.push_target(echo_url=f"{self.base_url}{ECHO_PATH}", bearer_token=bearer)

    def _push_bearer(self, app_key: str) -> str:
        """The AccessToken AICC presents in OAuth mode: one issued by this simulator for the
        channel's app, so that its own pushMsg sink accepts it; renewed before expiry."""
        token = self._push_tokens.get(app_key)
        if token is None or token.expires_at - self.clock() < 60:
            token = self.tokens.issue_access(app_key, self.config.tokens.access_token_max_ttl)
            self._push_tokens[app_key] = token
        return token.value

    def check_callback_allowed(self, url: str) -> None:
        """Refuse a callback URL whose host is not on ``callback_allowlist`` (if one is set)."""
        if not self.config.callback_allowed(url):
            host = urlsplit(url).hostname or ""
            raise ValidationFailed(
                "admin-run-request",
                [Violation("/callbackUrl", f"host {host!r} is not in callback_allowlist")],
            )

    # --- inject ---------------------------------------------------------------------------

    def inject(
        self, user_id: str, channel_id: str | None, messages: list[dict[str, Any]], *, invalid: bool
    ) -> dict[str, Any]:
        """Admin: push messages into a live session now, as an agent would. Fields left out
        are filled as in scenarios; ``invalid`` skips outbound validation on purpose."""
        live = [
            s
            for s in self.sessions.by_user(user_id)
            if s.active and (channel_id is None or s.channel_id == channel_id)
        ]
        if not live:
            raise NotFound(f"no live session for userId {user_id!r}")
        session = live[-1]
        channel = self._channel_or_default(session.channel_id)
        now = wall_ms()
        filled = tuple(
            {
                "from": channel.id,
                "channel": "WEB",
                "to": user_id,
                "controlType": "CHAT",
                "mediaType": "TEXT",
                "content": None,
                "simQuestions": None,
                "senderNickname": "agent",
                "timestamp": now,
                "sourceType": "AGENT",
                "messageCode": uuid.uuid4().hex,
                **message,
            }
            for message in messages
        )
        if not invalid:
            self.store.check("push-request", {"timestamp": now, "messages": list(filled)})
        push = PlannedPush(filled, PushFaults(invalid=invalid), step="inject")
        self._route(channel, session, user_id, push, None, None)
        return {
            "channelId": channel.id,
            "userId": user_id,
            "delivery": channel.delivery,
            "messages": list(filled),
        }

    # --- poll -----------------------------------------------------------------------------

    async def poll(
        self, token: MessagingToken, receiver_id: str, need_read: bool
    ) -> list[dict[str, Any]]:
        """Long poll: answer at once if messages wait, else at the end of the window."""
        if receiver_id != token.user_id:
            raise ValidationFailed(
                "poll-request",
                [
                    Violation(
                        "/receiverId",
                        f"{receiver_id!r} is not the userId of the "
                        f"ccmessaging-token ({token.user_id!r})",
                    )
                ],
            )
        session = self.sessions.get(token.channel_id, token.user_id)
        if session is None:
            return []
        if not session.poll_queue and session.active:
            key = (session.channel_id, session.user_id)
            waiter = self._poll_waiters.get(key)
            if waiter is None or waiter.done():
                waiter = asyncio.get_running_loop().create_future()
                self._poll_waiters[key] = waiter
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), self.config.poll.timeout_ms / 1000)
        taken = list(session.poll_queue)
        session.poll_queue.clear()
        if need_read:
            return taken
        return [m for m in taken if m.get("controlType") != "READ"]

    def _wake_poll(self, session: Session) -> None:
        waiter = self._poll_waiters.pop((session.channel_id, session.user_id), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- queue info, files, history, leave message ----------------------------------------

    def queue_info(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """queryQueueInfo: queue figures while queuing, 160021 once with an agent."""
        channel = self.config.channel(body["channelConfigId"])
        session = self.sessions.get(body["channelConfigId"], body["userId"])
        if channel is None or session is None or not session.active:
            return {"resultCode": "160004", "resultDesc": "the session does not exist or has ended"}
        if session.state is SessionState.AGENT:
            return {
                "resultCode": "160021",
                "resultDesc": "the session has been transferred to an agent",
            }
        if session.state is SessionState.ROBOT:
            return {
                "resultCode": "160004",
                "resultDesc": "the session is with a robot, not queuing",
            }
        # configured figures, except that the waits count from when this customer queued
        waited = int(self.clock() - (session.queued_since or self.clock()))
        figures = channel.queue.response_fields()
        figures["totalWaitTime"] = waited
        figures["currentDeviceWaitTime"] = waited
        figures["longestWaitTime"] = max(waited, figures["longestWaitTime"])
        return {"resultCode": "0", **figures}

    def upload(self, body: Mapping[str, Any]) -> dict[str, str]:
        """uploadFileStream: store the Base64 file, answer its objectKey (a failure has only
        its returnCode: 3 bad Base64, 2 empty, 13 too large)."""
        stream = body["fileStream"]
        # strict Base64, as a Java decoder on the vendor's side: Python would accept excess
        # padding ("QUJD=") and quietly decode it
        if len(stream) % 4:
            return {"returnCode": "3"}
        try:
            data = base64.b64decode(stream, validate=True)
        except (binascii.Error, ValueError):
            return {"returnCode": "3"}
        if not data:
            return {"returnCode": "2"}
        if len(data) > self.config.limits.max_file_bytes:
            return {"returnCode": "13"}
        return {"returnCode": "0", "objectKey": self.files.add(body["fileType"], data)}

    def download(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """downloadFileStream: a stored file as Base64."""
        found = self.files.get(body["fileId"])
        if found is None or not found.data:
            return {"resultCode": "13", "resultDesc": "empty file!"}
        if len(found.data) > self.config.limits.max_file_bytes:
            return {"resultCode": "13", "resultDesc": "fsservice downloadFile is failed"}
        return {
            "resultCode": "0",
            "resultDesc": "",
            "fileStream": base64.b64encode(found.data).decode("ascii"),
            "fileUrl": f"{self.base_url}{FILES_PATH}/{quote(body['fileId'], safe='')}",
        }

    def history(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """queryHistoryChatMessage: the session's messages, oldest first, paged."""
        session = self.sessions.get(body["channelId"], body["userId"])
        records = session.history_records() if session is not None else []
        start = _int_or_none(body.get("startTime"))
        end = _int_or_none(body.get("endTime"))
        if start is not None:
            records = [r for r in records if r["sendTime"] >= start]
        if end is not None:
            records = [r for r in records if r["sendTime"] <= end]
        offset = _int_or_none(body["offset"]) or 0
        limit = _int_or_none(body["limit"])
        page = records[offset:] if limit is None else records[offset : offset + limit]
        return {"messageList": page, "resultCode": "0", "resultDesc": "success"}

    def leave_message(self, body: Mapping[str, Any]) -> Outcome:
        """doLeaveMessage: kept for the admin API."""
        self.leave_messages.append({**body, "receivedAt": wall_ms()})
        return Outcome("0", LEAVE_OK)

    # --- admin ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget sessions, runs, tokens (except the push bearer), files and messages."""
        self.conductor.clear()
        for timer in self._idle.values():
            timer.cancel()
        self._idle.clear()
        for waiter in self._poll_waiters.values():
            if not waiter.done():
                waiter.set_result(None)
        self._poll_waiters.clear()
        self.sessions.clear()
        self.tokens.clear()
        self._push_tokens.clear()
        self.files.clear()
        self.leave_messages.clear()
        for scenario in self.library.values():
            self._register_media(scenario)


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
