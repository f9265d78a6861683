"""Runs and dispatch: scenario runs started for sessions (on CONNECT, on an idle timeout, or
by the admin API) and the way their pushes leave: to the push delivery worker with the
channel's auth (the OAuth push bearer is issued here), or to the poll queue of a poll-mode
channel; a ``call_event`` step's event goes to the click-to-call book instead. A session
follows what a push says only once the push was taken."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from simulator.config import ECHO, ChannelConfig
from simulator.core.clock import Clock
from simulator.core.errors import NotFound, ValidationFailed, Violation
from simulator.core.netloc import callback_url_problem
from simulator.core.push import PlannedPush, PushTarget
from simulator.delivery.worker import Deliverer
from simulator.scenario import RunContext, Scenario, ScenarioRun, Uplink
from simulator.server.call_events import CallBook
from simulator.server.echo import ECHO_PATH
from simulator.server.idle import IdleTimers
from simulator.server.library import ScenarioLibrary
from simulator.server.live_config import LiveConfig
from simulator.server.poll import Poll
from simulator.server.runs import Conductor, FaultSink, RunRecord
from simulator.server.sessions import Session, SessionStore
from simulator.server.token_store import AccessToken, TokenStore

__all__ = ["DELIVERER", "RUNS", "Runs"]

#: the ``vars`` of a run given none (one read-only mapping, not an empty dict per run)
_NO_VARS: Mapping[str, Any] = MappingProxyType({})
#: a push bearer this close to expiry (ms) is replaced before it is used
BEARER_MARGIN_MS = 60_000


def conversation_key(channel_id: str, user_id: str) -> str:
    """The delivery worker's conversation key (one FIFO lane per conversation)."""
    return f"{channel_id}/{user_id}"


