"""Local-disk backend: files under a root folder, atomic writes (temp file + fsync + rename in the same folder)."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
import time
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from mydocs import fileio
from mydocs.storage.base import (
    CHUNK_SIZE,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    ObjectTooLarge,
    StorageBackend,
    StorageFull,
    StorageUnavailable,
    WriteResult,
    validate_key,
    validate_prefix,
)

TMP_PREFIX = ".tmp-"
TMP_SUFFIX = ".part"
STALE_TEMP_SECONDS = 3600  # a temp file untouched this long belongs to an upload that died with its process
log = logging.getLogger("mydocs.storage")


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
        """Start-up only: the root is created here and never on a write (a volume that came unmounted must
        not be silently replaced by an empty folder on the wrong disk). Stale temp files are swept."""
        try:
            await fileio.run(self.root.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"local storage root {self.root} cannot be created: {exc.strerror}") from None
        await self.check()
        removed = await fileio.run(self.sweep_temp_files)
        if removed:
            log.warning("removed %d stale temp file(s) of interrupted uploads under %s", removed, self.root)

    def sweep_temp_files(self, older_than: float = STALE_TEMP_SECONDS) -> int:
        """Delete `.tmp-*.part` files not written for `older_than` seconds (left by a crash mid-upload)."""
        removed = 0
        cutoff = time.time() - older_than
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in filenames:
                if not is_temp_name(name):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    if os.stat(path, follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    continue
            if dirpath != str(self.root):
                self._prune(Path(dirpath))
        return removed

    async def close(self) -> None:
        return None

    async def check(self) -> None:
        def probe() -> None:
            if not self.root.is_dir():
                raise StorageUnavailable(f"local storage root {self.root} does not exist")
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise StorageUnavailable(f"local storage root {self.root} is not writable")

        await fileio.run(probe)

    # -- writes -------------------------------------------------------------------------------------------
    async def write_stream(self, key: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None,
                           max_bytes: int | None = None) -> WriteResult:
        path = self.path_for(key)
        digest = hashlib.sha256()
        size = 0
        fd: int | None = None
        tmp: str | None = None
        done = False
        buffer = bytearray()  # small network chunks are gathered into ~1 MiB writes (one thread hop each)

        def flush(data: bytes | bytearray) -> None:
            # hashed in the I/O thread (hashlib releases the GIL), beside the write, not on the event loop
            digest.update(data)
            _write_all(fd, data)  # type: ignore[arg-type]

        def finish(data: bytes | bytearray) -> None:  # the last bytes, fsync and rename in one thread hop
            nonlocal fd
            flush(data)
            os.fsync(fd)  # type: ignore[arg-type]
            os.close(fd)  # type: ignore[arg-type]
            fd = None
            self._commit(tmp, path)  # type: ignore[arg-type]

        try:
            fd, tmp = await fileio.run(self._create_temp, path.parent)
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ObjectTooLarge(max_bytes)
                buffer += chunk
                if len(buffer) >= CHUNK_SIZE:
                    data, buffer = buffer, bytearray()  # handed over whole to the thread, not copied
                    await fileio.run(flush, data)
            await fileio.run(finish, buffer)
            done = True
        except OSError as exc:
            raise storage_error(exc, self.root) from None
        finally:
            if not done:
                if tmp is not None:
                    await fileio.run(_discard, fd, tmp)
                await fileio.run(self._prune, path.parent)
        return WriteResult(key=key, size=size, sha256=digest.hexdigest())

    async def write_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> WriteResult:
        """Small objects (sidecars): temp file, write, fsync, rename, all in one thread hop."""
        path = self.path_for(key)

        def write() -> None:
            fd, tmp = self._create_temp(path.parent)
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except BaseException:
                _discard(fd, tmp)
                raise
            os.close(fd)
            try:
                self._commit(tmp, path)
            except BaseException:
                _discard(None, tmp)
                raise

        try:
            await fileio.run(write)
        except OSError as exc:
            raise storage_error(exc, self.root) from None
        return WriteResult(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    def _create_temp(self, folder: Path) -> tuple[int, str]:
        import tempfile

        if not self.root.is_dir():
            raise StorageUnavailable(f"local storage root {self.root} does not exist (volume not mounted?); "
                                     "writes are refused until it is back")
        # only the document's own folders are created, never the root itself
        rel = folder.relative_to(self.root)
        current = self.root
        for part in rel.parts:
            current = current / part
            try:
                os.mkdir(current)
            except FileExistsError:
                pass
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
            fd = await fileio.run(fileio.open_regular, path, [self.root])
        except (FileNotFoundError, NotADirectoryError, fileio.NotRegularFile, fileio.OutsideRoots):
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise storage_error(exc, self.root) from None
        async for chunk in read_file_range(fd, start, end):
            yield chunk

    async def stat(self, key: str) -> ObjectInfo | None:
        path = self.path_for(key)
        try:
            st = await fileio.run(os.stat, path, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise storage_error(exc, self.root) from None
        if not stat.S_ISREG(st.st_mode):
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

        try:
            return await fileio.run(remove)
        except OSError as exc:
            raise storage_error(exc, self.root) from None

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

        for info in await fileio.run(walk):
            yield info


def _write_all(fd: int, data: bytes | bytearray) -> None:
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


def storage_error(exc: OSError, root: Path) -> StorageFull | StorageUnavailable:
    """A failing disk as an answer the client can act on: full (507) or not usable now (503)."""
    if isinstance(exc, (StorageFull, StorageUnavailable)):
        return exc
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(f"local storage under {root} is full; nothing was stored")
    return StorageUnavailable(f"local storage under {root} is not usable: {exc.strerror or type(exc).__name__}")


async def read_file_range(fd: int, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
    """Bytes start..end (inclusive; None = to the end) of an open descriptor in CHUNK_SIZE pieces, in the
    file I/O pool; closes the descriptor when done."""
    try:
        remaining = None if end is None else end - start + 1
        offset = start
        while remaining is None or remaining > 0:
            n = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
            chunk = await fileio.run(os.pread, fd, n, offset)
            if not chunk:
                break
            offset += len(chunk)
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
    finally:
        await fileio.run(os.close, fd)
