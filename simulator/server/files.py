"""The files capability: uploadFileStream and downloadFileStream (reference §3.5, §3.6),
the temporary ``fileUrl`` link, and the store behind them (customer uploads and the media
ids scenarios push).

Answers as live tenants do where the pages disagree (vendor web-channel pages, part 2, "Evidence
from live tenants", §4, §5.2): an upload answers ``returnCode`` (API reference) and
``resultCode`` + ``resultDesc`` (developer guide) together. A download checks the
requested ``fileType`` against the stored file's and the caller against its owner."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from simulator.core.errors import NotFound
from simulator.server.endpoint import Call, VendorCodes
from simulator.server.http import Outcome, json_response
from simulator.server.live_config import LiveConfig
from simulator.server.reasons import note
from simulator.server.token_store import MessagingToken

__all__ = [
    "DOWNLOAD_CODES",
    "FILES",
    "FILES_PATH",
    "UPLOAD_CODES",
    "FileStore",
    "Files",
    "StoredFile",
    "download_file_stream",
    "file_url",
    "upload_file_stream",
]

# uploadFileStream's codes (reference §3.5); the pages give no texts, these are their meanings
UPLOAD_OK = Outcome("0", "success")
UPLOAD_MISSING = Outcome("2", "parameter missing")
UPLOAD_BAD = Outcome("3", "parameter error")
UPLOAD_FAILED = Outcome("13", "upload failed")

# downloadFileStream's codes and texts, verbatim (reference §3.6)
OBJECT_KEY_NULL = Outcome("401", "objectKey is null!")
PARAM_NULL = Outcome("2", "param channelId or userId or tenantId is null")
FILE_TYPE_OUT_OF_RANGE = Outcome("13", "param filetype Out of range!")
EMPTY_FILE = Outcome("13", "empty file!")
DOWNLOAD_FAILED = Outcome("13", "fsservice downloadFile is failed")
DOWNLOAD_EXCEPTION = Outcome("13", "downloadFileStream exception")

#: uploadFileStream's answers to a body that breaks upload-request (contract.strict off)
UPLOAD_CODES = VendorCodes(
    ("returnCode", "resultCode"),
    missing=(
        ("fileStream", UPLOAD_MISSING),
        ("fileType", UPLOAD_MISSING),
        ("channel", UPLOAD_MISSING),
    ),
    otherwise=UPLOAD_BAD,
)
#: downloadFileStream's answers to a body that breaks download-request (contract.strict off)
DOWNLOAD_CODES = VendorCodes(
    ("resultCode",),
    missing=(
        ("fileId", OBJECT_KEY_NULL),
        ("channel", PARAM_NULL),
        ("fileType", FILE_TYPE_OUT_OF_RANGE),
    ),
    wrong=(("fileType", FILE_TYPE_OUT_OF_RANGE),),
    otherwise=DOWNLOAD_EXCEPTION,
)

#: spellings of one type (the pages write both jpg and jpeg; "bpm" is their typo for bmp)
_SAME_TYPE = {"jpeg": "jpg", "bpm": "bmp"}


def _kind(file_type: str) -> str:
    lower = file_type.lower()
    return _SAME_TYPE.get(lower, lower)


#: where downloadFileStream's temporary ``fileUrl`` links point (served without auth)
FILES_PATH = "/__files"


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One file: its type as given (``jpg``, ``mp4`` …), its bytes, and the customer who
    uploaded it ((channel id, userId); None for scenario media, which anyone may fetch)."""

    file_type: str
    data: bytes
    owner: tuple[str, str] | None = None


