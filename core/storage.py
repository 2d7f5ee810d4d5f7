"""Binary objects (photos, PDFs, ledger scans) behind one small interface.

Keys are relative, "/"-separated paths made only of `[A-Za-z0-9._-]` segments; `key_for`
builds content-addressed ones. The content type is returned in `StoredObject` for the
caller to record next to the key (an attachment row); the local backend does not keep it.

Backends: `STORAGE_BACKEND=local` (the default) writes under `STORAGE_DIR`, or
`DATA_DIR/files` when that is unset. Several web machines share it through a network mount.
An S3-compatible backend plugs in at `_build` below (see the note there); nothing outside
this module needs to change.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable
from uuid import UUID

import anyio
from anyio.to_thread import run_sync

from core.i18n import gettext as _
from core.problems import NotFound
from core.settings import get_settings

CHUNK_SIZE = 256 * 1024
MAX_KEY_LENGTH = 1024
TEMP_SUFFIX = ".part"  # temp files are ".<name>.<random>.part"; keys never start with "."
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,254}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[a-z0-9]{1,10}")


class InvalidKey(ValueError):
    """A key that is malformed or would escape the storage root (a programming error:
    keys are built by the application, never taken from a request)."""


class ObjectNotFound(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__(_("The file was not found."))
        self.key = key


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    sha256: str
    content_type: str


@runtime_checkable
class Storage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        """Store `data` under `key`, replacing any previous object, all or nothing."""

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes],
                         content_type: str) -> StoredObject:
        """Like `put` for large uploads; if `chunks` fails, nothing is stored."""

    async def get(self, key: str) -> bytes:
        """The whole object; `ObjectNotFound` when missing."""

    async def open(self, key: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """`ObjectNotFound` now when missing, else an iterator of chunks (run it to the end
        or `aclose()` it)."""

    async def size(self, key: str) -> int: ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> bool:
        """Remove the object; False when there was none."""

    async def url_for(self, key: str, *, expires_in: int = 300) -> str | None:
        """A short-lived URL the client may fetch directly, or None when the application must
        stream the object itself (after its own permission checks)."""


def check_key(key: str) -> str:
    """`key` unchanged when it is a safe relative key, else `InvalidKey` saying why."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("storage key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"storage key longer than {MAX_KEY_LENGTH} characters")
    if "\x00" in key:
        raise InvalidKey(f"storage key {key!r} contains a NUL character")
    if "\\" in key:
        raise InvalidKey(f"storage key {key!r} contains a backslash; use '/'")
    if key.startswith("/"):
        raise InvalidKey(f"storage key {key!r} is absolute; keys are relative to the root")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(f"storage key {key!r} has an empty, '.' or '..' segment")
        if not _SEGMENT.fullmatch(segment):
            raise InvalidKey(f"storage key {key!r}: segment {segment!r} may only contain "
                             "letters, digits, '.', '_' and '-', and not start with '.' or '-'")
    return key


def key_for(namespace: str, tenant_id: int | str | UUID, sha256: str, ext: str) -> str:
    """A content-addressed key, `<namespace>/<tenant>/ab/cd/<sha256>.<ext>`.

    Equal bytes of one tenant share a key (and one stored object), so delete an object only
    when no record refers to its key any more. The two shard levels keep directories small.
    """
    digest, ext, tenant = sha256.lower(), ext.lower().removeprefix("."), str(tenant_id)
    if not _SHA256.fullmatch(digest):
        raise InvalidKey(f"{sha256!r} is not a hex SHA-256 digest")
    if not _EXTENSION.fullmatch(ext):
        raise InvalidKey(f"extension {ext!r} must be 1-10 letters or digits")
    if "/" in tenant:
        raise InvalidKey(f"tenant id {tenant!r} contains '/'")
    return check_key(f"{namespace}/{tenant}/{digest[:2]}/{digest[2:4]}/{digest}.{ext}")


