"""The vendor calls an integration makes, synchronously (urllib), for tests that drive a
simulator across a process or container boundary."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

__all__ = ["Vendor"]

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Vendor:
    """tokenByAkSk, applyToken and send against the simulator at ``base_url``."""

    def __init__(self, base_url: str, app_key: str, app_secret: str, channel_id: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_key = app_key
        self.app_secret = app_secret
        self.channel_id = channel_id

    def post(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **headers},
            method="POST",
        )
        try:
            with _OPENER.open(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read() or b"null")

    def access_token(self) -> str:
        status, body = self.post(
            "/apigovernance/api/oauth/tokenByAkSk",
            {"app_key": self.app_key, "app_secret": self.app_secret},
            {},
        )
        assert status == 200, body
        return str(body["AccessToken"])

    def connect(self, user_id: str) -> dict[str, Any]:
        """applyToken, then send CONNECT; the send's answer."""
        auth = {"x-app-key": self.app_key, "Authorization": f"Bearer {self.access_token()}"}
        status, applied = self.post(
            "/apiaccess/ccmessaging/applyToken",
            {"userId": user_id, "userName": "Ann", "channelId": self.channel_id, "locale": "en"},
            auth,
        )
        assert status == 200 and applied["resultCode"] == "0", applied
        status, sent = self.post(
            "/apiaccess/ccmessaging/send",
            {
                "channel": "WEB",
                "content": "",
                "controlType": "CONNECT",
                "from": user_id,
                "mediaType": "TEXT",
                "senderNickname": "Ann",
                "sourceType": "CUSTOMER",
                "timestamp": str(time.time_ns() // 1_000_000),
                "to": self.channel_id,
            },
            {**auth, "ccmessaging-token": str(applied["token"])},
        )
        assert status == 200, sent
        result: dict[str, Any] = sent
        return result
