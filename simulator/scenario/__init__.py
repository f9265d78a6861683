"""Scenarios: YAML conversations played towards a customer session as timed pushes.

The facade of the package. ``loader`` reads and checks files (``file:line`` errors),
``compiler`` turns checked data into a shared :class:`Scenario`, ``engine`` runs it as a pure
state machine driven by the caller's clock, ``timeline`` drives it in virtual time,
``templating`` is the ``{{ var }}`` substitution.
"""

from simulator.scenario.context import ExpectTimeout
from simulator.scenario.engine import Advance, RunContext, ScenarioRun, Uplink
from simulator.scenario.loader import (
    builtin_directory,
    builtin_names,
    load,
    load_builtin,
    load_library,
    load_path,
    load_text,
)
from simulator.scenario.model import BUILTIN_VARIABLES, CustomerUplink, MediaFile, Scenario
from simulator.scenario.timeline import TimedPush, simulate

__all__ = [
    "BUILTIN_VARIABLES",
    "Advance",
    "CustomerUplink",
    "ExpectTimeout",
    "MediaFile",
    "RunContext",
    "Scenario",
    "ScenarioRun",
    "TimedPush",
    "Uplink",
    "builtin_directory",
    "builtin_names",
    "load",
    "load_builtin",
    "load_library",
    "load_path",
    "load_text",
    "simulate",
]
