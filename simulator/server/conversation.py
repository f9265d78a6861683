"""The conversation capability: send and sendAsync (reference §3.1, §3.2), the state
machine of a customer's session (CONNECT, CHAT, INPUT, READ, TRANS2AGENT, DISCONNECT) and
its idle timer, on the simulator's clock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

from aiohttp import web

from simulator.config import ChannelConfig
from simulator.core.clock import Clock
from simulator.core.errors import IdentityMismatch, Violation
from simulator.server.dispatch import Runs
from simulator.server.endpoint import Call
from simulator.server.http import Outcome, outcome_response
from simulator.server.idle import IdleTimers
from simulator.server.library import ScenarioLibrary
from simulator.server.live_config import LiveConfig
from simulator.server.poll import Poll
from simulator.server.reasons import note
from simulator.server.sessions import Session, SessionState, SessionStore
from simulator.server.token_store import MessagingToken

__all__ = ["CONVERSATION", "Conversation", "send", "send_async"]

# resultDesc texts, verbatim from the vendor's pages (reference §3.1, §3.2)
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
#: every vendor example of sendAsync answers this, whatever the controlType (§3.2)
ASYNC_ANSWER = Outcome("0", "send sendMessageForOpenApiAsync success.")

#: messageIds remembered per session for READ receipts
MAX_UNREAD_IDS = 100


class Conversation:
    """What each uplink does to the customer's session."""

    def __init__(
        self,
        live: LiveConfig,
        *,
        sessions: SessionStore,
        library: ScenarioLibrary,
        runs: Runs,
        idle: IdleTimers,
        poll: Poll,
        clock: Clock,
    ) -> None:
        self._live = live
        self._sessions = sessions
        self._library = library
        self._runs = runs
        self._idle = idle
        self._poll = poll
        self._clock = clock
        # made once: every armed idle timer keeps it (a bound method per timer is ~60 bytes)
        self._on_idle = self._idle_expired

    def send(self, token: MessagingToken, body: Mapping[str, Any]) -> Outcome:
        """One uplink message (CONNECT, CHAT, INPUT, READ, TRANS2AGENT, DISCONNECT)."""
        _check_identity(token, body)
        channel = self._live.current.channel(body["to"])
        control = body["controlType"]
        if channel is None:
            return Outcome(
                "13",
                TRANSFER_NO_CHANNEL if control == "TRANS2AGENT" else NO_CCUCS,
                f"channel {body['to']!r} is not configured",
            )
        session = self._sessions.get(channel.id, token.user_id)
        if control == "CONNECT":
            return self._connect(channel, token, session, body)
        if session is None or not session.active:
            return _without_session(control, robot=channel.robot)
        self._arm_idle(channel, session)
        if control == "DISCONNECT":
            session.record(body, from_customer=True, now_ms=self._clock.now())
            robot = session.state is SessionState.ROBOT
            self.end_session(session, "customer-disconnect")
            return Outcome("0", DISCONNECT_ROBOT_OK if robot else DISCONNECT_OK)
        if control == "TRANS2AGENT":
            if not _in_working_hours(channel):
                return Outcome(
                    "12", OUTSIDE_HOURS + ".", "TRANS2AGENT outside the channel's working_hours"
                )
            if session.state in (SessionState.AGENT, SessionState.QUEUING):
                return Outcome(
                    "13",
                    TRANSFER_ALREADY,
                    f"TRANS2AGENT while the session is already {session.state.value}",
                )
            if session.transfer_asked:
                # the first is being handled (the scenario has not moved the session yet):
                # a second one is a transfer already under way, answered as the vendor does
                return Outcome(
                    "13", TRANSFER_ALREADY, "a second TRANS2AGENT while the first is handled"
                )
            session.transfer_asked = True
            self._runs.feed(session, body)
            return Outcome("0", "success")
        if control == "CHAT":
            session.record(body, from_customer=True, now_ms=self._clock.now())
            message_id = body.get("messageId")
            if message_id:
                session.note_unread(message_id, MAX_UNREAD_IDS)  # bounded, like the engine's
            self._runs.feed(session, body)
            robot = session.state is SessionState.ROBOT
            return Outcome("0", CHAT_ROBOT_OK if robot else CHAT_OK)
        # INPUT and READ: accepted, handed to the scenario, no history entry
        self._runs.feed(session, body)
        return Outcome("0", "success")

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
        if not _in_working_hours(channel):
            return Outcome("12", OUTSIDE_HOURS, "CONNECT outside the channel's working_hours")
        if session is not None:
            # an ended session's timer must not stand in for the new one
            self._idle.cancel(session.key)
        session = self._runs.new_session(channel, token.user_id, token.user_name)
        session.record(body, from_customer=True, now_ms=self._clock.now())
        if not channel.on_connect:
            self._arm_idle(channel, session)
            return Outcome("0", robot_text)
        answer = self._library.get(channel.on_connect).connect_result
        outcome = (
            Outcome(
                answer["resultCode"],
                answer["resultDesc"],
                f"scenario {channel.on_connect!r} answers CONNECT with {answer['resultCode']}",
            )
            if answer
            else None
        )
        if outcome is not None and outcome.code != "0":
            # the scenario answers the CONNECT itself (e.g. after-hours: 12); no live session
            session.end("connect-refused")
        else:
            self._arm_idle(channel, session)
        self._runs.start(channel.on_connect, channel, session, "connect")
        return outcome or Outcome("0", robot_text)

    def end_session(self, session: Session, reason: str) -> None:
        """End ``session``: its idle timer, its run and its waiting polls go with it."""
        session.end(reason)
        self._sessions.touch(session)
        self._idle.cancel(session.key)
        self._runs.cancel(session)
        self._poll.wake(session)

    # --- idle timeout -------------------------------------------------------------------

    def _arm_idle(self, channel: ChannelConfig, session: Session) -> None:
        """Note the customer's activity; one timer per session, created on the first uplink
        and re-armed for the remaining time when it fires (not cancelled on every send)."""
        timeout = channel.idle_timeout
        if not timeout or timeout <= 0:
            return
        now = self._clock.now()
        session.last_uplink = now
        if session.key not in self._idle:
            self._idle.arm(session.key, now + timeout * 1000, self._on_idle, channel, session)

    def resume_idle(self, session: Session) -> None:
        """Arm the idle timer of a live session restored by ``state.path``, due
        ``idle_timeout`` after its last uplink as before the restart (at once if past)."""
        channel = self._live.current.channel(session.channel_id)
        if channel is None or not channel.idle_timeout or channel.idle_timeout <= 0:
            return
        due = max(self._clock.now(), session.last_uplink + channel.idle_timeout * 1000)
        self._idle.arm(session.key, due, self._on_idle, channel, session)

    def _idle_expired(self, channel: ChannelConfig, session: Session) -> None:
        if not session.active:
            return
        # the channel as configured now: its async switch (which timeout scenario) may have
        # been changed while the timer was armed (the console's switch)
        channel = self._live.current.channel(channel.id) or channel
        due = session.last_uplink + (channel.idle_timeout or 0) * 1000
        if due - self._clock.now() >= 1:  # the customer wrote since the timer was set
            self._idle.arm(session.key, due, self._on_idle, channel, session)
            return
        self._runs.cancel(session)
        name = channel.timeout_scenario
        if name is None:  # no timeout scenario configured: the session just ends
            self.end_session(session, "timeout")
            return
        self._runs.start(name, channel, session, "idle-timeout")