class Runs:
    """Starts, feeds and cancels the runs of sessions; routes their pushes."""

    def __init__(
        self,
        live: LiveConfig,
        *,
        sessions: SessionStore,
        library: ScenarioLibrary,
        idle: IdleTimers,
        poll: Poll,
        deliverer: Deliverer,
        tokens: TokenStore,
        calls: CallBook,
        clock: Clock,
        base_url: str,
        on_fault: FaultSink | None = None,
    ) -> None:
        """``on_fault`` takes the rules of the runs' ``fault:`` steps."""
        self._live = live
        self._sessions = sessions
        self._library = library
        self._idle = idle
        self._poll = poll
        self._deliverer = deliverer
        self._tokens = tokens
        self._calls = calls
        self._clock = clock
        self.echo_url = f"{base_url.rstrip('/')}{ECHO_PATH}"
        self._push_tokens: dict[str, AccessToken] = {}
        #: each channel id's last target, with the channel object, bearer and echo URL it was
        #: made for (a channel's config is immutable: a new config makes new objects)
        self._targets: dict[str, tuple[ChannelConfig, str, str, PushTarget]] = {}
        # made once: every run's context keeps it (a bound method per run is ~60 bytes)
        self._now = clock.now
        self.conductor = Conductor(
            self._dispatch, on_finished=self._finished, clock=clock, on_fault=on_fault
        )

    # --- sessions and runs --------------------------------------------------------------

    def new_session(self, channel: ChannelConfig, user_id: str, user_name: str) -> Session:
        """A new live session for ``user_id`` (replacing an ended one; the customer's
        history carries over)."""
        session = Session(
            channel.id,
            user_id,
            user_name,
            robot=channel.robot,
            now_ms=self._clock.now(),
            history=self._sessions.history_for(channel.id, user_id),  # the customer's
        )
        self._sessions.put(session)
        return session

    def prepare(
        self,
        scenario: Scenario,
        channel: ChannelConfig,
        user_id: str,
        unread: Sequence[str],
        extra: Mapping[str, Any],
        speed: float | None = None,
    ) -> ScenarioRun:
        """A run ready to start, at ``speed`` (the channel's when None); raises
        :class:`ScenarioError` (bad vars) before anything about the session has changed."""
        context = RunContext(
            user_id=user_id,
            channel_id=channel.id,
            speed=channel.speed if speed is None else speed,
            tips=channel.tips,
            vars=dict(extra) if extra else _NO_VARS,
            wall_ms=self._now,
            message_ids=tuple(unread),
            idle_timeout=float(channel.idle_timeout or 0) or 3600.0,
        )
        return ScenarioRun(scenario, context)

    def start(self, name: str, channel: ChannelConfig, session: Session, trigger: str) -> None:
        """Start scenario ``name`` for ``session`` (it becomes the session's run)."""
        scenario = self._library.get(name)
        run = self.prepare(scenario, channel, session.user_id, session.unread_ids, {})
        session.run_id = self.conductor.start(run, trigger=trigger).run_id

    def start_side_run(
        self, name: str, channel: ChannelConfig, user_id: str, *, trigger: str
    ) -> str:
        """Start scenario ``name`` beside the customer's chat run (which it does not
        replace), e.g. a click-to-call's events; returns the run id."""
        run = self.prepare(self._library.get(name), channel, user_id, (), {})
        return self.conductor.start(run, trigger=trigger).run_id

    def emit_call_event(
        self, channel_id: str, user_id: str, spec: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Queue a click-to-call event for getClickToCallEvents; a final event stops the
        run that made the call. Returns the answer the event becomes."""
        emitted = self._calls.emit(channel_id, user_id, spec)
        if emitted.stop_run is not None:
            self.conductor.cancel(emitted.stop_run)
        return emitted.answer

    def feed(self, session: Session, body: Mapping[str, Any]) -> None:
        """Hand a customer's uplink to the session's run, if it has one."""
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

    def cancel(self, session: Session) -> None:
        """Stop the session's run, if it has one."""
        if session.run_id is not None:
            self.conductor.cancel(session.run_id)

    def start_admin_run(
        self,
        name: str,
        *,
        user_id: str,
        channel_id: str | None,
        callback_url: str | None,
        variables: Mapping[str, Any],
        speed: float | None = None,
    ) -> RunRecord:
        """Admin: start scenario ``name`` for ``user_id`` (a session is made if needed).

        With ``callback_url`` the run's pushes go there, whatever the channel's delivery;
        with ``speed`` it plays that many times as fast instead of at the channel's speed.
        Everything is checked before the user's current run is replaced: a refused request
        changes nothing."""
        scenario = self._library.get(name)
        channel = self.channel_or_default(channel_id)
        target = None
        if callback_url is not None:
            if callback_url != ECHO:  # the built-in receiver, as in the config: always allowed
                self._check_callback_allowed(callback_url)
            target = self._target(channel, callback_url)
        session = self._sessions.get(channel.id, user_id)
        live = session is not None and session.active
        unread = session.unread_ids if session is not None and live else ()
        run = self.prepare(scenario, channel, user_id, unread, variables, speed)
        if session is None or not live:
            session = self.new_session(channel, user_id, user_id)
        if session.run_id is not None:
            self.conductor.cancel(session.run_id)
        record = self.conductor.start(run, trigger="admin", target=target)
        session.run_id = record.run_id
        return record

    def channel_or_default(self, channel_id: str | None) -> ChannelConfig:
        """The channel called ``channel_id`` (404 when unknown), or the first one."""
        config = self._live.current
        if channel_id is None:
            return config.channels[0]
        channel = config.channel(channel_id)
        if channel is None:
            raise NotFound(f"no channel {channel_id!r} is configured")
        return channel

    def _check_callback_allowed(self, url: str) -> None:
        """Refuse a callback URL no push can be built for (:func:`callback_url_problem`) or
        whose host is not on ``callback_allowlist`` (if one is set)."""
        problem = callback_url_problem(url)
        if problem is not None:
            raise ValidationFailed(
                "admin-run-request", [Violation("/callbackUrl", f"the URL {problem}")]
            )
        if not self._live.current.callback_allowed(url):
            host = urlsplit(url).hostname or ""
            raise ValidationFailed(
                "admin-run-request",
                [Violation("/callbackUrl", f"host {host!r} is not in callback_allowlist")],
            )

    def _finished(self, record: RunRecord) -> None:
        session = self._sessions.get(record.channel_id, record.user_id)
        if session is not None and session.run_id == record.run_id:
            session.run_id = None

    # --- dispatch -----------------------------------------------------------------------

    def _dispatch(self, record: RunRecord, push: PlannedPush) -> None:
        if push.call_event is not None:  # a call_event step: for getClickToCallEvents
            self.emit_call_event(record.channel_id, record.user_id, push.call_event)
            return
        channel = self._live.current.channel(record.channel_id)
        if channel is None:
            return
        session = self._sessions.get(record.channel_id, record.user_id)
        self.route(channel, session, record.user_id, push, record.run_id, record.target)

    def route(
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
        conversation = conversation_key(channel.id, user_id)
        queued: Sequence[Mapping[str, Any]] | None = None
        if channel.delivery == "poll" and target is None:
            queued = self._poll.enqueue(session, run_id, push, conversation)
            taken = queued is not None
        else:
            future = self._deliverer.submit(
                conversation, target or self._target(channel, None), push, run_id=run_id
            )
            taken = not future.done()  # a future that is already done was refused at once
        if taken and session is not None and not push.faults.invalid and not push.faults.drop:
            # packed by the poll queue: history keeps the queue's objects, not copies
            session.observe_push(push.messages, self._clock.now(), push.state, queued)
            if not session.active:
                self._idle.cancel(session.key)
                self._poll.wake(session)
        if session is not None:
            self._sessions.touch(session)  # its poll queue, history or state (state.path)

    def _target(self, channel: ChannelConfig, override_url: str | None) -> PushTarget:
        if override_url is not None:
            channel = replace(channel, callback_url=override_url)
        bearer = self._push_bearer(channel.app_key) if channel.push_mode == "oauth" else ""
        if override_url is not None:
            return channel.push_target(echo_url=self.echo_url, bearer_token=bearer)
        made = self._targets.get(channel.id)
        if (
            made is not None
            and made[0] is channel
            and made[1] == bearer
            and made[2] == self.echo_url
        ):
            return made[3]  # made once per channel and bearer, not once per push
        target = channel.push_target(echo_url=self.echo_url, bearer_token=bearer)
        self._targets[channel.id] = (channel, bearer, self.echo_url, target)
        return target

    def _push_bearer(self, app_key: str) -> str:
        """The AccessToken AICC presents in OAuth mode: one issued by this simulator for the
        channel's app, so that its own pushMsg sink accepts it; renewed before expiry."""
        token = self._push_tokens.get(app_key)
        if token is None or token.expires_at - self._clock.now() < BEARER_MARGIN_MS:
            ttl = self._live.current.tokens.access_token_max_ttl
            token = self._tokens.issue_access(app_key, ttl)
            self._push_tokens[app_key] = token
        return token.value

    def clear(self) -> None:
        """Cancel and forget every run, and the push bearers (reset)."""
        self.conductor.clear()
        self._push_tokens.clear()
        self._targets.clear()


#: the application's runs and dispatch
RUNS = web.AppKey("runs", Runs)
#: the application's push delivery worker
DELIVERER = web.AppKey("deliverer", Deliverer)
