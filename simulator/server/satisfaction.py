"""The satisfaction capability: getsatisfactionsurveymode, saveSatisfaction and the robot's
v1/robot/feedbacksatisfaction (reference §3.10 to §3.12, §7.1 steps 12 to 15).

The router checks tokens and schemas (:mod:`simulator.server.routes`); this capability
decides. Every rating that passed the schema is journaled (accepted or not, with its
resultCode) and handed to the customer's scenario run as the uplink ``SATISFACTION``
(value = evaluation) or ``FEEDBACK`` (value = feedback), so a scenario can branch on it
(``on: {"SATISFACTION:1": [...]}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from simulator.core.clock import Clock
from simulator.core.errors import ValidationFailed, Violation
from simulator.core.journal import Journal
from simulator.server.dispatch import Runs
from simulator.server.endpoint import Call
from simulator.server.http import json_response
from simulator.server.live_config import LiveConfig
from simulator.server.reasons import note
from simulator.server.sessions import Session, SessionStore

__all__ = [
    "SATISFACTION",
    "Rating",
    "Satisfaction",
    "robot_feedback",
    "save_satisfaction",
    "survey_mode",
]

# resultDesc texts: the vendor's where it prints them (reference §3.11, §3.10 legacy)
SURVEY_OK = "query satisfaction success!"
SURVEY_FAILED = "查询满意度调查配置失败"
SAVE_OK = "Save satisfaction success!"
NO_CALL = "The callIdString obtained failed!"
FEEDBACK_OK = "success"
FEEDBACK_EMPTY = "feedbackContent is empty"
FEEDBACK_AUTH = "authentication failed"
FEEDBACK_NO_ROBOT = "not a robot session or the session does not exist"


@dataclass(frozen=True, slots=True)
class Rating:
    """One saveSatisfaction or feedbacksatisfaction call, as journaled."""

    kind: str  # "agent" (saveSatisfaction) or "robot" (feedbacksatisfaction)
    channel_id: str
    user_id: str
    result_code: str
    received_ms: int
    #: the chat rated (its start, epoch ms), None when there was none
    contact_started_ms: int | None
    fields: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready view (``/__admin/satisfaction`` and the JSON Lines journal)."""
        return {
            "kind": self.kind,
            "channelId": self.channel_id,
            "userId": self.user_id,
            "resultCode": self.result_code,
            "accepted": self.result_code == "0",
            "receivedAt": self.received_ms,
            "contactStartedAt": self.contact_started_ms,
            **self.fields,
        }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class Satisfaction:
    """Survey configuration per channel, ratings into the journal and the scenario run."""

    def __init__(
        self,
        live: LiveConfig,
        *,
        journal: Journal[Rating],
        sessions: SessionStore,
        runs: Runs,
        clock: Clock,
    ) -> None:
        self._live = live
        #: every rating, oldest first (``/__admin/satisfaction``)
        self.journal = journal
        self._sessions = sessions
        self._runs = runs
        self._clock = clock

    def _feed(self, session: Session, control: str, value: str) -> None:
        """Hand the rating to the customer's scenario run as an uplink."""
        self._runs.feed(session, {"controlType": control, "content": value})

    # -- getsatisfactionsurveymode ----------------------------------------------------------

    def _keep(
        self,
        kind: str,
        channel_id: str,
        user_id: str,
        code: str,
        session: Session | None,
        fields: dict[str, Any],
    ) -> None:
        """Journal one rating (or refused rating) of ``kind`` with its answer's code."""
        self.journal.append(
            Rating(
                kind=kind,
                channel_id=channel_id,
                user_id=user_id,
                result_code=code,
                received_ms=self._clock.now(),
                contact_started_ms=session.created_ms if session is not None else None,
                fields=fields,
            )
        )

    def survey(self, channel_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """The channel's survey in the requested language (else the default language)."""
        channel = self._live.current.channel(channel_id)
        if channel is None:
            note(f"channel {channel_id!r} is not configured")
            return {"resultCode": "13", "resultDesc": SURVEY_FAILED}
        settings = channel.satisfaction
        language, texts = settings.descriptions(body.get("language"))
        return {
            "resultCode": "0",
            "resultDesc": SURVEY_OK,
            "satisfactionSurvey": {
                "surveyType": settings.survey_type,
                "language": language,
                "satisfactionLevel": [
                    {"satisfactionLevelKey": str(level), "satisfactionLevelDesc": text}
                    for level, text in enumerate(texts, start=1)
                ],
                "satisfactionQuestion": list(settings.questions),
            },
        }

    # -- saveSatisfaction -------------------------------------------------------------------

    def save(self, user_id: str, channel_id: str, body: Mapping[str, Any]) -> dict[str, str]:
        """Rate the customer's agent chat: 13 when there was none to rate."""
        wrapped = "satisfication" in body
        info: Mapping[str, Any] = body["satisfication"] if wrapped else body
        prefix = "/satisfication" if wrapped else ""
        problems = []
        if info["userId"] != user_id:
            problems.append(
                Violation(
                    f"{prefix}/userId",
                    f"{info['userId']!r} is not the userId of the ccmessaging-token ({user_id!r})",
                )
            )
        if info["channelConfigId"] != channel_id:
            problems.append(
                Violation(
                    f"{prefix}/channelConfigId",
                    f"{info['channelConfigId']!r} is not the channelId of the ccmessaging-token "
                    f"({channel_id!r})",
                )
            )
        if problems:
            raise ValidationFailed("save-satisfaction-request", problems)
        session = self._sessions.get(channel_id, user_id)
        rated = session is not None and session.reached_agent
        code, desc = ("0", SAVE_OK) if rated else ("13", NO_CALL)
        if not rated:
            note("saveSatisfaction without an agent chat to rate (the session never reached one)")
        evaluation = str(info["evaluation"])
        self._keep(
            "agent",
            channel_id,
            user_id,
            code,
            session,
            {
                "form": "wrapped" if wrapped else "flat",
                "evaluation": evaluation,
                "comment": info["comment"],
                "npsScore": _text(info.get("npsScore")),
                "fcrValue": _text(info.get("fcrValue")),
            },
        )
        if rated:
            assert session is not None
            self._feed(session, "SATISFACTION", evaluation)
        # both spellings: the table's resultCode/resultDesc and the example's returnCode
        return {"returnCode": code, "resultCode": code, "resultDesc": desc}

    # -- v1/robot/feedbacksatisfaction ------------------------------------------------------

    def robot_feedback(
        self, user_id: str, channel_id: str, body: Mapping[str, Any]
    ) -> dict[str, str]:
        """Thumbs up/down on a robot chat, with the vendor's resultCodes (§3.12)."""
        feedback = str(body["feedback"])
        content = body.get("feedbackContent")
        session = self._sessions.get(channel_id, user_id)
        if body["from"] != user_id:
            code, desc = "10010000001", FEEDBACK_AUTH
            note(f"'from' {body['from']!r} is not the userId of the ccmessaging-token")
        elif session is None or not session.met_robot:
            code, desc = "30000000019", FEEDBACK_NO_ROBOT
            note("robot feedback without a robot chat in this session")
        elif feedback == "0" and not (content or "").strip():
            code, desc = "30000000008", FEEDBACK_EMPTY
            note("a thumbs-down (feedback 0) without feedbackContent")
        else:
            code, desc = "0", FEEDBACK_OK
        self._keep(
            "robot",
            channel_id,
            user_id,
            code,
            session,
            {
                "feedback": feedback,
                "feedbackContent": content,
                "interIdx": _text(body.get("interIdx")),
            },
        )
        if code == "0":
            assert session is not None
            self._feed(session, "FEEDBACK", feedback)
        return {"resultCode": code, "resultDesc": desc}


#: the application's satisfaction capability
SATISFACTION = web.AppKey("satisfaction", Satisfaction)


async def survey_mode(request: web.Request, call: Call) -> web.Response:
    """getsatisfactionsurveymode (reference §3.10): optional body ``{"language": …}``."""
    assert call.token is not None  # Auth.SESSION
    return json_response(request.app[SATISFACTION].survey(call.token.channel_id, call.body))


async def save_satisfaction(request: web.Request, call: Call) -> web.Response:
    """saveSatisfaction (reference §3.11): flat or ``satisfication``-wrapped body."""
    assert call.token is not None  # Auth.SESSION
    token = call.token
    return json_response(request.app[SATISFACTION].save(token.user_id, token.channel_id, call.body))


async def robot_feedback(request: web.Request, call: Call) -> web.Response:
    """v1/robot/feedbacksatisfaction (reference §3.12)."""
    assert call.token is not None  # Auth.SESSION
    token = call.token
    answer = request.app[SATISFACTION].robot_feedback(token.user_id, token.channel_id, call.body)
    return json_response(answer)
