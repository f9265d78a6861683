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

The model lives in :mod:`simulator.config.model`, the checks in
:mod:`simulator.config.checks`, the YAML, env and flag sources in
:mod:`simulator.config.sources`; this module builds and loads, and is where to import from.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any, Final

from simulator.config.checks import config_schema, violations
from simulator.config.features import ClickToCallConfig, PhraseConfig, SatisfactionConfig
from simulator.config.model import (
    EMBEDDED_SOURCE,
    WEEKDAYS,
    AdminConfig,
    ChannelConfig,
    Config,
    ContractConfig,
    Credential,
    HistoryConfig,
    JournalConfig,
    LimitsConfig,
    ListenConfig,
    PollConfig,
    QueueInfo,
    StateConfig,
    TimeoutScenarios,
    TokenConfig,
    WorkingHours,
)
from simulator.config.sources import (
    CONFIG_FILE_VAR,
    Override,
    apply_overrides,
    blame,
    env_overrides,
    flag_overrides,
    read_config_yaml,
)
from simulator.core.errors import ConfigError, Violation
from simulator.core.push import RetryPolicy
from simulator.core.yamlsource import line_of

__all__ = [
    "embedded_default_text",
    "file_violations",
    "load_config",
    "override_config",
    "parse_config",
]

#: Hostile files: a size cap.
_MAX_FILE_BYTES: Final = 4 * 1024 * 1024


# --------------------------------------------------------------------------- building


def _build(doc: Mapping[str, Any], source: str) -> Config:
    credentials = tuple(Credential(c["app_key"], c["app_secret"]) for c in doc["credentials"])
    allowlist = doc.get("callback_allowlist")
    return Config(
        credentials=credentials,
        channels=tuple(_build_channel(c, credentials[0].app_key) for c in doc["channels"]),
        listen=ListenConfig(**doc.get("listen", {})),
        tokens=TokenConfig(**doc.get("tokens", {})),
        poll=PollConfig(**doc.get("poll", {})),
        limits=LimitsConfig(**doc.get("limits", {})),
        delivery=_build_retry(doc.get("delivery", {})),
        journal=JournalConfig(**doc.get("journal", {})),
        state=StateConfig(**doc.get("state", {})),
        admin=AdminConfig(**doc.get("admin", {})),
        contract=ContractConfig(**doc.get("contract", {})),
        history=HistoryConfig(**doc.get("history", {})),
        callback_allowlist=None if allowlist is None else tuple(allowlist),
        scenario_dirs=tuple(doc.get("scenario_dirs", ())),
        log_level=doc.get("log_level", "info").lower(),
        faults=tuple(doc.get("faults", ())),
        source=source,
    )


#: The RetryPolicy settings that are counts; the others are seconds or factors.
_RETRY_COUNTS: Final = frozenset({"attempts", "max_backlog", "max_connections_per_host"})


def _build_retry(d: Mapping[str, Any]) -> RetryPolicy:
    # seconds and factors are floats even where YAML gave an int
    given: dict[str, Any] = {k: v if k in _RETRY_COUNTS else float(v) for k, v in d.items()}
    return RetryPolicy(**given)


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


#: Channel keys taken as written; a key left out takes ChannelConfig's default.
_PLAIN_CHANNEL_KEYS: Final = (
    "delivery",
    "push_mode",
    "callback_url",
    "push_key",
    "async_switch",
    "on_connect",
    "tips",
    "robot",
    "ca_bundle",
    "client_cert",
    "client_key",
)


def _build_channel(c: Mapping[str, Any], first_app_key: str) -> ChannelConfig:
    app_key = c.get("app_key", first_app_key)
    given: dict[str, Any] = {key: c[key] for key in _PLAIN_CHANNEL_KEYS if key in c}
    if "idle_timeout" in c:
        idle = c["idle_timeout"]
        given["idle_timeout"] = None if idle is None else float(idle)
    if "speed" in c:
        given["speed"] = float(c["speed"])
    if "timeout_scenarios" in c:
        given["timeout_scenarios"] = TimeoutScenarios(**c["timeout_scenarios"])
    if "working_hours" in c:
        given["working_hours"] = _build_hours(c["working_hours"])
    if "queue" in c:
        given["queue"] = QueueInfo(**c["queue"])
    if "satisfaction" in c:
        given["satisfaction"] = SatisfactionConfig.from_document(c["satisfaction"])
    if "phrases" in c:
        given["phrases"] = PhraseConfig.from_document(c["phrases"])
    if "click_to_call" in c:
        given["click_to_call"] = ClickToCallConfig.from_document(c["click_to_call"])
    return ChannelConfig(
        id=c["id"], app_key=app_key, access_key=c.get("access_key", app_key), **given
    )


Positions = Mapping[str, int]


def file_violations(
    document: Mapping[str, Any], positions: Positions
) -> list[tuple[int | None, Violation]]:
    """Every problem of a config file's document with its line, in line order: what
    ``serve --config`` refuses and ``validate --schema config`` prints, in the same words."""
    return sorted(
        ((line_of(v.pointer, positions), v) for v in violations(document)),
        key=lambda item: (item[0] or 0, item[1].pointer),
    )


def _file_error(source: str, located: list[tuple[int | None, Violation]]) -> ConfigError:
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
    located = file_violations(document, positions or {})
    if located:
        raise _file_error(source, located)
    return _build(document, source)


def override_config(document: Mapping[str, Any], source: str, overrides: list[Override]) -> Config:
    """The valid ``document`` with ``overrides`` written in (the one writer,
    :func:`~simulator.config.sources.apply_overrides`), validated again. Pure.

    Every source of overrides ends here: ``AICC_SIM_*`` variables and flags
    (:func:`load_config`) and the pytest plugin's layers. Raises :class:`ConfigError`
    naming the override to blame for each violation.
    """
    if not overrides:
        return parse_config(document, source)
    written = apply_overrides(document, overrides)
    problems = violations(written)
    if problems:
        raise _override_error(problems, overrides)
    return _build(written, source)


# --------------------------------------------------------------------------- the file


def embedded_default_text() -> str:
    """The YAML text of the embedded default configuration."""
    return (resources.files("simulator.config") / "default.yaml").read_text("utf-8")


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
    return override_config(document, source, layered)
