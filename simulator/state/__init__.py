"""State that survives a restart (``state.path``): tokens, sessions with their customers'
history and poll queues, uploaded files, left messages and satisfaction ratings, kept in an
SQLite file (WAL mode) by one writer thread and put back when the simulator starts.

- :mod:`~simulator.state.schema`: the file's tables and how it is opened.
- :mod:`~simulator.state.codec`: objects to rows and back (pure).
- :mod:`~simulator.state.changes`: what changed since the last write (the stores' hooks).
- :mod:`~simulator.state.writer`: the writer thread, group commit.
- :mod:`~simulator.state.persister`: snapshots of the changes for the writer, and the
  middleware that answers a request only once its changes are committed.
- :mod:`~simulator.state.restore`, :mod:`~simulator.state.startup`: reading the file back
  into the stores when the app is built.


Import the modules themselves: this package's ``__init__`` imports nothing, so that
``server.app`` can import :mod:`~simulator.state.changes` without importing the server back.
"""

from __future__ import annotations

__all__: list[str] = []
