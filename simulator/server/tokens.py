"""The token capability: tokenByAkSk and applyToken (reference §2), and the credential
checks the router makes for every other call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from simulator.core.errors import AuthError, ValidationFailed, Violation
from simulator.server.endpoint import Call
from simulator.server.http import USER_ID, error_response, json_response
from simulator.server.live_config import LiveConfig
from simulator.server.reasons import note
from simulator.server.sessions import SessionStore
from simulator.server.token_store import (
    EXPIRED_TOKEN_TEXT,
    AccessToken,
    MessagingToken,
    TokenStore,
)

__all__ = [
    "EXPIRED_TOKEN_TEXT",
    "TOKENS",
    "TOKEN_HEADER",
    "Tokens",
    "WrongCredentials",
    "apply_token",
    "token_by_ak_sk",
]

#: the header that carries (and, renewed, answers) the ccmessaging-token
TOKEN_HEADER = "ccmessaging-token"

#: why tokenByAkSk refused a credential pair (the detail of its 401 or 403)
WRONG_CREDENTIALS = "app_key or app_secret is wrong"
#: exceptionInfo of the 403 (the gateway's 403 text of reference §1.2 is about AccessTokens;
#: the live gateway's text for a wrong key was not reported, so the simulator says what
#: happened in the gateway's "auth fail!" words)
WRONG_CREDENTIALS_403 = "auth fail! illegal app_key or app_secret."


class WrongCredentials(AuthError):
    """tokenByAkSk with an app_key/app_secret pair that is not configured; answered with
    ``contract.wrong_credentials_status`` (403 as a live gateway, or 401)."""


class Tokens:
    """The token capability: tokenByAkSk and applyToken, and the credential checks of every
    other call (an expired ccmessaging-token is renewed while its session is live)."""

    def __init__(self, live: LiveConfig, store: TokenStore, sessions: SessionStore) -> None:
        self._live = live
        self.store = store
        self._sessions = sessions

    def token_by_ak_sk(self, app_key: str, app_secret: str, expire: str | None) -> AccessToken:
        """tokenByAkSk: a new AccessToken for a configured credential pair."""
        config = self._live.current
        credential = config.credential(app_key)
        if credential is None or credential.app_secret != app_secret:
            raise WrongCredentials(config.contract.wrong_credentials_status, WRONG_CREDENTIALS)
        lifetime = config.tokens.access_token_default_ttl
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
        lifetime = min(lifetime, config.tokens.access_token_max_ttl)
        return self.store.issue_access(app_key, lifetime)

    def apply_token(self, access: AccessToken, body: Mapping[str, Any]) -> dict[str, str]:
        """applyToken: a ccmessaging-token for the user on the channel. Success answers as the
        vendor's example, ``{"resultCode": "0", "token": …}`` (resultDesc is "currently not
        returned", §2.2); an unknown channel is resultCode 1 without a token."""
        config = self._live.current
        channel = config.channel(body["channelId"])
        if channel is None:
            note(f"channel {body['channelId']!r} is not configured")
            return {
                "resultCode": "1",
                "resultDesc": f"channel config {body['channelId']} not found",
            }
        token = self.store.issue_messaging(
            access.app_key,
            user_id=body["userId"],
            user_name=body["userName"],
            channel_id=channel.id,
            locale=body["locale"],
            lifetime=config.tokens.ccmessaging_token_ttl,
            tenant_id=config.contract.tenant_id,
            map_service=config.contract.map_service,
        )
        return {"resultCode": "0", "token": token.value}

    def access(self, request: web.Request) -> AccessToken:
        """The caller's AccessToken (``Authorization: Bearer`` and ``x-app-key``)."""
        headers = request.headers
        return self.store.check_access(headers.get("Authorization"), headers.get("x-app-key"))

    def messaging(self, request: web.Request) -> tuple[AccessToken, MessagingToken, str | None]:
        """The caller's AccessToken and ccmessaging-token. An expired ccmessaging-token is
        renewed while the user's session is live (the new value goes back in the response
        header, reference §2.2) and refused with 401 otherwise; the third value is the
        renewed token, if any."""
        access = self.access(request)
        token = self.store.find_messaging(request.headers.get(TOKEN_HEADER))
        if token.app_key != access.app_key:
            raise AuthError(401, "ccmessaging-token was issued to another app")
        if not self.store.is_expired(token):
            return access, token, None
        session = self._sessions.get(token.channel_id, token.user_id)
        if session is None or not session.active:
            raise AuthError(401, "ccmessaging-token expired (call applyToken again)")
        ttl = self._live.current.tokens.ccmessaging_token_ttl
        renewed = self.store.renew_messaging(token, ttl)
        return access, renewed, renewed.value


#: the application's token capability
TOKENS = web.AppKey("tokens", Tokens)


async def token_by_ak_sk(request: web.Request, call: Call) -> web.Response:
    """tokenByAkSk (reference §2.1). A wrong pair is 403 in the gateway's error shape
    (``errorCode`` "0", as its 403 of reference §1.2) or 401, per
    ``contract.wrong_credentials_status``."""
    body = call.body
    try:
        token = request.app[TOKENS].token_by_ak_sk(
            body["app_key"], body["app_secret"], request.headers.get("X-Token-Expire")
        )
    except WrongCredentials as exc:
        if exc.status == 403:
            return error_response(
                403, exc.reason, error_code="0", exception_info=WRONG_CREDENTIALS_403
            )
        return error_response(exc.status, exc.reason)
    return json_response(
        {
            "AccessToken": token.value,
            "ApplyType": "Bearer",
            "CreateTime": str(token.created_at // 1000),  # the clock's epoch seconds
            "Expires": str(token.lifetime),
            "Scope": "aicc-simulator",
            "AppKey": token.app_key,
            "UserID": "Anonymous",
        }
    )


async def apply_token(request: web.Request, call: Call) -> web.Response:
    """applyToken (reference §2.2)."""
    assert call.access is not None  # Auth.ACCESS
    request[USER_ID] = call.body["userId"]
    return json_response(request.app[TOKENS].apply_token(call.access, call.body))
