"""Local-disk backend: files under a root folder, atomic writes (temp file + fsync + rename in the same folder)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO

from mydocs.storage.base import (
    CHUNK_SIZE,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    ObjectTooLarge,
    StorageBackend,
    StorageUnavailable,
    WriteResult,
    validate_key,
    validate_prefix,
)

TMP_PREFIX = ".tmp-"
TMP_SUFFIX = ".part"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_temp_name(name: str) -> bool:
    return name.startswith(TMP_PREFIX) and name.endswith(TMP_SUFFIX)


class LocalStorage(StorageBackend):
    """Objects are files below `root`; keys are their POSIX paths relative to it."""

    name = "local"

    def __init__(self, root: Path):
        self.root = Path(os.path.abspath(root))

    # -- paths --------------------------------------------------------------------------------------------
    def path_for(self, key: str) -> Path:
        """The file of `key`; refuses keys that would leave the root through a symlinked folder."""
        validate_key(key)
        path = self.root.joinpath(*key.split("/"))
        real_root = os.path.realpath(self.root)
        real_parent = os.path.realpath(path.parent)
        if real_parent != real_root and not real_parent.startswith(real_root + os.sep):
            raise InvalidKey(f"key {key!r} leaves the storage root")
        return path

    # -- lifecycle ----------------------------------------------------------------------------------------
    async def open(self) -> None:
        try:
            await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"local storage root {self.root} cannot be created: {exc.strerror}") from None
        await self.check()

    async def close(self) -> None:
        return None

    async def check(self) -> None:
        def probe() -> None:
            if not self.root.is_dir():
                raise StorageUnavailable(f"local storage root {self.root} does not exist")
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise StorageUnavailable(f"local storage root {self.root} is not writable")

        await asyncio.to_thread(probe)

    # -- writes -------------------------------------------------------------------------------------------
    async def write_stream(self, key: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None,
                           max_bytes: int | None = None) -> WriteResult:
        path = self.path_for(key)
        fd, tmp = await asyncio.to_thread(self._create_temp, path.parent)
        digest = hashlib.sha256()
        size = 0
        done = closed = False
        buffer = bytearray()  # small network chunks are gathered into ~1 MiB writes (one thread hop each)
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ObjectTooLarge(max_bytes)
                digest.update(chunk)
                buffer += chunk
                if len(buffer) >= CHUNK_SIZE:
                    data, buffer = bytes(buffer), bytearray()
                    await asyncio.to_thread(_write_all, fd, data)
            if buffer:
                await asyncio.to_thread(_write_all, fd, bytes(buffer))
            await asyncio.to_thread(os.fsync, fd)
            closed = True
            os.close(fd)
            await asyncio.to_thread(self._commit, tmp, path)
            done = True
        finally:
            if not done:
                await asyncio.to_thread(_discard, None if closed else fd, tmp)
                await asyncio.to_thread(self._prune, path.parent)
        return WriteResult(key=key, size=size, sha256=digest.hexdigest())

    @staticmethod
    def _create_temp(folder: Path) -> tuple[int, str]:
        import tempfile

        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=folder)

    @staticmethod
    def _commit(tmp: str, path: Path) -> None:
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    def _prune(self, folder: Path) -> None:
        """Remove now-empty folders from `folder` up to the root (a managed file sits in <id[0:2]>/<id>/)."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent

    # -- reads --------------------------------------------------------------------------------------------
    async def read_stream(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        try:
            f = await asyncio.to_thread(open, path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        async for chunk in read_file_range(f, start, end):
            yield chunk

    async def stat(self, key: str) -> ObjectInfo | None:
        path = self.path_for(key)
        try:
            st = await asyncio.to_thread(os.stat, path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not os.path.isfile(path):
            return None
        return ObjectInfo(key=key, size=st.st_size)

    async def delete(self, key: str) -> bool:
        path = self.path_for(key)

        def remove() -> bool:
            try:
                os.unlink(path)
            except (FileNotFoundError, NotADirectoryError):
                return False
            self._prune(path.parent)
            return True

        return await asyncio.to_thread(remove)

    async def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        validate_prefix(prefix)
        base = self.root
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        if folder:
            base = self.path_for(folder) if folder else self.root

        def walk() -> list[ObjectInfo]:
            out = []
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames.sort()
                rel_dir = os.path.relpath(dirpath, self.root)
                for name in sorted(filenames):
                    if is_temp_name(name):
                        continue
                    key = name if rel_dir == "." else f"{rel_dir.replace(os.sep, '/')}/{name}"
                    if not key.startswith(prefix):
                        continue
                    try:
                        st = os.stat(os.path.join(dirpath, name), follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    if not os.path.isfile(os.path.join(dirpath, name)):
                        continue
                    out.append(ObjectInfo(key=key, size=st.st_size))
            return out

        for info in await asyncio.to_thread(walk):
            yield info


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _discard(fd: int | None, tmp: str) -> None:
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


async def read_file_range(f: BinaryIO, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
    """Bytes start..end (inclusive; None = to the end) of an open file in CHUNK_SIZE pieces, off the
    event loop; closes the file when done."""
    try:
        if start:
            await asyncio.to_thread(f.seek, start)
        remaining = None if end is None else end - start + 1
        while remaining is None or remaining > 0:
            n = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
            chunk = await asyncio.to_thread(f.read, n)
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(f.close)
