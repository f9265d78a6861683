"""Messages kept for a customer's history and poll queue, packed: their values in a tuple,
against a tuple of field names shared by every message of the same shape.

A dict of a DownLinkMsg's 12 fields is ~460 bytes, a send-request body's 8 ~270 bytes plus a
string per value; packed, a message is one tuple (~60 bytes, plus 8 per value), and the
values that repeat from customer to customer (``"WEB"``, the control types, the channel
id...) are kept once.
With three pushes and a CONNECT kept per live conversation, this is ~1.5 KiB of each.
Messages are read through the :class:`~collections.abc.Mapping` interface, and rendered back
to a dict (:meth:`PackedMessage.to_dict`) where one is answered.
"""

from __future__ import annotations

import sys
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, Final

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


class _Packed(tuple[Any, ...]):
    """The run-time class of :class:`PackedMessage`: a tuple ``(names, *values)``, so that
    a message is one object (no wrapper around a values tuple: ~50 bytes and one object
    for the garbage collector less per message), read as a mapping of ``names[i]`` to
    ``values[i]``. Registered as a :class:`~collections.abc.Mapping`; orjson encodes only
    exact tuples, so it passes one to its ``default`` like any other mapping."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # a mapping, not a tuple: unhashable

    def __new__(cls, names: tuple[str, ...], values: tuple[Any, ...]) -> _Packed:
        return tuple.__new__(cls, (names, *values))

    def __getnewargs__(self) -> tuple[Any, ...]:
        # copy and pickle rebuild it from (names, values), as __new__ takes them
        return (_item(self, 0), _slice(self, slice(1, None)))

    def __getitem__(self, key: str) -> Any:  # type: ignore[override]
        try:
            return _item(self, _item(self, 0).index(key) + 1)
        except ValueError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default``."""
        names: tuple[str, ...] = _item(self, 0)
        if key in names:
            return _item(self, names.index(key) + 1)
        return default

    def __contains__(self, key: object) -> bool:
        return key in _item(self, 0)

    def __iter__(self) -> Iterator[str]:
        return iter(_item(self, 0))

    def __len__(self) -> int:
        return len(_item(self, 0))

    def keys(self) -> KeysView[str]:
        """The field names, in order."""
        return KeysView(self)

    def values(self) -> ValuesView[Any]:
        """The values, in order."""
        return ValuesView(self)

    def items(self) -> ItemsView[str, Any]:
        """(name, value) pairs, in order."""
        return ItemsView(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return self.to_dict() == dict(other.items())

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def to_dict(self) -> dict[str, Any]:
        """The message as a new dict (what a poll answers)."""
        return dict(zip(_item(self, 0), _slice(self, slice(1, None)), strict=True))

    def __repr__(self) -> str:
        return f"PackedMessage({self.to_dict()!r})"


_item = tuple.__getitem__
_slice = tuple.__getitem__
Mapping.register(_Packed)

if TYPE_CHECKING:

    class PackedMessage(Mapping[str, Any]):
        """A read-only message: ``names[i]`` is ``values[i]``, in the original order."""

        def __init__(self, names: tuple[str, ...], values: tuple[Any, ...]) -> None: ...
        def __getitem__(self, key: str) -> Any: ...
        def __iter__(self) -> Iterator[str]: ...
        def __len__(self) -> int: ...
        def to_dict(self) -> dict[str, Any]:
            """The message as a new dict (what a poll answers)."""
            ...

else:
    PackedMessage = _Packed
    _Packed.__name__ = _Packed.__qualname__ = "PackedMessage"  # as it is imported and pickled


def _shape(names: tuple[str, ...]) -> Shape:
    # positions are of the packed tuple, whose item 0 is the names
    shape = (
        names,
        tuple(i + 1 for i, name in enumerate(names) if name in REPEATED_FIELDS),
        tuple(i + 1 for i, name in enumerate(names) if name in CUSTOMER_FIELDS),
    )
    if len(_shapes) < MAX_SHAPES:
        _shapes[names] = shape
    return shape


def pack(
    message: Mapping[str, Any], customer: str | None = None, *, share: bool = True
) -> PackedMessage:
    """``message`` packed (itself when it already is). ``customer``: the userId string that
    equal ``from`` / ``senderNickname`` values are replaced by. ``share=False`` for a
    scenario's rendered DownLinkMsg: its repeated values are already the scenario's own
    strings, one object each, so only the values are copied."""
    if type(message) is PackedMessage:
        return message
    # this runs for every kept message (each send's body, each pushed DownLinkMsg): one
    # list, fixed in place, becomes the packed tuple (no intermediate tuples)
    keys = tuple(message)
    names, repeated, own = _shapes.get(keys) or _shape(keys)
    items = [names, *message.values()]
    if not share:
        return _new(_Packed, items)  # type: ignore[return-value]
    for i in repeated:
        value = items[i]
        if type(value) is str:
            items[i] = _intern(value)
    if customer is not None:
        for i in own:
            if items[i] == customer:
                items[i] = customer
    return _new(_Packed, items)  # type: ignore[return-value]


_intern = sys.intern
_new = tuple.__new__
