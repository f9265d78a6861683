"""Inbound fault rules, pure: the model and parser, the names rules take, the matcher, the store
of rules in force.
The aiohttp side (what a fired rule does, ``/__admin/faults``) is
:mod:`simulator.server.faults`."""

from __future__ import annotations

from simulator.core.faults.matcher import CallView, matches, resolve_pointer
from simulator.core.faults.model import (
    SCHEMA,
    Action,
    FaultKwargs,
    FaultRule,
    Match,
    parse_rule,
    rule_document,
    semantic_violations,
)
from simulator.core.faults.operations import OPERATIONS, name_violations
from simulator.core.faults.store import FaultStore, Installed

__all__ = [
    "OPERATIONS",
    "SCHEMA",
    "Action",
    "CallView",
    "FaultKwargs",
    "FaultRule",
    "FaultStore",
    "Installed",
    "Match",
    "matches",
    "name_violations",
    "parse_rule",
    "resolve_pointer",
    "rule_document",
    "semantic_violations",
]
