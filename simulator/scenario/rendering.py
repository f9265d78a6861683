"""How a run renders its messages: the built-in variables (userId, now_ms, messageIds...),
the scenario's and the run's variables, messageCodes and the run's randomness."""

from __future__ import annotations

import random
from typing import Any

from simulator.scenario.context import RunContext
from simulator.scenario.model import BUILTIN_VARIABLES, MessageSpec, Scenario
from simulator.scenario.templating import PLAIN_TYPES, render_value

__all__ = ["Renderer"]

_SHARED_RANDOM = random.Random()


class Renderer:
    """The rendering half of :class:`~simulator.scenario.engine.ScenarioRun` (which holds
    the state named here, in its own ``__slots__``)."""

    __slots__ = ("_rng",)

    context: RunContext
    scenario: Scenario
    _rng: random.Random | None
    _vars: dict[str, Any] | None
    _ids: list[str] | None
    _last_message: str | None
    _last_control: str | None

    def _random(self) -> random.Random:
        if self.context.seed is None:
            return _SHARED_RANDOM
        if self._rng is None:
            self._rng = random.Random(self.context.seed)
        return self._rng

    def _lookup(self, name: str) -> Any:
        if name in BUILTIN_VARIABLES:
            return self._builtin(name, None, None)
        if self._vars is not None and name in self._vars:
            return self._vars[name]
        if name in self.context.vars:
            return self.context.vars[name]
        return self.scenario.vars[name]

    def _builtin(self, name: str, wall: int | None, code: str | None) -> Any:
        if name == "userId":
            return self.context.user_id
        if name == "channelId":
            return self.context.channel_id
        if name == "now_ms":
            return wall if wall is not None else self.context.wall_ms()
        if name == "messageCode":
            return code if code is not None else self._message_code()
        if name == "tips":
            return self.context.tips
        if name == "messageIds":
            return ",".join(self._ids) if self._ids else ""
        if name == "lastMessage":
            return self._last_message if self._last_message is not None else ""
        if name == "idleTimeout":
            return self.context.idle_timeout
        return self._last_control if self._last_control is not None else ""

    def _message_code(self) -> str:
        return f"{self._random().getrandbits(128):032x}"

    def _render(self, spec: MessageSpec, wall: int) -> dict[str, Any]:
        code = self._message_code() if spec.reads_message_code else None

        def lookup(name: str) -> Any:
            if name in BUILTIN_VARIABLES:
                return self._builtin(name, wall, code)
            return self._lookup(name)

        # most fields are constant scalars (source type, channel, nickname...): taken as they
        # are, without a render_value call each (8 of 11 fields of a typical push)
        return {
            name: value if type(value) in PLAIN_TYPES else render_value(value, lookup)
            for name, value in spec.fields
        }