class LocalStorage:
    """Objects as files under `root`. Writes go to a temp file in the target directory, are
    fsync'ed and renamed over the target, so readers see the old object or the whole new one,
    never part of one. All file I/O runs in worker threads."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()

    def path_for(self, key: str) -> Path:
        """The file's path (checked lexically; the I/O methods also refuse symlinks out)."""
        return self.root.joinpath(*check_key(key).split("/"))

    def _inside(self, key: str) -> Path:
        path = self.path_for(key)
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise InvalidKey(f"storage key {key!r} leads outside the storage root")
        return path

    def _open_temp(self, key: str) -> tuple[Path, BinaryIO, Path]:
        path = self._inside(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
        return path, os.fdopen(fd, "wb"), Path(tmp)

    @staticmethod
    def _commit(fh: BinaryIO, tmp: Path, path: Path) -> None:
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # make the rename itself durable
        finally:
            os.close(dir_fd)

    @staticmethod
    def _discard(fh: BinaryIO, tmp: Path) -> None:
        fh.close()
        tmp.unlink(missing_ok=True)

    def _put_sync(self, key: str, data: bytes) -> str:
        path, fh, tmp = self._open_temp(key)
        try:
            fh.write(data)
            self._commit(fh, tmp, path)
        except BaseException:
            self._discard(fh, tmp)
            raise
        return hashlib.sha256(data).hexdigest()

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        digest = await run_sync(self._put_sync, key, bytes(data))
        return StoredObject(key, len(data), digest, content_type)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes],
                         content_type: str) -> StoredObject:
        path, fh, tmp = await run_sync(self._open_temp, key)
        digest, size = hashlib.sha256(), 0

        def write(chunk: bytes) -> None:
            fh.write(chunk)
            digest.update(chunk)

        try:
            async for chunk in chunks:
                size += len(chunk)
                await run_sync(write, chunk)
            await run_sync(self._commit, fh, tmp, path)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_sync(self._discard, fh, tmp)
            raise
        return StoredObject(key, size, digest.hexdigest(), content_type)

    def _read_sync(self, key: str) -> bytes:
        try:
            return self._inside(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    async def get(self, key: str) -> bytes:
        return await run_sync(self._read_sync, key)

    def _open_sync(self, key: str) -> BinaryIO:
        try:
            return self._inside(key).open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    async def open(self, key: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        fh = await run_sync(self._open_sync, key)
        return self._chunks(fh, chunk_size)

    @staticmethod
    async def _chunks(fh: BinaryIO, chunk_size: int) -> AsyncIterator[bytes]:
        try:
            while chunk := await run_sync(fh.read, chunk_size):
                yield chunk
        finally:
            fh.close()

    def _size_sync(self, key: str) -> int:
        path = self._inside(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path.stat().st_size

    async def size(self, key: str) -> int:
        return await run_sync(self._size_sync, key)

    async def exists(self, key: str) -> bool:
        return await run_sync(lambda: self._inside(key).is_file())

    def _delete_sync(self, key: str) -> bool:
        try:
            self._inside(key).unlink()
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True  # empty shard directories stay: removing them would race with puts

    async def delete(self, key: str) -> bool:
        return await run_sync(self._delete_sync, key)

    async def url_for(self, key: str, *, expires_in: int = 300) -> str | None:
        check_key(key)
        return None  # local files are served by the application, after its permission checks

    def _sweep_sync(self, max_age_seconds: float) -> int:
        cutoff, removed = time.time() - max_age_seconds, 0
        for tmp in self.root.rglob(f".*{TEMP_SUFFIX}"):
            try:
                if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    async def remove_stale_temp_files(self, max_age_seconds: float = 3600) -> int:
        """Delete temp files a crashed process left behind (never visible as objects)."""
        if not self.root.exists():
            return 0
        return await run_sync(self._sweep_sync, max_age_seconds)


def storage() -> Storage:
    """The configured backend."""
    settings = get_settings()
    return _build(settings.storage_backend, settings.storage_dir or settings.data_dir / "files")


@lru_cache(maxsize=4)
def _build(backend: str, root: Path) -> Storage:
    if backend == "local":
        return LocalStorage(root)
    # An S3-compatible backend (MinIO, OSS, COS, Ceph RGW …) goes here: a class implementing
    # `Storage` with put/put_stream -> PutObject/multipart upload (ContentType, checksum),
    # get/open -> GetObject streaming, size/exists -> HeadObject, delete -> DeleteObject,
    # url_for -> a presigned GET; plus "s3" in Settings.storage_backend and its settings
    # (endpoint, bucket, region, credentials). Keys stay the same, so files can be copied over.
    raise ValueError(f"unknown STORAGE_BACKEND {backend!r}")
