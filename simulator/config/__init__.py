"""Configuration: what the simulator is told, and how.

``model`` (the typed, frozen settings), ``checks`` (the schema and the rules it cannot say),
``sources`` (YAML text, env vars, flags and pytest layers, all written by one writer),
``loading`` (YAML or the embedded default to :class:`Config`, overrides applied) and
``default.yaml`` (the embedded default).
"""

from simulator.config import model
from simulator.config.checks import config_schema
from simulator.config.loading import (
    embedded_default_text,
    load_config,
    override_config,
    parse_config,
)
from simulator.config.model import *  # noqa: F403 (every name of the model is this package's)
from simulator.config.sources import mapping_overrides

#: the model's names (written once, in model.py) and the functions that make a Config
__all__ = [
    *model.__all__,
    "config_schema",
    "embedded_default_text",
    "load_config",
    "mapping_overrides",
    "override_config",
    "parse_config",
]
