"""The files capability: uploadFileStream and downloadFileStream (reference §3.5, §3.6),
the temporary ``fileUrl`` link, and the store behind them (customer uploads and the media
ids scenarios push)."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from simulator.core.errors import NotFound
from simulator.server.endpoint import Call
from simulator.server.http import json_response
from simulator.server.live_config import LiveConfig

__all__ = [
    "FILES",
    "FILES_PATH",
    "FileStore",
    "Files",
    "StoredFile",
    "download_file_stream",
    "file_url",
    "upload_file_stream",
]

#: where downloadFileStream's temporary ``fileUrl`` links point (served without auth)
FILES_PATH = "/__files"


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


class Files:
    """Uploads and downloads on a :class:`FileStore`, within ``limits.max_file_bytes``."""

    def __init__(self, live: LiveConfig, store: FileStore, *, base_url: str) -> None:
        self._live = live
        self.store = store
        self._base_url = base_url.rstrip("/")

    def upload(self, body: Mapping[str, Any]) -> dict[str, str]:
        """uploadFileStream: store the Base64 file, answer its objectKey (a failure has only
        its returnCode: 3 bad Base64, 2 empty, 13 too large)."""
        stream = body["fileStream"]
        # strict Base64, as a Java decoder on the vendor's side: Python would accept excess
        # padding ("QUJD=") and quietly decode it
        if len(stream) % 4:
            return {"returnCode": "3"}
        try:
            data = base64.b64decode(stream, validate=True)
        except (binascii.Error, ValueError):
            return {"returnCode": "3"}
        if not data:
            return {"returnCode": "2"}
        if len(data) > self._live.current.limits.max_file_bytes:
            return {"returnCode": "13"}
        return {"returnCode": "0", "objectKey": self.store.add(body["fileType"], data)}

    def download(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """downloadFileStream: a stored file as Base64, and its temporary link."""
        found = self.store.get(body["fileId"])
        if found is None or not found.data:
            return {"resultCode": "13", "resultDesc": "empty file!"}
        if len(found.data) > self._live.current.limits.max_file_bytes:
            return {"resultCode": "13", "resultDesc": "fsservice downloadFile is failed"}
        return {
            "resultCode": "0",
            "resultDesc": "",
            "fileStream": base64.b64encode(found.data).decode("ascii"),
            "fileUrl": f"{self._base_url}{FILES_PATH}/{quote(body['fileId'], safe='')}",
        }


#: the application's files capability
FILES = web.AppKey("files", Files)


async def upload_file_stream(request: web.Request, call: Call) -> web.Response:
    """uploadFileStream (reference §3.5)."""
    return json_response(request.app[FILES].upload(call.body))


async def download_file_stream(request: web.Request, call: Call) -> web.Response:
    """downloadFileStream (reference §3.6)."""
    return json_response(request.app[FILES].download(call.body))


async def file_url(request: web.Request, call: Call) -> web.Response:
    """The temporary view link downloadFileStream answers as ``fileUrl`` (§3.6): the file's
    bytes, no auth (it is a link to hand to a browser)."""
    file_id = request.match_info["fileId"]
    found = request.app[FILES].store.get(file_id)
    if found is None:
        raise NotFound(f"no file {file_id!r}")
    kind = mimetypes.types_map.get("." + found.file_type.lower(), "application/octet-stream")
    return web.Response(body=found.data, content_type=kind)
