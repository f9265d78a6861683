"""Inbound faults: rules that make the emulated AICC fail, stall or answer otherwise.

- :mod:`~simulator.core.faults.model`: the rule and its parser (``fault-rule`` schema);
- :mod:`~simulator.core.faults.matcher`: does a call meet a rule's conditions (pure);
- :mod:`~simulator.core.faults.store`: the rules in force, counting, lifetimes;
- :mod:`~simulator.server.faults.actions`: what a fired rule does, over aiohttp;
- :mod:`~simulator.server.faults.routes`: ``/__admin/faults``.

:func:`install` wires them into an application (one line in ``create_app``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator.core.clock import epoch_ms
from simulator.core.faults.model import FaultRule, parse_rule, rule_document
from simulator.core.faults.store import FaultStore
from simulator.core.validation import SchemaStore
from simulator.server.keys import AICC

__all__ = ["FAULTS", "FaultRule", "FaultStore", "install", "parse_rule", "rule_document"]

#: the application's rules in force
FAULTS = web.AppKey("faults", FaultStore)


def install(app: web.Application, rules: tuple[object, ...], store: SchemaStore) -> FaultStore:
    """Give ``app`` its rule store, with ``rules`` (documents, e.g. the config's ``faults:``)
    in force, and the ``/__admin/faults`` routes."""
    from simulator.server.faults.routes import routes

    faults = FaultStore(epoch_ms)
    for document in rules:
        faults.add(parse_rule(document, store))
    app[FAULTS] = faults
    app.add_routes(routes)

    def from_scenario(document: dict[str, Any]) -> None:
        # checked when the scenario was loaded, so this cannot fail on the document
        faults.add(parse_rule(document, store))

    app[AICC].conductor.on_fault = from_scenario
    return faults
