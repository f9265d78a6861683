"""Configuration: what the simulator is told, and how.

``model`` (the typed, frozen settings), ``checks`` (the schema and the rules it cannot say),
``sources`` (YAML text, env vars, flags and pytest layers, all written by one writer),
``loading`` (YAML or the embedded default to :class:`Config`, overrides applied) and
``default.yaml`` (the embedded default).
"""

from simulator.config.loading import (
    ECHO,
    EMBEDDED_SOURCE,
    AdminConfig,
    ChannelConfig,
    Config,
    Credential,
    Delivery,
    JournalConfig,
    LimitsConfig,
    ListenConfig,
    PollConfig,
    QueueInfo,
    TimeoutScenarios,
    TokenConfig,
    Weekday,
    WorkingHours,
    config_schema,
    embedded_default_text,
    load_config,
    mapping_overrides,
    override_config,
    parse_config,
    resolve_timezone,
)

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
    "mapping_overrides",
    "override_config",
    "parse_config",
    "resolve_timezone",
]
