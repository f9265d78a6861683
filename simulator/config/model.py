"""The configuration model: frozen dataclasses, no I/O, no validation.

What each setting means and its default (the defaults equal ``schemas/config.schema.json``
and the embedded ``default_config.yaml``). Built by :mod:`simulator.config` from a checked
document; import the names from there.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Final, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulator.config.features import ClickToCallConfig, PhraseConfig, SatisfactionConfig
from simulator.core.push import PushMode, PushTarget, RetryPolicy
from simulator.core.tls import client_context

__all__ = [
    "ECHO",
    "EMBEDDED_SOURCE",
    "MASK",
    "WEEKDAYS",
    "AdminConfig",
    "ChannelConfig",
    "Config",
    "ContractConfig",
    "Credential",
    "Delivery",
    "HistoryConfig",
    "JournalConfig",
    "LimitsConfig",
    "ListenConfig",
    "PollConfig",
    "QueueInfo",
    "StateConfig",
    "TimeoutScenarios",
    "TokenConfig",
    "Weekday",
    "WorkingHours",
    "host_allowed",
    "resolve_timezone",
]

#: ``callback_url`` value meaning "the simulator's own built-in echo receiver".
ECHO: Final = "echo"
#: The ``source`` of a config built from the embedded default.
EMBEDDED_SOURCE: Final = "<embedded default>"
#: What :meth:`Config.redacted` shows instead of a secret.
MASK: Final = "********"

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Delivery = Literal["push", "poll"]
WEEKDAYS: Final[tuple[Weekday, ...]] = get_args(Weekday)

_OFFSET = re.compile(r"^([+-])([01][0-9]|2[0-3]):?([0-5][0-9])$")


@dataclass(frozen=True, slots=True)
class ListenConfig:
    """Where the emulated AICC and ``/__admin`` listen."""

    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True, slots=True)
class Credential:
    """One AK/SK pair that tokenByAkSk accepts."""

    app_key: str
    app_secret: str = field(repr=False)


def resolve_timezone(name: str) -> tzinfo | None:
    """``UTC``, a fixed offset (``+08:00``) or an IANA zone name; ``None`` if unknown."""
    if name.upper() in ("UTC", "Z"):
        return UTC
    offset = _OFFSET.match(name)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        return timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """The agents' weekly working window; outside it CONNECT answers resultCode 12.

    ``end`` is exclusive and ``24:00`` means midnight; an ``end`` earlier than ``start``
    makes the window run past midnight into the next day (which need not be a working day).
    ``always`` is every day 00:00-24:00; ``never`` has no days.
    """

    timezone: str = "UTC"
    days: tuple[Weekday, ...] = WEEKDAYS
    start: str = "00:00"
    end: str = "24:00"
    _tz: tzinfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tz = resolve_timezone(self.timezone)
        if tz is None:
            raise ValueError(f"unknown time zone {self.timezone!r}")
        object.__setattr__(self, "_tz", tz)

    @classmethod
    def always(cls) -> WorkingHours:
        """Open all the time."""
        return cls()

    @classmethod
    def never(cls) -> WorkingHours:
        """Never open (every CONNECT answers resultCode 12)."""
        return cls(days=())

    def is_open(self, moment: datetime) -> bool:
        """Whether agents work at ``moment`` (a naive datetime is taken as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(self._tz)
        minute = local.hour * 60 + local.minute
        today = WEEKDAYS[local.weekday()]
        yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
        start, end = _minutes(self.start), _minutes(self.end)
        if start < end:
            return today in self.days and start <= minute < end
        # overnight window: the evening part today, the morning part from yesterday's window
        return (today in self.days and minute >= start) or (yesterday in self.days and minute < end)

    def to_document(self) -> dict[str, Any]:
        """The YAML/JSON form."""
        return {
            "timezone": self.timezone,
            "days": list(self.days),
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """The figures queryQueueInfo answers while a customer queues (defaults: vendor example)."""

    position: int = 1
    total_wait_time: int = 3
    current_device_wait_time: int = 3
    config_max_wait_time: int = 60
    longest_wait_time: int = 3
    estimate_wait_time: int = 60

    def response_fields(self) -> dict[str, int]:
        """The fields under the vendor's names (``configMaxcWaitTime`` is their spelling)."""
        return {
            "position": self.position,
            "totalWaitTime": self.total_wait_time,
            "currentDeviceWaitTime": self.current_device_wait_time,
            "configMaxcWaitTime": self.config_max_wait_time,
            "longestWaitTime": self.longest_wait_time,
            "estimateWaitTime": self.estimate_wait_time,
        }


@dataclass(frozen=True, slots=True)
class TimeoutScenarios:
    """The scenario an idle customer gets, by the channel's async switch (``None`` = none)."""

    async_off: str | None = "timeout-async-off"
    async_on: str | None = "timeout-async-on"


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """One web channel (channel configuration id = ``DownLinkMsg.from``)."""

    id: str
    app_key: str
    """Sent as ``x-app-key`` in oauth mode (default: the first credential's app_key)."""
    access_key: str
    """The ``{accessKey}`` of the auth-v2 header in signature mode (default: app_key)."""
    delivery: Delivery = "push"
    push_mode: PushMode = "oauth"
    callback_url: str = ECHO
    """The integration's receiver, or :data:`ECHO` for the built-in echo receiver."""
    push_key: str | None = field(default=None, repr=False)
    async_switch: bool = False
    on_connect: str | None = "connected"
    idle_timeout: float | None = 120.0
    timeout_scenarios: TimeoutScenarios = field(default_factory=TimeoutScenarios)
    tips: str = "{TIPS}"
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    robot: bool = False
    queue: QueueInfo = field(default_factory=QueueInfo)
    speed: float = 1.0
    # the customer-side extras (simulator.config.features)
    satisfaction: SatisfactionConfig = field(default_factory=SatisfactionConfig)
    phrases: PhraseConfig = field(default_factory=PhraseConfig)
    click_to_call: ClickToCallConfig = field(default_factory=ClickToCallConfig)
    ca_bundle: str | None = None
    """PEM file of the CAs an ``https://`` callback is verified against (None: the system's)."""
    client_cert: str | None = None
    """PEM client certificate presented to an ``https://`` callback (two-way TLS)."""
    client_key: str | None = None
    """Its private key (None: the key is in ``client_cert``)."""

    @property
    def uses_echo(self) -> bool:
        """True when pushes go to the simulator's own echo receiver."""
        return self.callback_url == ECHO

    @property
    def timeout_scenario(self) -> str | None:
        """The scenario run when a customer idles past ``idle_timeout``."""
        scenarios = self.timeout_scenarios
        return scenarios.async_on if self.async_switch else scenarios.async_off

    def push_target(self, *, echo_url: str, bearer_token: str = "") -> PushTarget:
        """Where and how this channel's pushes go; ``echo_url`` replaces :data:`ECHO`."""
        base = echo_url if self.uses_echo else self.callback_url
        return PushTarget(
            url=PushTarget.webhook_url(base, self.push_mode),
            mode=self.push_mode,
            app_key=self.app_key,
            bearer_token=bearer_token,
            push_key=self.push_key or "",
            access_key=self.access_key,
            tls=self.client_tls() if base.startswith("https://") else None,
        )

    def client_tls(self) -> ssl.SSLContext:
        """The client context of pushes to an ``https://`` callback (made once per files)."""
        return client_context(self.ca_bundle, self.client_cert, self.client_key)

    def to_document(self) -> dict[str, Any]:
        """The YAML/JSON form, every key explicit (``push_key`` only when set)."""
        doc: dict[str, Any] = {
            "id": self.id,
            "delivery": self.delivery,
            "push_mode": self.push_mode,
            "callback_url": self.callback_url,
            "app_key": self.app_key,
            "access_key": self.access_key,
            "async_switch": self.async_switch,
            "on_connect": self.on_connect,
            "idle_timeout": self.idle_timeout,
            "timeout_scenarios": {
                "async_off": self.timeout_scenarios.async_off,
                "async_on": self.timeout_scenarios.async_on,
            },
            "tips": self.tips,
            "working_hours": self.working_hours.to_document(),
            "robot": self.robot,
            "queue": _fields(self.queue),
            "speed": self.speed,
            "satisfaction": self.satisfaction.to_document(),
            "phrases": self.phrases.to_document(),
            "click_to_call": self.click_to_call.to_document(),
        }
        if self.push_key is not None:
            doc["push_key"] = self.push_key
        for name in ("ca_bundle", "client_cert", "client_key"):
            if getattr(self, name) is not None:
                doc[name] = getattr(self, name)
        return doc


@dataclass(frozen=True, slots=True)
class TokenConfig:
    """Token lifetimes in seconds."""

    access_token_default_ttl: int = 600
    access_token_max_ttl: int = 3600
    ccmessaging_token_ttl: int = 3600


@dataclass(frozen=True, slots=True)
class PollConfig:
    """The long-poll window of ``GET poll``."""

    timeout_ms: int = 5000


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """Request and file size limits in bytes, and how long a request may take to arrive."""

    max_body_bytes: int = 2_900_000
    max_file_bytes: int = 2_097_152
    #: seconds a request head may take from its first byte (slow ones are closed)
    head_timeout: float = 10.0
    #: seconds a request body may take once its head has arrived (408 after)
    body_timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class ContractConfig:
    """Where the vendor's pages and live tenants disagree: how the simulator answers.

    ``strict`` keeps the simulator's strict HTTP 400 (with every violation) for a request
    that breaks its schema on the endpoints where the vendor documents a code in the body
    (downloadFileStream, uploadFileStream, queryQueueInfo, doLeaveMessage); off, those
    answer 200 with the vendor's code and the simulator's ``violations`` beside it.
    ``wrong_credentials_status`` is the status of a wrong app_key/app_secret on
    tokenByAkSk (403 as a live gateway answered, 401 as the simulator did before).
    ``tenant_id`` and ``map_service`` are claims of the ccmessaging-token."""

    strict: bool = False
    wrong_credentials_status: int = 403
    tenant_id: str = "202105280000000000"
    map_service: str = ""


@dataclass(frozen=True, slots=True)
class HistoryConfig:
    """queryHistoryChatMessage: the records kept per customer (channel and userId), across
    their sessions; past ``max_per_user`` the oldest are dropped and counted."""

    max_per_user: int = 200


@dataclass(frozen=True, slots=True)
class JournalConfig:
    """The in-memory journal's cap and its optional JSON Lines file."""

    capacity: int = 10_000
    path: str | None = None


@dataclass(frozen=True, slots=True)
class StateConfig:
    """Where conversations are kept across restarts: an SQLite file (``path``), or None for
    in-memory only (the default; a restart forgets everything)."""

    path: str | None = None


@dataclass(frozen=True, slots=True)
class AdminConfig:
    """The ``/__admin`` API; ``token`` (when set) must come as ``Authorization: Bearer``."""

    token: str | None = field(default=None, repr=False)


def _fields(obj: Any) -> dict[str, Any]:
    names = obj.__dataclass_fields__
    return {name: getattr(obj, name) for name in names if not name.startswith("_")}


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, validated."""

    credentials: tuple[Credential, ...]
    channels: tuple[ChannelConfig, ...]
    listen: ListenConfig = field(default_factory=ListenConfig)
    tokens: TokenConfig = field(default_factory=TokenConfig)
    poll: PollConfig = field(default_factory=PollConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    delivery: RetryPolicy = field(default_factory=RetryPolicy)
    journal: JournalConfig = field(default_factory=JournalConfig)
    state: StateConfig = field(default_factory=StateConfig)
    admin: AdminConfig = field(default_factory=AdminConfig)
    contract: ContractConfig = field(default_factory=ContractConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    callback_allowlist: tuple[str, ...] | None = None
    scenario_dirs: tuple[str, ...] = ()
    log_level: str = "info"
    #: inbound fault rules in force from start-up (``fault-rule`` documents)
    faults: tuple[Mapping[str, Any], ...] = ()
    source: str = field(default=EMBEDDED_SOURCE, compare=False)
    """Where it came from: the file path or :data:`EMBEDDED_SOURCE`."""
    # Looked up on every send and push: dicts built once (the first of a repeated id wins,
    # as a scan would find it; parse_config refuses repeats anyway).
    _channel_by_id: Mapping[str, ChannelConfig] = field(init=False, repr=False, compare=False)
    _credential_by_key: Mapping[str, Credential] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        channels: dict[str, ChannelConfig] = {}
        for channel in self.channels:
            channels.setdefault(channel.id, channel)
        credentials: dict[str, Credential] = {}
        for credential in self.credentials:
            credentials.setdefault(credential.app_key, credential)
        object.__setattr__(self, "_channel_by_id", channels)
        object.__setattr__(self, "_credential_by_key", credentials)

    def channel(self, channel_id: str) -> ChannelConfig | None:
        """The channel with this configuration id, if configured."""
        return self._channel_by_id.get(channel_id)

    def credential(self, app_key: str) -> Credential | None:
        """The credential with this app_key, if configured."""
        return self._credential_by_key.get(app_key)

    def callback_allowed(self, url: str) -> bool:
        """Whether pushes may go to ``url`` under ``callback_allowlist``.

        :data:`ECHO` is always allowed (check it before resolving it to a URL).
        """
        if self.callback_allowlist is None or url == ECHO:
            return True
        return host_allowed(urlsplit(url).hostname, self.callback_allowlist)

    def to_document(self) -> dict[str, Any]:
        """The full YAML/JSON form, secrets included; ``parse_config`` of it is equal."""
        return {
            "listen": _fields(self.listen),
            "credentials": [_fields(c) for c in self.credentials],
            "channels": [c.to_document() for c in self.channels],
            "tokens": _fields(self.tokens),
            "poll": _fields(self.poll),
            "limits": _fields(self.limits),
            "delivery": _fields(self.delivery),
            "journal": _fields(self.journal),
            "state": _fields(self.state),
            "admin": _fields(self.admin),
            "contract": _fields(self.contract),
            "history": _fields(self.history),
            "callback_allowlist": None
            if self.callback_allowlist is None
            else list(self.callback_allowlist),
            "scenario_dirs": list(self.scenario_dirs),
            "log_level": self.log_level,
            "faults": [dict(f) for f in self.faults],
        }

    def redacted(self) -> dict[str, Any]:
        """:meth:`to_document` with every secret that is set replaced by ``********``."""
        doc = self.to_document()
        for credential in doc["credentials"]:
            credential["app_secret"] = MASK
        for channel in doc["channels"]:
            if "push_key" in channel:
                channel["push_key"] = MASK
        if doc["admin"]["token"] is not None:
            doc["admin"]["token"] = MASK
        return doc


def host_allowed(host: str | None, allowlist: tuple[str, ...]) -> bool:
    """Whether ``host`` is an entry of ``allowlist`` or under one of its ``*.`` wildcards."""
    if not host:
        return False
    host = host.lower()
    for entry in allowlist:
        entry = entry.lower().strip("[]")
        if entry.startswith("*."):
            if host.endswith(entry[1:]):
                return True
        elif host == entry:
            return True
    return False
