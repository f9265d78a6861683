"""Token issuing and checking: the API Fabric AccessToken and the ccmessaging-token.

Pure: time comes from the simulator's clock (epoch ms), randomness from ``secrets``. The texts
and statuses are the vendor's (reference §1.2, §2): an unknown AccessToken is 401, an
expired one 403 with the gateway's ``exceptionInfo``; a bad ccmessaging-token is 401.
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import islice

from simulator.core.clock import Clock
from simulator.core.errors import AuthError

__all__ = [
    "EXPIRED_TOKEN_TEXT",
    "AccessToken",
    "MessagingToken",
    "TokenStore",
]

#: The gateway's text for an expired or illegal AccessToken (reference §1.2), answered with 403.
EXPIRED_TOKEN_TEXT = (
    "auth fail! illegal or expired token info. please apply or refresh the access token "
    "from the server!"
)


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An API Fabric AccessToken issued by tokenByAkSk."""

    value: str
    app_key: str
    created_at: int
    """Clock time issued, epoch ms (as ``expires_at``)."""
    expires_at: int

    @property
    def lifetime(self) -> int:
        """Lifetime in whole seconds, as echoed in ``Expires``."""
        return round((self.expires_at - self.created_at) / 1000)


@dataclass(frozen=True, slots=True)
class MessagingToken:
    """A ccmessaging-token issued by applyToken, bound to one user on one channel."""

    value: str
    app_key: str
    user_id: str
    user_name: str
    channel_id: str
    locale: str
    created_at: int
    expires_at: int
    tenant_id: str = ""
    map_service: str = ""


#: how many of the oldest tokens one issue looks at for one to forget
_EVICTION_SCAN = 64


