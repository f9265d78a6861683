"""What changed since the last write: the hooks the stores call (``changed=``), kept as
sets of keys. Marking is a set insertion and a counter; the values are looked up when the
changes are written, so a key changed twice between writes is written once."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["Changes"]


class Changes:
    """Keys changed since the last :meth:`take`; :attr:`version` counts every mark (the
    middleware compares it around a request to know whether the request changed
    anything) and :attr:`marked` is set on each one (the background flush waits on it)."""

    def __init__(self) -> None:
        self.version = 0
        self.marked = asyncio.Event()
        self.tokens: set[tuple[str, str]] = set()
        self.customers: set[tuple[str, str]] = set()
        self.files: set[str] = set()
        self.left: list[dict[str, Any]] = []
        #: a reset happened: the file is emptied before the marks that follow are written
        self.wiped = False

    def _mark(self) -> None:
        self.version += 1
        self.marked.set()

    def token(self, kind: str, value: str) -> None:
        """A token was issued, renewed or forgotten (``TokenStore(changed=...)``)."""
        self.tokens.add((kind, value))
        self._mark()

    def customer(self, key: tuple[str, str]) -> None:
        """A customer's session or history changed or was forgotten
        (``SessionStore(changed=...)``, and every request with a ccmessaging-token)."""
        self.customers.add(key)
        self._mark()

    def file(self, file_id: str) -> None:
        """A file was stored or dropped (``FileStore(changed=...)``)."""
        self.files.add(file_id)
        self._mark()

    def leave(self, message: dict[str, Any]) -> None:
        """A message was left (``LeaveMessages(left=...)``)."""
        self.left.append(message)
        self._mark()

    def wipe(self) -> None:
        """Everything was forgotten (admin reset): earlier marks no longer matter."""
        self.tokens.clear()
        self.customers.clear()
        self.files.clear()
        self.left.clear()
        self.wiped = True
        self._mark()