class FileStore:
    """Files by id, at most ``capacity_bytes`` in all; the oldest uploads go first."""

    def __init__(
        self,
        capacity_bytes: int = 256 * 1024 * 1024,
        changed: Callable[[str], None] | None = None,
    ) -> None:
        """``changed(file id)``: told each file stored or dropped, for ``state.path``; None
        costs nothing."""
        self._capacity = capacity_bytes
        self._changed = changed
        self._size = 0
        self._files: OrderedDict[str, StoredFile] = OrderedDict()

    def add(self, file_type: str, data: bytes, owner: tuple[str, str] | None = None) -> str:
        """Store an upload; returns its new objectKey (a UUID, as the vendor's example)."""
        key = str(uuid.uuid4())
        self.put(key, file_type, data, owner)
        return key

    def put(
        self, file_id: str, file_type: str, data: bytes, owner: tuple[str, str] | None = None
    ) -> None:
        """Store ``data`` under a given id (scenario media: no owner)."""
        old = self._files.pop(file_id, None)
        if old is not None:
            self._size -= len(old.data)
        self._files[file_id] = StoredFile(file_type, data, owner)
        self._size += len(data)
        if self._changed is not None:
            self._changed(file_id)
        while self._size > self._capacity and len(self._files) > 1:
            dropped_id, dropped = self._files.popitem(last=False)
            self._size -= len(dropped.data)
            if self._changed is not None:
                self._changed(dropped_id)

    def stored(self, file_id: str) -> StoredFile | None:
        """The file stored under exactly ``file_id`` (no prefix rule)."""
        return self._files.get(file_id)

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

    def upload(self, body: Mapping[str, Any], token: MessagingToken) -> dict[str, Any]:
        """uploadFileStream: store the Base64 file for the token's customer and answer its
        objectKey; a refusal has no objectKey (3 bad Base64, 2 empty, 13 too large)."""
        stream = body["fileStream"]
        # strict Base64, as a Java decoder on the vendor's side: Python would accept excess
        # padding ("QUJD=") and quietly decode it
        if len(stream) % 4:
            return _upload_answer(UPLOAD_BAD, "/fileStream", "is not Base64 (length)")
        try:
            data = base64.b64decode(stream, validate=True)
        except (binascii.Error, ValueError):
            return _upload_answer(UPLOAD_BAD, "/fileStream", "is not Base64")
        if not data:  # an empty stream is refused by the schema first (UPLOAD_CODES: 2);
            # kept so that the answer cannot depend on the schema's minLength
            return _upload_answer(UPLOAD_MISSING, "/fileStream", "holds no bytes")
        limit = self._live.current.limits.max_file_bytes
        if len(data) > limit:
            return _upload_answer(
                UPLOAD_FAILED, "/fileStream", f"is {len(data)} bytes, more than {limit}"
            )
        key = self.store.add(body["fileType"], data, (token.channel_id, token.user_id))
        return {**_upload_answer(UPLOAD_OK), "objectKey": key}

    def download(self, body: Mapping[str, Any], token: MessagingToken) -> dict[str, Any]:
        """downloadFileStream: a stored file as Base64, and its temporary link. Only its
        uploader or anyone (scenario media) may fetch it, as the type it was stored as."""
        file_id = body["fileId"]
        found = self.store.get(file_id)
        if found is None or not found.data:
            return _refusal(EMPTY_FILE, "/fileId", f"no file {file_id!r}")
        if found.owner is not None and found.owner != (token.channel_id, token.user_id):
            # answered as if it did not exist: another customer's file is not shown
            return _refusal(EMPTY_FILE, "/fileId", f"file {file_id!r} is another customer's")
        if _kind(body["fileType"]) != _kind(found.file_type):
            return _refusal(
                FILE_TYPE_OUT_OF_RANGE,
                "/fileType",
                f"file {file_id!r} was stored as {found.file_type!r}, not {body['fileType']!r}",
            )
        limit = self._live.current.limits.max_file_bytes
        if len(found.data) > limit:
            return _refusal(
                DOWNLOAD_FAILED, "/fileId", f"is {len(found.data)} bytes, more than {limit}"
            )
        return {
            "resultCode": "0",
            "resultDesc": "",
            "fileStream": base64.b64encode(found.data).decode("ascii"),
            "fileUrl": f"{self._base_url}{FILES_PATH}/{quote(file_id, safe='')}",
        }


def _violations(pointer: str | None, message: str) -> dict[str, Any]:
    # the simulator's addition beside the vendor's fields: why, as a 400 would say it
    if pointer is None:
        return {}
    return {"violations": [{"pointer": pointer, "message": message}]}


def _upload_answer(
    outcome: Outcome, pointer: str | None = None, message: str = ""
) -> dict[str, Any]:
    """An upload answer in both pages' spellings: ``returnCode`` (API reference) and
    ``resultCode`` + ``resultDesc`` (developer guide), as a live tenant answers."""
    if pointer is not None:
        note(f"{pointer} {message}")
    return {
        "returnCode": outcome.code,
        "resultCode": outcome.code,
        "resultDesc": outcome.desc,
        **_violations(pointer, message),
    }


def _refusal(outcome: Outcome, pointer: str, message: str) -> dict[str, Any]:
    note(f"{pointer} {message}")
    return {"resultCode": outcome.code, "resultDesc": outcome.desc, **_violations(pointer, message)}


#: the application's files capability
FILES = web.AppKey("files", Files)


async def upload_file_stream(request: web.Request, call: Call) -> web.Response:
    """uploadFileStream (reference §3.5)."""
    assert call.token is not None  # Auth.SESSION
    return json_response(request.app[FILES].upload(call.body, call.token))


async def download_file_stream(request: web.Request, call: Call) -> web.Response:
    """downloadFileStream (reference §3.6)."""
    assert call.token is not None  # Auth.SESSION
    return json_response(request.app[FILES].download(call.body, call.token))


async def file_url(request: web.Request, call: Call) -> web.Response:
    """The temporary view link downloadFileStream answers as ``fileUrl`` (§3.6): the file's
    bytes, no auth (it is a link to hand to a browser)."""
    file_id = request.match_info["fileId"]
    found = request.app[FILES].store.get(file_id)
    if found is None:
        raise NotFound(f"no file {file_id!r}")
    kind = mimetypes.types_map.get("." + found.file_type.lower(), "application/octet-stream")
    return web.Response(body=found.data, content_type=kind)
