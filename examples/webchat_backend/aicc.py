"""The backend's AICC client: AccessToken, ccmessaging-token per customer, send.

Reference call sequence (AICC web channel, push mode): tokenByAkSk → applyToken (per
customer) → send CONNECT → send CHAT / READ … (queryPhraseByKeyword for suggestions) →
getsatisfactionsurveymode → saveSatisfaction → send DISCONNECT; AICC pushes its downlink
messages to our callback URL meanwhile (see :mod:`webchat_backend.receiver`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from webchat_backend.settings import Settings

__all__ = ["AiccApiError", "AiccClient", "SendResult"]

TOKEN_PATH = "/apigovernance/api/oauth/tokenByAkSk"
CCM = "/apiaccess/ccmessaging"
MESSAGING_TOKEN = "ccmessaging-token"
#: Renew the AccessToken this many seconds before it expires.
RENEW_MARGIN = 30.0


class AiccApiError(Exception):
    """AICC answered a call with an HTTP error (or not at all)."""

    def __init__(self, call: str, status: int | None, detail: Any) -> None:
        self.call = call
        self.status = status
        self.detail = detail
        super().__init__(f"{call}: HTTP {status}: {detail}")


@dataclass(frozen=True, slots=True)
class SendResult:
    """AICC's answer to a send: ``resultCode`` "0" is success, "12" outside working hours,
    "13" a failure."""

    result_code: str
    result_desc: str

    @property
    def ok(self) -> bool:
        """True for resultCode "0"."""
        return self.result_code == "0"


@dataclass(slots=True)
class _AccessToken:
    value: str
    expires_at: float


class AiccClient:
    """Calls AICC for every customer of this backend, on one ``aiohttp.ClientSession``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._settings = settings
        self._clock = clock
        self._access: _AccessToken | None = None
        self._access_lock = asyncio.Lock()
        self._messaging: dict[str, str] = {}

    # -- tokens ---------------------------------------------------------------------------
    async def access_token(self) -> str:
        """The API Fabric AccessToken, renewed shortly before it expires."""
        async with self._access_lock:  # one tokenByAkSk for many concurrent customers
            token = self._access
            if token is None or token.expires_at - RENEW_MARGIN <= self._clock():
                token = await self._token_by_ak_sk()
                self._access = token
            return token.value

    async def _token_by_ak_sk(self) -> _AccessToken:
        s = self._settings
        status, body, _ = await self._post(
            "tokenByAkSk",
            TOKEN_PATH,
            {"app_key": s.app_key, "app_secret": s.app_secret},
            {"X-Token-Expire": str(s.token_lifetime)},
        )
        if status != 200 or not isinstance(body, dict) or "AccessToken" not in body:
            raise AiccApiError("tokenByAkSk", status, body)
        lifetime = float(body.get("Expires") or s.token_lifetime)
        return _AccessToken(str(body["AccessToken"]), self._clock() + lifetime)

    async def _auth_headers(self) -> dict[str, str]:
        return {
            "x-app-key": self._settings.app_key,
            "Authorization": f"Bearer {await self.access_token()}",
        }

    async def messaging_token(self, customer_id: str, user_name: str) -> str:
        """The customer's ccmessaging-token (applyToken once, then kept)."""
        token = self._messaging.get(customer_id)
        if token is not None:
            return token
        s = self._settings
        body = {
            "userId": customer_id,
            "userName": user_name,
            "channelId": s.channel_id,
            "locale": s.locale,
        }
        status, answer, _ = await self._post(
            "applyToken", f"{CCM}/applyToken", body, await self._auth_headers()
        )
        # the AccessToken expired early (403) or is not known (401: revoked, or a simulator
        # reset between tests): get a new one, once
        if status in (401, 403):
            self._access = None
            status, answer, _ = await self._post(
                "applyToken", f"{CCM}/applyToken", body, await self._auth_headers()
            )
        if status != 200 or not isinstance(answer, dict) or answer.get("resultCode") != "0":
            raise AiccApiError("applyToken", status, answer)
        token = str(answer["token"])
        self._messaging[customer_id] = token
        return token

    def forget(self, customer_id: str) -> None:
        """Drop the customer's ccmessaging-token (after the conversation ended)."""
        self._messaging.pop(customer_id, None)

    # -- send -----------------------------------------------------------------------------
    async def send(
        self,
        customer_id: str,
        user_name: str,
        control_type: str,
        *,
        content: str = "",
        media_type: str = "TEXT",
        message_id: str | None = None,
    ) -> SendResult:
        """``POST send``: one uplink message of the customer's."""
        body: dict[str, Any] = {
            "channel": "WEB",
            "content": content,
            "controlType": control_type,
            "from": customer_id,
            "mediaType": media_type,
            "senderNickname": user_name,
            "sourceType": "CUSTOMER",
            "timestamp": str(time.time_ns() // 1_000_000),
            "to": self._settings.channel_id,
        }
        if message_id is not None:
            body["messageId"] = message_id
        answer = await self.call(customer_id, user_name, "send", body)
        return SendResult(str(answer.get("resultCode")), str(answer.get("resultDesc", "")))

    async def call(
        self, customer_id: str, user_name: str, name: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``POST /apiaccess/ccmessaging/{name}`` for a customer, with the session headers:
        send, and the survey calls (getsatisfactionsurveymode, saveSatisfaction,
        queryPhraseByKeyword). Retries once with a new token after a 401 or 403."""
        for attempt in (1, 2):
            headers = await self._auth_headers()
            headers[MESSAGING_TOKEN] = await self.messaging_token(customer_id, user_name)
            status, answer, answer_headers = await self._post(name, f"{CCM}/{name}", body, headers)
            renewed = answer_headers.get(MESSAGING_TOKEN)
            if renewed:  # AICC renews an expired token mid-session in a response header
                self._messaging[customer_id] = renewed
            if attempt == 1 and status == 401:  # the ccmessaging-token is gone: apply again
                self.forget(customer_id)
                continue
            if attempt == 1 and status == 403:  # the AccessToken expired
                self._access = None
                continue
            break
        if status != 200 or not isinstance(answer, dict):
            raise AiccApiError(name, status, answer)
        return answer

    # -- HTTP -----------------------------------------------------------------------------
    async def _post(
        self, call: str, path: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> tuple[int, Any, Mapping[str, str]]:
        url = self._settings.aicc_url + path
        try:
            async with self._session.post(url, json=body, headers=dict(headers)) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = await response.text()
                return response.status, answer, response.headers
        except aiohttp.ClientError as exc:
            raise AiccApiError(call, None, f"{type(exc).__name__}: {exc}") from exc
