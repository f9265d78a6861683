"""The simulator's configuration: typed, validated, with every error traced to its origin.

Layers, lowest first: the embedded default (``default_config.yaml``, used when no file is
given) < the config file < ``AICC_SIM_*`` environment variables < CLI flags. A file replaces
the embedded default as a whole; keys it leaves out take the defaults documented in
``schemas/config.schema.json`` (which equal the embedded default's values).

:func:`parse_config` is pure (a mapping in, a frozen :class:`Config` out);
:func:`load_config` is the only function that reads a file. A bad file is refused with
``file:line: /json/pointer: reason``; a bad env var or flag with its name instead of a line.
Secrets (``app_secret``, ``push_key``, the admin token) never appear in ``repr()`` or in
error messages; :meth:`Config.redacted` gives a masked view for the admin API.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from importlib import resources
from typing import Any, Final, Literal, cast, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
from jsonschema.exceptions import ValidationError

from simulator.config_env import (
    CONFIG_FILE_VAR,
    Override,
    apply_overrides,
    blame,
    env_overrides,
    flag_overrides,
    read_config_yaml,
)
from simulator.errors import ConfigError, Violation
from simulator.push import PushMode, PushTarget, RetryPolicy
from simulator.validation import pointer_of

__all__ = [
    "ECHO",
    "EMBEDDED_SOURCE",
    "AdminConfig",
    "ChannelConfig",
    "Config",
    "Credential",
    "Delivery",
    "JournalConfig",
    "LimitsConfig",
    "ListenConfig",
    "PollConfig",
    "QueueInfo",
    "TimeoutScenarios",
    "TokenConfig",
    "Weekday",
    "WorkingHours",
    "config_schema",
    "embedded_default_text",
    "load_config",
    "parse_config",
    "resolve_timezone",
]

#: ``callback_url`` value meaning "the simulator's own built-in echo receiver".
ECHO: Final = "echo"
#: The ``source`` of a config built from the embedded default.
EMBEDDED_SOURCE: Final = "<embedded default>"
MASK: Final = "********"

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Delivery = Literal["push", "poll"]
WEEKDAYS: Final[tuple[Weekday, ...]] = get_args(Weekday)

#: Hostile files: a size cap.
_MAX_FILE_BYTES: Final = 4 * 1024 * 1024
_OFFSET = re.compile(r"^([+-])([01][0-9]|2[0-3]):?([0-5][0-9])$")


# --------------------------------------------------------------------------- the model


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
        )

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
        }
        if self.push_key is not None:
            doc["push_key"] = self.push_key
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
    """Request and file size limits in bytes."""

    max_body_bytes: int = 2_900_000
    max_file_bytes: int = 2_097_152


@dataclass(frozen=True, slots=True)
class JournalConfig:
    """The in-memory journal's cap and its optional JSON Lines file."""

    capacity: int = 10_000
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
    admin: AdminConfig = field(default_factory=AdminConfig)
    callback_allowlist: tuple[str, ...] | None = None
    scenario_dirs: tuple[str, ...] = ()
    log_level: str = "info"
    source: str = field(default=EMBEDDED_SOURCE, compare=False)
    """Where it came from: the file path or :data:`EMBEDDED_SOURCE`."""

    def channel(self, channel_id: str) -> ChannelConfig | None:
        """The channel with this configuration id, if configured."""
        return next((c for c in self.channels if c.id == channel_id), None)

    def credential(self, app_key: str) -> Credential | None:
        """The credential with this app_key, if configured."""
        return next((c for c in self.credentials if c.app_key == app_key), None)

    def callback_allowed(self, url: str) -> bool:
        """Whether pushes may go to ``url`` under ``callback_allowlist``.

        :data:`ECHO` is always allowed (check it before resolving it to a URL).
        """
        if self.callback_allowlist is None or url == ECHO:
            return True
        return _host_allowed(urlsplit(url).hostname, self.callback_allowlist)

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
            "admin": _fields(self.admin),
            "callback_allowlist": None
            if self.callback_allowlist is None
            else list(self.callback_allowlist),
            "scenario_dirs": list(self.scenario_dirs),
            "log_level": self.log_level,
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


