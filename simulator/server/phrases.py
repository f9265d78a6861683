"""queryPhraseByKeyword: FAQ suggestions for what the customer is typing (reference §3.9,
§7.1 step 9). No HTTP here (see :mod:`simulator.server.phrase_routes`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.config import Config

__all__ = ["PhraseService"]

# the vendor's resultDesc texts for resultCode 1, spelling included (reference §3.9)
NO_REQUEST = "request is no exsit"
BAD_LOCALE = "locale is error"
NO_ROBOT = "Robot is no exsit"


class PhraseService:
    """Keyword match over the channel's phrase list."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def query(self, channel_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Up to ``max_results`` questions containing the keyword (case-insensitive), in
        list order. Answers the list as ``question`` (API reference) and ``phrases`` (devg)."""
        channel = self.config.channel(channel_id)
        if channel is None:
            return {"resultCode": "1", "resultDesc": NO_REQUEST}
        settings = channel.phrases
        if settings.require_robot and not channel.robot:
            return {"resultCode": "1", "resultDesc": NO_ROBOT}
        questions = settings.questions(body["locale"])
        if questions is None:
            return {"resultCode": "1", "resultDesc": BAD_LOCALE}
        keyword = body["strContent"].strip().casefold()
        if not keyword:
            return {"resultCode": "1", "resultDesc": NO_REQUEST}
        found = [q for q in questions if keyword in q.casefold()][: settings.max_results]
        return {"question": found, "phrases": list(found), "resultCode": "0", "resultDesc": ""}
