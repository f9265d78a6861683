"""The history capability: queryHistoryChatMessage (reference §3.7), the customer's
messages across all their calls (each record with its callId), oldest first, paged;
answered before any CONNECT too (§7.1 step 2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from simulator.core.errors import IdentityMismatch, Violation
from simulator.server.endpoint import Call
from simulator.server.http import json_response
from simulator.server.sessions import SessionStore

__all__ = ["HISTORY", "History", "query_history"]


class History:
    """Pages of the messages a customer's sessions kept."""

    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions

    def answer(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """queryHistoryChatMessage's answer: the customer's messages in the time range,
        ``offset`` / ``limit`` applied (none yet before their first CONNECT)."""
        history = self._sessions.history_of(body["channelId"], body["userId"])
        records = history.records() if history is not None else []
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


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


#: the application's history capability
HISTORY = web.AppKey("history", History)


async def query_history(request: web.Request, call: Call) -> web.Response:
    """queryHistoryChatMessage (reference §3.7)."""
    assert call.token is not None  # Auth.SESSION
    body = call.body
    if body["userId"] != call.token.user_id:
        raise IdentityMismatch(
            "history-request",
            [
                Violation(
                    "/userId", f"{body['userId']!r} is not the userId of the ccmessaging-token"
                )
            ],
        )
    return json_response(request.app[HISTORY].answer(body))
