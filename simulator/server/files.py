"""Files the simulator can serve: customer uploads and the media ids scenarios push."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["FileStore", "StoredFile"]


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One file: its type as given (``jpg``, ``mp4`` …) and its bytes."""

    file_type: str
    data: bytes


class FileStore:
    """Files by id, at most ``capacity_bytes`` in all; the oldest uploads go first."""

    def __init__(self, capacity_bytes: int = 256 * 1024 * 1024) -> None:
        self._capacity = capacity_bytes
        self._size = 0
        self._files: OrderedDict[str, StoredFile] = OrderedDict()

    def add(self, file_type: str, data: bytes) -> str:
        """Store an upload; returns its new objectKey (a UUID, as the vendor's example)."""
        key = str(uuid.uuid4())
        self.put(key, file_type, data)
        return key

    def put(self, file_id: str, file_type: str, data: bytes) -> None:
        """Store ``data`` under a given id (scenario media)."""
        old = self._files.pop(file_id, None)
        if old is not None:
            self._size -= len(old.data)
        self._files[file_id] = StoredFile(file_type, data)
        self._size += len(data)
        while self._size > self._capacity and len(self._files) > 1:
            _, dropped = self._files.popitem(last=False)
            self._size -= len(dropped.data)

    def get(self, file_id: str) -> StoredFile | None:
        """The file called ``file_id``; a ``local/`` prefix (reference §3.6) is ignored."""
        found = self._files.get(file_id)
        if found is None and file_id.startswith("local/"):
            found = self._files.get(file_id[len("local/") :])
        return found

    def __len__(self) -> int:
        return len(self._files)

    def clear(self) -> None:
        """Forget every file."""
        self._files.clear()
        self._size = 0
