"""Inbound faults: rules that make the emulated AICC fail, stall or answer otherwise.

- :mod:`~simulator.core.faults.model`: the rule and its parser (``fault-rule`` schema);
- :mod:`~simulator.core.faults.matcher`: does a call meet a rule's conditions (pure);
- :mod:`~simulator.core.faults.store`: the rules in force, counting, lifetimes;
- :mod:`~simulator.server.faults.actions`: what a fired rule does, over aiohttp;
- :mod:`~simulator.server.faults.routes`: ``/__admin/faults``.

``create_app`` builds the store (:func:`fault_store`) before the runs, gives the conductor
:func:`from_scenario` for the ``fault:`` steps, and adds :data:`routes`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from simulator.core.clock import Clock
from simulator.core.faults.model import FaultRule, parse_rule, rule_document
from simulator.core.faults.store import FaultStore
from simulator.core.validation import SchemaStore

__all__ = [
    "FAULTS",
    "FaultRule",
    "FaultStore",
    "fault_store",
    "from_scenario",
    "parse_rule",
    "rule_document",
]

#: the application's rules in force
FAULTS = web.AppKey("faults", FaultStore)


def fault_store(rules: Iterable[object], store: SchemaStore, clock: Clock) -> FaultStore:
    """The rule store of an application, with ``rules`` (documents, e.g. the config's
    ``faults:`` and ``serve --fault``) in force; ``until`` runs on ``clock``."""
    faults = FaultStore(clock)
    for document in rules:
        faults.add(parse_rule(document, store), "start-up")
    return faults


def from_scenario(faults: FaultStore, store: SchemaStore) -> Callable[[dict[str, Any]], None]:
    """What the conductor calls with each ``fault:`` step a run reaches: the rule goes in
    force (it was checked when the scenario was loaded, so parsing cannot fail here)."""

    def add(document: dict[str, Any]) -> None:
        faults.add(parse_rule(document, store), "scenario")

    return add
