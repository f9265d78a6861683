"""queryPhraseByKeyword: FAQ suggestions for what the customer is typing (reference §3.9,
§7.1 step 9): the capability and its handler (its row is in :mod:`simulator.server.routes`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from simulator.server.endpoint import Call
from simulator.server.http import json_response
from simulator.server.live_config import LiveConfig
from simulator.server.reasons import note

__all__ = ["PHRASES", "Phrases", "query_phrase"]

# the vendor's resultDesc texts for resultCode 1, spelling included (reference §3.9)
NO_REQUEST = "request is no exsit"
BAD_LOCALE = "locale is error"
NO_ROBOT = "Robot is no exsit"


class Phrases:
    """Keyword match over the channel's phrase list."""

    def __init__(self, live: LiveConfig) -> None:
        self._live = live

    def query(self, channel_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Up to ``max_results`` questions containing the keyword (case-insensitive), in
        list order. Answers the list as ``question`` (API reference) and ``phrases`` (devg)."""
        channel = self._live.current.channel(channel_id)
        if channel is None:
            note(f"channel {channel_id!r} is not configured")
            return {"resultCode": "1", "resultDesc": NO_REQUEST}
        settings = channel.phrases
        if settings.require_robot and not channel.robot:
            note("the channel has no robot (phrases.require_robot)")
            return {"resultCode": "1", "resultDesc": NO_ROBOT}
        questions = settings.questions(body["locale"])
        if questions is None:
            note(f"no phrases for locale {body['locale']!r}")
            return {"resultCode": "1", "resultDesc": BAD_LOCALE}
        keyword = body["strContent"].strip().casefold()
        if not keyword:
            note("strContent is empty")
            return {"resultCode": "1", "resultDesc": NO_REQUEST}
        found = [q for q in questions if keyword in q.casefold()][: settings.max_results]
        return {"question": found, "phrases": list(found), "resultCode": "0", "resultDesc": ""}


#: the application's phrase capability
PHRASES = web.AppKey("phrases", Phrases)


async def query_phrase(request: web.Request, call: Call) -> web.Response:
    """queryPhraseByKeyword (reference §3.9). The vendor marks the gateway headers optional
    (§9) but the phrase list is per channel, known only from the ccmessaging-token: all
    three are checked (the row's auth), as on every other ccmessaging call."""
    assert call.token is not None  # Auth.SESSION
    return json_response(request.app[PHRASES].query(call.token.channel_id, call.body))