class TokenStore:
    """Issued tokens, by value. Expired tokens are kept (bounded) so that they answer
    403/renewal rather than "unknown".

    Past ``capacity`` tokens of a kind, one is forgotten per token issued: an expired
    AccessToken before a valid one; a ccmessaging-token that is expired or whose session is
    not live (``is_live``), never a live session's valid one. So the ccmessaging-tokens kept
    are at most ``capacity`` plus the valid tokens of live sessions."""

    def __init__(
        self,
        clock: Clock,
        *,
        capacity: int = 100_000,
        is_live: Callable[[str, str], bool] | None = None,
        changed: Callable[[str, str], None] | None = None,
    ) -> None:
        """``is_live(channel_id, user_id)``: whether that customer's session is live.
        ``changed(kind, value)``: told each token added or forgotten (``kind`` is
        ``access``, ``messaging`` or ``renewed``), for ``state.path``; None costs nothing."""
        self._clock = clock
        self._changed = changed
        self._capacity = capacity
        self._is_live = is_live
        self._access: dict[str, AccessToken] = {}
        self._messaging: dict[str, MessagingToken] = {}
        #: expired tokens that were renewed: old value -> new value
        self._renewed: dict[str, str] = {}

    def _trim(self, table: dict[str, MessagingToken] | dict[str, str], kind: str) -> None:
        while len(table) > self._capacity:
            value = next(iter(table))
            del table[value]
            if self._changed is not None:
                self._changed(kind, value)

    def issue_access(self, app_key: str, lifetime: int) -> AccessToken:
        """A new AccessToken for ``app_key`` valid ``lifetime`` seconds."""
        now = self._clock.now()
        token = AccessToken(secrets.token_urlsafe(32), app_key, now, now + lifetime * 1000)
        self._access[token.value] = token
        if self._changed is not None:
            self._changed("access", token.value)
        if len(self._access) > self._capacity:
            self._evict_access(now)
        return token

    def _evict_access(self, now: int) -> None:
        """Forget an expired AccessToken among the oldest ``_EVICTION_SCAN``, else the oldest
        (an integration renews its AccessToken at least hourly; a flood of tokenByAkSk calls
        takes the expired ones first)."""
        table = self._access
        for value, token in islice(table.items(), _EVICTION_SCAN):
            if now >= token.expires_at:
                del table[value]
                break
        else:
            value = next(iter(table))
            del table[value]
        if self._changed is not None:
            self._changed("access", value)

    def check_access(self, authorization: str | None, app_key: str | None) -> AccessToken:
        """Check an ``Authorization: Bearer …`` header and the ``x-app-key`` beside it."""
        if not authorization:
            raise AuthError(401, "missing Authorization header (expected 'Bearer <AccessToken>')")
        scheme, _, value = authorization.partition(" ")
        if scheme != "Bearer" or not value.strip():
            raise AuthError(401, "Authorization header must be 'Bearer <AccessToken>'")
        token = self._access.get(value.strip())
        if token is None:
            raise AuthError(401, "unknown AccessToken")
        if self._clock.now() >= token.expires_at:
            raise AuthError(403, EXPIRED_TOKEN_TEXT)
        if not app_key:
            raise AuthError(401, "missing x-app-key header")
        if app_key != token.app_key:
            raise AuthError(401, "x-app-key does not match the app the AccessToken was issued to")
        return token

    def issue_messaging(
        self,
        app_key: str,
        *,
        user_id: str,
        user_name: str,
        channel_id: str,
        locale: str,
        lifetime: int,
        tenant_id: str = "",
        map_service: str = "",
    ) -> MessagingToken:
        """A new ccmessaging-token in a live tenant's shape (vendor web-channel pages, part 2,
        evidence from live tenants): Base64 of a JSON object with ``createTime`` (epoch ms),
        ``tenantId``, ``randomNumber`` (48 hex digits), ``mapService``, ``userName``,
        ``locale``, ``userId``, ``channelId``, in that order (the vendor's example token
        begins ``{"createTime"`` and ends ``"channelId":"…"}``), its ``=`` URL-encoded as
        ``%3D`` as in the example (reference §2.2).

        Decodable, not forgeable: a token is checked by looking its whole value up among
        the issued ones, and 24 random bytes make each value unguessable, so a token with
        edited claims is an unknown token (401)."""
        now = self._clock.now()
        # one string object for what repeats across customers (kept per live token)
        channel_id, locale = sys.intern(channel_id), sys.intern(locale)
        if user_name == user_id:
            user_name = user_id
        claims = json.dumps(
            {
                "createTime": now,
                "tenantId": tenant_id,
                "randomNumber": secrets.token_hex(24),
                "mapService": map_service,
                "userName": user_name,
                "locale": locale,
                "userId": user_id,
                "channelId": channel_id,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        value = base64.b64encode(claims.encode()).decode().replace("=", "%3D")
        token = MessagingToken(
            value,
            app_key,
            user_id,
            user_name,
            channel_id,
            locale,
            now,
            now + lifetime * 1000,
            tenant_id,
            map_service,
        )
        self._messaging[value] = token
        if self._changed is not None:
            self._changed("messaging", value)
        if len(self._messaging) > self._capacity:
            self._evict_messaging(now)
        return token

    def _evict_messaging(self, now: int) -> None:
        """Forget the oldest ccmessaging-token that is expired or not a live session's. A
        live one met on the way is moved to the newest end, so that it is not looked at again
        soon; at most ``_EVICTION_SCAN`` are looked at per call (when all of those are live,
        the store stays over capacity by one more until sessions end)."""
        table = self._messaging
        if self._is_live is None:
            self._trim(table, "messaging")
            return
        for _ in range(min(_EVICTION_SCAN, len(table))):
            value = next(iter(table))
            token = table.pop(value)
            if now >= token.expires_at or not self._is_live(token.channel_id, token.user_id):
                if self._changed is not None:
                    self._changed("messaging", value)
                return
            table[value] = token  # live and valid: kept, at the newest end

    def find_messaging(self, value: str | None) -> MessagingToken:
        """The ccmessaging-token called ``value``, expired or not; 401 when missing or
        unknown. Whether an expired one is renewed is the caller's decision."""
        if not value:
            raise AuthError(401, "missing ccmessaging-token header (call applyToken first)")
        token = self._messaging.get(value)
        if token is None:
            if value in self._renewed:
                raise AuthError(
                    401,
                    "ccmessaging-token was renewed: use the one AICC returned in the "
                    "ccmessaging-token response header",
                )
            raise AuthError(401, "unknown ccmessaging-token (call applyToken again)")
        return token

    def is_expired(self, token: MessagingToken) -> bool:
        """True when ``token`` is past its lifetime."""
        return self._clock.now() >= token.expires_at

    def renew_messaging(self, token: MessagingToken, lifetime: int) -> MessagingToken:
        """A fresh token for the same user and channel (the mid-session renewal of §2.2).
        The client "must use it from then on": the old value is refused afterwards."""
        renewed = self.issue_messaging(
            token.app_key,
            user_id=token.user_id,
            user_name=token.user_name,
            channel_id=token.channel_id,
            locale=token.locale,
            lifetime=lifetime,
            tenant_id=token.tenant_id,
            map_service=token.map_service,
        )
        self._messaging.pop(token.value, None)
        self._renewed[token.value] = renewed.value
        if self._changed is not None:
            self._changed("messaging", token.value)
            self._changed("renewed", token.value)
        self._trim(self._renewed, "renewed")
        return renewed

    def lookup(self, kind: str, value: str) -> AccessToken | MessagingToken | str | None:
        """The token ``value`` of ``kind`` (``access``, ``messaging``; for ``renewed`` the
        value it was renewed to), None when not kept: what ``state.path`` writes."""
        if kind == "access":
            return self._access.get(value)
        if kind == "messaging":
            return self._messaging.get(value)
        return self._renewed.get(value)

    def restore(
        self,
        access: Iterable[AccessToken],
        messaging: Iterable[MessagingToken],
        renewed: Iterable[tuple[str, str]],
    ) -> None:
        """Put back tokens kept by ``state.path`` (oldest first), before serving."""
        self._access.update((token.value, token) for token in access)
        self._messaging.update((token.value, token) for token in messaging)
        self._renewed.update(renewed)

    def clear(self) -> None:
        """Forget every token."""
        self._access.clear()
        self._messaging.clear()
        self._renewed.clear()

    def peek(self, value: str) -> MessagingToken | None:
        """The ccmessaging-token called ``value``, expired or not; None when unknown."""
        return self._messaging.get(value)

    def expire(self, value: str) -> bool:
        """End the AccessToken or ccmessaging-token called ``value`` now (a fault rule's
        doing); False when there is no such token."""
        now = self._clock.now()
        access = self._access.get(value)
        if access is not None:
            self._access[value] = replace(access, expires_at=min(access.expires_at, now))
            return True
        messaging = self._messaging.get(value)
        if messaging is not None:
            self._messaging[value] = replace(messaging, expires_at=min(messaging.expires_at, now))
            return True
        return False