def _check_identity(token: MessagingToken, body: Mapping[str, Any]) -> None:
    # two plain comparisons: this runs on every send (the benchmark's hot path)
    if body["from"] != token.user_id:
        _identity_error("/from", body["from"], "userId", token.user_id)
    if body["to"] != token.channel_id:
        _identity_error("/to", body["to"], "channelId", token.channel_id)


def _identity_error(pointer: str, given: Any, claim: str, expected: str) -> NoReturn:
    reason = f"{given!r} is not the {claim} of the ccmessaging-token ({expected!r})"
    raise IdentityMismatch("send-request", [Violation(pointer, reason)])


def _without_session(control: str, *, robot: bool) -> Outcome:
    if control == "DISCONNECT":
        return Outcome(
            "13",
            DISCONNECT_ROBOT_FAILED if robot else DISCONNECT_FAILED,
            "DISCONNECT without a live session (CONNECT first)",
        )
    if control == "TRANS2AGENT":
        return Outcome(
            "13", TRANSFER_NO_SESSION, "TRANS2AGENT without a live session (CONNECT first)"
        )
    return Outcome("13", CHAT_FAILED, f"{control} without a live session (CONNECT first)")


def _in_working_hours(channel: ChannelConfig) -> bool:
    return channel.working_hours.is_open(datetime.now(UTC))


#: the application's conversation capability
CONVERSATION = web.AppKey("conversation", Conversation)


async def send(request: web.Request, call: Call) -> web.StreamResponse:
    """send (reference §3.1): synchronous; answers the outcome's resultCode."""
    assert call.token is not None  # Auth.SESSION
    outcome = request.app[CONVERSATION].send(call.token, call.body)
    if outcome.code != "0":
        note(outcome.reason)
    return outcome_response(outcome)


async def send_async(request: web.Request, call: Call) -> web.StreamResponse:
    """sendAsync (reference §3.2): same work, always the documented success answer."""
    assert call.token is not None  # Auth.SESSION
    request.app[CONVERSATION].send(call.token, call.body)
    return outcome_response(ASYNC_ANSWER)
