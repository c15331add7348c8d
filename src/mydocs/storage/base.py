"""The storage interface shared by every backend (docs/contracts.md "Storage")."""

from __future__ import annotations

import hashlib
import posixpath
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mydocs.settings import Settings

CHUNK_SIZE = 1024 * 1024
MAX_KEY_LENGTH = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


@dataclass(frozen=True)
class WriteResult:
    key: str
    size: int
    sha256: str


class StorageError(Exception):
    """Base class of storage failures."""


class StorageUnavailable(StorageError):
    """The backend cannot be reached or is not usable (missing container, permissions, ...)."""


class StorageFull(StorageError):
    """No space (or quota) left; nothing was stored."""


class ObjectNotFound(StorageError):
    """No object at that key."""


class InvalidKey(StorageError, ValueError):
    """A key that is not a clean relative POSIX path."""


class ObjectTooLarge(StorageError):
    """A stream exceeded max_bytes; nothing was stored."""

    def __init__(self, max_bytes: int):
        super().__init__(f"object larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


def validate_key(key: str) -> str:
    """Return `key` if it is a POSIX relative path without '..', '.', empty parts or control chars."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("empty key")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey("key too long")
    if key.startswith("/") or "\\" in key or _CONTROL.search(key):
        raise InvalidKey(f"invalid key {key!r}")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts) or posixpath.normpath(key) != key:
        raise InvalidKey(f"invalid key {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """A list prefix: empty, or a key-like string (may end with '/')."""
    if prefix:
        validate_key(prefix.rstrip("/") or "x")
    return prefix


class StagedWrite(ABC):
    """An object whose bytes are stored and hashed (`result`) but not yet durable under its key.

    `commit()` makes it durable there (atomically); `abort()` leaves nothing behind, whether the write was
    committed or not (it removes a committed object too). Two staged writes can be committed concurrently with
    other work, which is what lets a document's file, sidecar and record overlap (services/documents.py)."""

    result: WriteResult

    @abstractmethod
    async def commit(self) -> WriteResult: ...

    @abstractmethod
    async def abort(self) -> None: ...


class _WrittenAlready(StagedWrite):
    """Default staging of a stream: written (durably) at once; commit is nothing, abort deletes it."""

    def __init__(self, backend: "StorageBackend", result: WriteResult):
        self.backend, self.result = backend, result

    async def commit(self) -> WriteResult:
        return self.result

    async def abort(self) -> None:
        await self.backend.delete(self.result.key)


class _BytesOnCommit(StagedWrite):
    """Default staging of small bytes: held in memory, written (atomically) by commit; abort deletes it if so."""

    def __init__(self, backend: "StorageBackend", key: str, data: bytes, content_type: str | None):
        self.backend, self.data, self.content_type = backend, data, content_type
        self.result = WriteResult(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())
        self._written = False

    async def commit(self) -> WriteResult:
        self._written = True  # set first: a commit cancelled half-way is aborted by deleting the key
        await self.backend.write_bytes(self.result.key, self.data, content_type=self.content_type)
        return self.result

    async def abort(self) -> None:
        if self._written:
            await self.backend.delete(self.result.key)


class StorageBackend(ABC):
    """One place where managed files and their sidecars live. Keys are POSIX relative paths."""

    name: str

    @abstractmethod
    async def open(self) -> None:
        """Create the root / container when allowed, else raise StorageUnavailable."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def check(self) -> None:
        """Readiness probe; raises StorageUnavailable."""

    @abstractmethod
    async def write_stream(self, key: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None,
                           max_bytes: int | None = None) -> WriteResult:
        """Store the stream atomically (complete object or nothing); ObjectTooLarge past max_bytes."""

    async def write_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> WriteResult:
        """Store `data` atomically."""

        async def one() -> AsyncIterator[bytes]:
            yield data

        return await self.write_stream(key, one(), content_type=content_type)

    async def stage_stream(self, key: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None,
                           max_bytes: int | None = None) -> StagedWrite:
        """Like write_stream, but the caller commits (or aborts) the returned StagedWrite. A backend without a
        cheaper split writes the whole object here (the local backend leaves fsync and rename to commit)."""
        return _WrittenAlready(self, await self.write_stream(key, chunks, content_type=content_type,
                                                             max_bytes=max_bytes))

    async def stage_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> StagedWrite:
        """Small objects (sidecars), staged: the local backend writes and fsyncs a temp file here and renames
        it on commit; the default writes on commit."""
        validate_key(key)
        return _BytesOnCommit(self, key, data, content_type)

    @abstractmethod
    def read_stream(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes start..end (end inclusive, None = to the end); ObjectNotFound when absent."""

    async def read_bytes(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in self.read_stream(key)])

    @abstractmethod
    async def stat(self, key: str) -> ObjectInfo | None: ...

    @abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove the object; False when it was absent."""

    @abstractmethod
    def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        """Every object whose key starts with `prefix`, recursively."""


def open_backend(name: str, settings: "Settings") -> StorageBackend:
    """Factory for both backend names (the caller awaits .open())."""
    if name == "local":
        from mydocs.storage.local import LocalStorage

        return LocalStorage(settings.managed_root)
    if name == "azure_blob":
        from mydocs.storage.azure_blob import AzureBlobStorage

        return AzureBlobStorage.from_settings(settings)
    raise ValueError(f"unknown storage backend {name!r} (expected 'local' or 'azure_blob')")
