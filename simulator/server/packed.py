"""Messages kept for a customer's history and poll queue, packed: their values in a tuple,
against a tuple of field names shared by every message of the same shape.

A dict of a DownLinkMsg's 12 fields is ~460 bytes, a send-request body's 8 ~270 bytes plus a
string per value; packed, a message is ~60 bytes plus its values, and the values that repeat
from customer to customer (``"WEB"``, the control types, the channel id...) are kept once.
With three pushes and a CONNECT kept per live conversation, this is ~1.5 KiB of each.
Messages are read through the :class:`~collections.abc.Mapping` interface, and rendered back
to a dict (:meth:`PackedMessage.to_dict`) where one is answered.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any, Final

__all__ = ["PackedMessage", "pack"]

#: fields whose values repeat across customers: one string object each (``sys.intern``;
#: interned strings are freed with their last reference, so this does not grow for ever)
REPEATED_FIELDS: Final = frozenset({"channel", "controlType", "mediaType", "sourceType", "to"})
#: fields that usually name the customer: their value is the session's own userId string
#: when equal to it (not a copy per message)
CUSTOMER_FIELDS: Final = frozenset({"from", "senderNickname"})
#: shapes remembered (a scenario with ``fields:`` of its own makes more); beyond, a new
#: shape's names are simply not shared
MAX_SHAPES: Final = 1024

Shape = tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]
#: field names -> (the shared names, the positions of REPEATED_FIELDS, of CUSTOMER_FIELDS)
_shapes: dict[tuple[str, ...], Shape] = {}


class PackedMessage(Mapping[str, Any]):
    """A read-only message: ``names[i]`` is ``values[i]``, in the original order."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: tuple[str, ...], values: tuple[Any, ...]) -> None:
        self._names = names
        self._values = values

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[self._names.index(key)]
        except ValueError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` (without raising and catching a KeyError)."""
        if key in self._names:
            return self._values[self._names.index(key)]
        return default

    def __contains__(self, key: object) -> bool:
        return key in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def to_dict(self) -> dict[str, Any]:
        """The message as a new dict (what a poll answers)."""
        return dict(zip(self._names, self._values, strict=True))

    def __repr__(self) -> str:
        return f"PackedMessage({self.to_dict()!r})"


def _shape(names: tuple[str, ...]) -> Shape:
    shape = _shapes.get(names)
    if shape is None:
        shape = (
            names,
            tuple(i for i, name in enumerate(names) if name in REPEATED_FIELDS),
            tuple(i for i, name in enumerate(names) if name in CUSTOMER_FIELDS),
        )
        if len(_shapes) < MAX_SHAPES:
            _shapes[names] = shape
    return shape


def pack(message: Mapping[str, Any], customer: str | None = None) -> PackedMessage:
    """``message`` packed (itself when it already is); ``customer``: the userId string that
    equal ``from`` / ``senderNickname`` values are replaced by."""
    if type(message) is PackedMessage:
        return message
    names, repeated, own = _shape(tuple(message))
    if not repeated and (customer is None or not own):
        return PackedMessage(names, tuple(message.values()))
    values = list(message.values())
    for i in repeated:
        value = values[i]
        if type(value) is str:
            values[i] = sys.intern(value)
    if customer is not None:
        for i in own:
            if values[i] == customer:
                values[i] = customer
    return PackedMessage(names, tuple(values))