def _host_allowed(host: str | None, allowlist: tuple[str, ...]) -> bool:
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


# --------------------------------------------------------------------------- the schema


@cache
def config_schema() -> Mapping[str, Any]:
    """The config schema shipped in the package (``schemas/config.schema.json``)."""
    text = (resources.files("simulator") / "schemas" / "config.schema.json").read_text("utf-8")
    return cast(Mapping[str, Any], json.loads(text))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    # Its own compiled validator (not the shared store's), because the messages below need
    # the raw errors: which keyword failed, which keys were extra, the subschema.
    return jsonschema.Draft202012Validator(
        config_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def embedded_default_text() -> str:
    """The YAML text of the embedded default configuration."""
    return (resources.files("simulator") / "default_config.yaml").read_text("utf-8")


_SECRET_KEYS = frozenset({"app_secret", "push_key"})

# Messages for pattern failures, by the key that failed (the regex itself helps nobody).
_PATTERN_HINTS: Mapping[str, str] = {
    "callback_url": 'is not "echo" or an http:// or https:// URL',
    "start": "is not a time HH:MM from 00:00 to 24:00",
    "end": "is not a time HH:MM from 00:00 to 24:00",
    "id": "is not a channel id (1 to 64 of A-Z a-z 0-9 . _ -)",
    "on_connect": "is not a scenario name (letters, digits, . _ -)",
    "async_off": "is not a scenario name (letters, digits, . _ -)",
    "async_on": "is not a scenario name (letters, digits, . _ -)",
}
_ANYOF_HINTS: Mapping[str, str] = {
    "working_hours": 'must be "always", "never" or a mapping with timezone, days, start, end',
}


def _is_secret(path: list[str | int]) -> bool:
    return bool(path) and (path[-1] in _SECRET_KEYS or path == ["admin", "token"])


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_hint(key: str | int | None, value: Any) -> str:
    # YAML 1.1 turns unquoted digits into numbers and 17:30 into the sexagesimal 1050
    if key == "id" and isinstance(value, int | float):
        return " (quote the id: unquoted digits are a number in YAML)"
    if key in ("start", "end") and isinstance(value, int):
        return ' (quote the time, e.g. "17:30": YAML reads unquoted 17:30 as a number)'
    return ""


def _explain(error: ValidationError) -> Iterator[Violation]:
    """Friendly violations for one jsonschema error, secrets never shown."""
    path = list(error.absolute_path)
    pointer = pointer_of(path)
    key = path[-1] if path else None
    secret = _is_secret(path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        for extra in sorted(set(value) - set(allowed), key=str):
            yield Violation(
                pointer_of([*path, extra]), f"unknown key (allowed: {', '.join(allowed)})"
            )
    elif kind == "required":
        for name in expected:
            if name not in value:
                why = " (required when push_mode is signature)" if name == "push_key" else ""
                yield Violation(pointer, f"missing required key {name!r}{why}")
    elif kind == "anyOf":
        yield from _explain_any_of(error, pointer, key)
    elif secret:
        yield Violation(pointer, _explain_secret(kind, expected, value))
    elif kind == "type":
        types = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(repr(t) for t in types)
        yield Violation(pointer, f"{_show(value)} is not of type {wanted}{_type_hint(key, value)}")
    elif kind == "enum":
        choices = ", ".join(repr(c) for c in expected if not (isinstance(c, str) and c.isupper()))
        yield Violation(pointer, f"{_show(value)} is not one of {choices}")
    elif kind == "pattern" and isinstance(key, str) and key in _PATTERN_HINTS:
        yield Violation(pointer, f"{_show(value)} {_PATTERN_HINTS[key]}")
    elif kind == "pattern" and path[:1] == ["callback_allowlist"]:
        yield Violation(pointer, f"{_show(value)} is not a host name or IP address")
    else:
        yield Violation(pointer, error.message)


def _explain_secret(kind: str, expected: Any, value: Any) -> str:
    if kind == "pattern" and isinstance(value, str):
        odd = "" if value.isascii() and value.isalnum() else ", some outside A-Z a-z 0-9"
        return f"must be exactly 43 characters of A-Z a-z 0-9 (got {len(value)}{odd}; value hidden)"
    if kind == "type":
        return f"must be of type {expected!r} (value hidden)"
    if kind in ("minLength", "maxLength"):
        bound = "at least" if kind == "minLength" else "at most"
        return f"must be {bound} {expected} characters (value hidden)"
    return f"invalid value (hidden): fails {kind}"


def _explain_any_of(
    error: ValidationError, pointer: str, key: str | int | None
) -> Iterator[Violation]:
    """For ``working_hours``: the errors of the branch that fits the value's kind."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    fitting = [
        errors
        for errors in branches.values()
        if not any(e.validator in ("type", "enum", "const") and not e.relative_path for e in errors)
    ]
    if len(fitting) == 1:
        for sub in fitting[0]:
            yield from _explain(sub)
        return
    hint = (
        _ANYOF_HINTS.get(key, "does not match any allowed form")
        if isinstance(key, str)
        else "does not match any allowed form"
    )
    yield Violation(pointer, f"{_show(error.instance)} {hint}")


def _schema_violations(document: Mapping[str, Any]) -> list[Violation]:
    found: list[Violation] = []
    for error in _validator().iter_errors(document):
        found.extend(_explain(error))
    return found


_TOKENS: Final = TokenConfig()
_LIMITS: Final = LimitsConfig()


def _non_finite(value: Any, path: list[str | int]) -> Iterator[Violation]:
    # YAML's .nan slips through every minimum/maximum (all comparisons are false)
    if isinstance(value, float) and not math.isfinite(value):
        yield Violation(pointer_of(path), f"{value!r} is not a finite number")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, [*path, index])


def _semantic_violations(doc: Mapping[str, Any]) -> list[Violation]:
    """Rules the schema cannot say; ``doc`` already conforms to the schema."""
    found: list[Violation] = list(_non_finite(doc, []))

    def unique(items: list[Mapping[str, Any]], list_key: str, item_key: str, what: str) -> None:
        first: dict[str, int] = {}
        for index, item in enumerate(items):
            value = item[item_key]
            if value in first:
                found.append(
                    Violation(
                        pointer_of([list_key, index, item_key]),
                        f"duplicate {what} {value!r} (first at /{list_key}/{first[value]})",
                    )
                )
            first.setdefault(value, index)

    unique(doc["credentials"], "credentials", "app_key", "app_key")
    unique(doc["channels"], "channels", "id", "channel id")
    allowlist = doc.get("callback_allowlist")
    for index, channel in enumerate(doc["channels"]):
        hours = channel.get("working_hours")
        if isinstance(hours, Mapping):
            tz = hours.get("timezone", "UTC")
            if resolve_timezone(tz) is None:
                found.append(
                    Violation(
                        pointer_of(["channels", index, "working_hours", "timezone"]),
                        f"unknown time zone {tz!r} (use an IANA name like Asia/Shanghai, UTC, "
                        "or an offset like +08:00)",
                    )
                )
            if hours.get("start", "00:00") == hours.get("end", "24:00") or (
                hours.get("start") == "24:00"
            ):
                found.append(
                    Violation(
                        pointer_of(["channels", index, "working_hours", "end"]),
                        "the window is empty: end must differ from start "
                        "(and start cannot be 24:00)",
                    )
                )
        url = channel.get("callback_url", ECHO)
        if (
            allowlist is not None
            and url != ECHO
            and not _host_allowed(urlsplit(url).hostname, tuple(allowlist))
        ):
            found.append(
                Violation(
                    pointer_of(["channels", index, "callback_url"]),
                    f"host {urlsplit(url).hostname!r} is not in callback_allowlist",
                )
            )
    tokens = doc.get("tokens", {})
    default_ttl = tokens.get("access_token_default_ttl", _TOKENS.access_token_default_ttl)
    max_ttl = tokens.get("access_token_max_ttl", _TOKENS.access_token_max_ttl)
    if default_ttl > max_ttl:
        found.append(
            Violation(
                "/tokens/access_token_default_ttl",
                f"{default_ttl} is more than access_token_max_ttl ({max_ttl})",
            )
        )
    limits = doc.get("limits", {})
    body = limits.get("max_body_bytes", _LIMITS.max_body_bytes)
    file_bytes = limits.get("max_file_bytes", _LIMITS.max_file_bytes)
    # an upload carries the file base64-encoded inside a JSON body: 4/3 of it plus envelope
    needed = -(-file_bytes // 3) * 4 + 4096
    if body < needed:
        found.append(
            Violation(
                "/limits/max_body_bytes",
                f"{body} is too small for a base64-encoded file of max_file_bytes ({file_bytes}): "
                f"needs at least {needed}",
            )
        )
    return found


def _violations(document: Mapping[str, Any]) -> list[Violation]:
    return _schema_violations(document) or _semantic_violations(document)


# --------------------------------------------------------------------------- building


def _build(doc: Mapping[str, Any], source: str) -> Config:
    credentials = tuple(Credential(c["app_key"], c["app_secret"]) for c in doc["credentials"])
    return Config(
        credentials=credentials,
        channels=tuple(_build_channel(c, credentials[0].app_key) for c in doc["channels"]),
        listen=ListenConfig(**doc.get("listen", {})),
        tokens=TokenConfig(**doc.get("tokens", {})),
        poll=PollConfig(**doc.get("poll", {})),
        limits=LimitsConfig(**doc.get("limits", {})),
        delivery=_build_retry(doc.get("delivery", {})),
        journal=JournalConfig(**doc.get("journal", {})),
        admin=AdminConfig(**doc.get("admin", {})),
        callback_allowlist=None
        if doc.get("callback_allowlist") is None
        else tuple(doc["callback_allowlist"]),
        scenario_dirs=tuple(doc.get("scenario_dirs", ())),
        log_level=doc.get("log_level", "info").lower(),
        source=source,
    )


def _build_retry(d: Mapping[str, Any]) -> RetryPolicy:
    base = RetryPolicy()
    return RetryPolicy(
        attempts=d.get("attempts", base.attempts),
        timeout=float(d.get("timeout", base.timeout)),
        backoff_initial=float(d.get("backoff_initial", base.backoff_initial)),
        backoff_factor=float(d.get("backoff_factor", base.backoff_factor)),
        backoff_max=float(d.get("backoff_max", base.backoff_max)),
    )


def _build_hours(value: Any) -> WorkingHours:
    if value == "always":
        return WorkingHours.always()
    if value == "never":
        return WorkingHours.never()
    days = value.get("days", WEEKDAYS)
    return WorkingHours(
        timezone=value.get("timezone", "UTC"),
        # keep the week's order whatever the file's order, so equal windows compare equal
        days=tuple(d for d in WEEKDAYS if d in days),
        start=value.get("start", "00:00"),
        end=value.get("end", "24:00"),
    )


def _build_channel(c: Mapping[str, Any], first_app_key: str) -> ChannelConfig:
    app_key = c.get("app_key", first_app_key)
    idle = c.get("idle_timeout", 120)
    return ChannelConfig(
        id=c["id"],
        app_key=app_key,
        access_key=c.get("access_key", app_key),
        delivery=c.get("delivery", "push"),
        push_mode=c.get("push_mode", "oauth"),
        callback_url=c.get("callback_url", ECHO),
        push_key=c.get("push_key"),
        async_switch=c.get("async_switch", False),
        on_connect=c.get("on_connect", "connected"),
        idle_timeout=None if idle is None else float(idle),
        timeout_scenarios=TimeoutScenarios(**c.get("timeout_scenarios", {})),
        tips=c.get("tips", "{TIPS}"),
        working_hours=_build_hours(c.get("working_hours", "always")),
        robot=c.get("robot", False),
        queue=QueueInfo(**c.get("queue", {})),
        speed=float(c.get("speed", 1.0)),
    )


Positions = Mapping[str, int]


def _line_of(pointer: str, positions: Positions) -> int | None:
    # a pointer into something the file does not spell out (a merged key, a missing
    # value) is placed at its nearest ancestor that the file does spell out
    while pointer not in positions and pointer:
        pointer = pointer.rsplit("/", 1)[0]
    return positions.get(pointer)


def _file_error(source: str, problems: list[Violation], positions: Positions) -> ConfigError:
    located = sorted(
        ((_line_of(v.pointer, positions), v) for v in problems),
        key=lambda item: (item[0] or 0, item[1].pointer),
    )
    first_line, first = located[0]
    reason = str(first)
    for line, violation in located[1:]:
        where = f"{source}:{line}" if line is not None else source
        reason += f"\n{where}: {violation}"
    return ConfigError(source, first_line, reason)


def _override_error(problems: list[Violation], overrides: list[Override]) -> ConfigError:
    blamed = [(", ".join(blame(v.pointer, overrides)), v) for v in problems]
    origin, first = blamed[0]
    reason = str(first)
    for who, violation in blamed[1:]:
        reason += f"\n{who}: {violation}"
    return ConfigError(origin, None, reason)


def parse_config(
    document: Mapping[str, Any],
    source: str = EMBEDDED_SOURCE,
    *,
    positions: Positions | None = None,
) -> Config:
    """Validate a config document and build the :class:`Config`. Pure.

    Raises :class:`ConfigError` listing every violation as ``/pointer: reason``, first
    the one at the lowest line; ``positions`` (JSON pointer → 1-based line, as made by
    :func:`load_config`) supplies the lines.
    """
    problems = _violations(document)
    if problems:
        raise _file_error(source, problems, positions or {})
    return _build(document, source)


# --------------------------------------------------------------------------- the file


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(path, None, f"cannot read the config file: {reason}") from None
    if len(data) > _MAX_FILE_BYTES:
        raise ConfigError(path, None, f"the config file is larger than {_MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(path, line, f"not UTF-8 text (byte {exc.start})") from None


def load_config(
    path: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Read, layer and validate the configuration. The only function here doing I/O.

    ``path`` (else ``environ["AICC_SIM_CONFIG"]``, else the embedded default) is read and
    validated on its own, so its errors carry lines; then ``AICC_SIM_*`` variables from
    ``environ`` and then ``overrides`` (CLI flags: ``host``, ``port``, ``admin_token`` or
    dotted key paths; ``None`` values skipped) are written in and the result validated
    again, errors naming the variable or flag. Raises :class:`ConfigError`.
    """
    env = environ or {}
    path = path or env.get(CONFIG_FILE_VAR) or None
    if path is None:
        source, text = EMBEDDED_SOURCE, embedded_default_text()
    else:
        source, text = path, _read_text(path)
    document, positions = read_config_yaml(text, source)
    config = parse_config(document, source, positions=positions)
    schema = config_schema()
    layered = env_overrides(env, schema) + flag_overrides(overrides or {}, schema)
    if not layered:
        return config
    document = apply_overrides(document, layered)
    problems = _violations(document)
    if problems:
        raise _override_error(problems, layered)
    return _build(document, source)
