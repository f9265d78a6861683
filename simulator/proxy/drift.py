"""The contract drift report: every field, code or shape the tenant produced that the
schemas refuse, and every request the integration sent that the contract refuses.

One line per distinct finding (side, what, endpoint, JSON pointer, message), counted, with
when it was first and last seen. Messages never quote the refused values (a schema message
would: a token, a customer's text): :func:`~simulator.core.redaction.hide_values` removes
every string of the refused document from them first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from simulator.core.errors import Violation
from simulator.core.redaction import hide_values, mask_text, string_leaves

__all__ = ["DriftItem", "DriftReport", "Side"]

#: who produced what the contract refuses
Side = Literal["tenant", "integration"]
#: the most distinct findings kept (a tenant drifting on every call must not grow memory)
MAX_ITEMS = 1000


@dataclass(slots=True)
class DriftItem:
    """One distinct finding and how often it was seen."""

    side: Side
    what: str
    """``request``, ``response``, ``push``, ``push-auth``, ``push-answer``, ``endpoint``."""
    endpoint: str
    schema: str | None
    pointer: str
    message: str
    count: int
    first_at: int
    last_at: int

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``/__admin/drift``)."""
        return {
            "side": self.side,
            "what": self.what,
            "endpoint": self.endpoint,
            "schema": self.schema,
            "pointer": self.pointer,
            "message": self.message,
            "count": self.count,
            "firstAt": self.first_at,
            "lastAt": self.last_at,
        }


class DriftReport:
    """The findings of one proxy run, in the order first seen."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str, str, str, str], DriftItem] = {}
        self.checked = 0
        """Messages checked (calls both ways, pushes)."""
        self.overflow = 0
        """Findings not kept because :data:`MAX_ITEMS` distinct ones were already kept."""

    def __len__(self) -> int:
        return len(self._items)

    def add(
        self,
        side: Side,
        what: str,
        endpoint: str,
        violations: Iterable[Violation],
        *,
        at: int,
        schema: str | None = None,
        document: Any = None,
    ) -> None:
        """Count ``violations`` (their messages stripped of ``document``'s strings)."""
        hidden = string_leaves(document) if document is not None else set()
        for violation in violations:
            message = mask_text(hide_values(violation.message, hidden))
            key = (side, what, endpoint, violation.pointer, message)
            item = self._items.get(key)
            if item is not None:
                item.count += 1
                item.last_at = at
            elif len(self._items) >= MAX_ITEMS:
                self.overflow += 1
            else:
                self._items[key] = DriftItem(
                    side, what, endpoint, schema, violation.pointer, message, 1, at, at
                )

    def items(self) -> list[DriftItem]:
        """Every finding, first seen first."""
        return list(self._items.values())

    def clear(self) -> None:
        """Forget every finding."""
        self._items.clear()
        self.checked = 0
        self.overflow = 0

    def to_json(self) -> dict[str, Any]:
        """The body of ``GET /__admin/drift``."""
        items = self.items()
        return {
            "checked": self.checked,
            "findings": len(items),
            "tenant": sum(1 for i in items if i.side == "tenant"),
            "integration": sum(1 for i in items if i.side == "integration"),
            "overflow": self.overflow,
            "items": [item.to_json() for item in items],
        }

    def summary_lines(self) -> list[str]:
        """The summary printed when the proxy stops."""
        items = self.items()
        if not items:
            return [f"aicc-sim proxy: no contract drift in {self.checked} checked messages"]
        findings = "finding" if len(items) == 1 else "findings"
        lines = [
            f"aicc-sim proxy: {len(items)} contract drift {findings} in {self.checked} "
            "checked messages:"
        ]
        for item in items:
            where = f" {item.pointer}" if item.pointer else ""
            lines.append(
                f"  {item.side} {item.what} {item.endpoint}{where}: {item.message} "
                f"(x{item.count})"
            )
        if self.overflow:
            lines.append(f"  ... and {self.overflow} more not kept")
        return lines
