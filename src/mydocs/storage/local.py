"""Local-disk backend: files under a root folder, atomic writes (temp file + fsync + rename in the same folder)."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import stat
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from pathlib import Path

from mydocs import fileio
from mydocs.storage.base import (
    CHUNK_SIZE,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    ObjectTooLarge,
    StagedWrite,
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
    def path_for(self, key: str, *, check: bool = True) -> Path:
        """The file of `key`; refuses keys that would leave the root through a symlinked folder (`check=False`:
        the caller runs `check_inside` itself, in the file I/O pool instead of on the event loop)."""
        validate_key(key)
        path = self.root.joinpath(*key.split("/"))
        if check:
            self.check_inside(key, path)
        return path

    def check_inside(self, key: str, path: Path) -> None:
        real_root = os.path.realpath(self.root)
        real_parent = os.path.realpath(path.parent)
        if real_parent != real_root and not real_parent.startswith(real_root + os.sep):
            raise InvalidKey(f"key {key!r} leaves the storage root")

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
        staged = await self.stage_stream(key, chunks, content_type=content_type, max_bytes=max_bytes)
        try:
            return await staged.commit()
        except BaseException:
            # only the temp file is removed: a key overwritten by the rename keeps its new bytes
            await asyncio.shield(_quietly(fileio.run(staged.discard_sync, False)))
            raise

    async def stage_stream(self, key: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None,
                           max_bytes: int | None = None) -> LocalStagedWrite:
        """The stream into a temp file beside the key's path, hashed; fsync and rename are left to commit().
        Network chunks are gathered into ~1 MiB buffers; each buffer is written and hashed in two pool
        threads at once while the next bytes arrive (one write and one hash in flight at a time: order kept,
        at most ~3 MiB held per upload), and the kernel is asked to start writing it to disk right away, so
        commit()'s fsync finds little left to flush. The folders are created, and the temp file opened, by
        the first write."""
        path = self.path_for(key, check=False)  # checked by open_temp, in the pool
        staged = LocalStagedWrite(self, key, path)
        digest = hashlib.sha256()
        size = written = 0
        writing: asyncio.Future[None] | None = None
        hashing: asyncio.Future[None] | None = None
        buffer = bytearray()

        def write(data: bytes | bytearray, offset: int, hash_here: bool) -> None:
            with staged.lock:
                if staged.state != "staged":
                    raise StorageUnavailable("the write was aborted")
                if staged.fd is None:
                    staged.open_temp()
                if hash_here:  # a small last piece: not worth a second thread
                    digest.update(data)
                _write_all(staged.fd, data)  # type: ignore[arg-type]
                start_writeback(staged.fd, offset, len(data))  # type: ignore[arg-type]

        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ObjectTooLarge(max_bytes)
                buffer += chunk
                if len(buffer) >= CHUNK_SIZE:
                    if writing is not None:
                        await writing
                    if hashing is not None:
                        await hashing  # hashlib releases the GIL: sha256 runs beside the write, off the loop
                    data, buffer = buffer, bytearray()  # handed over whole to the threads, not copied
                    writing = fileio.submit(write, data, written, False)
                    hashing = fileio.submit(digest.update, data)
                    written += len(data)
            for future in (writing, hashing):
                if future is not None:
                    await future
            writing = hashing = None
            if buffer or staged.fd is None:
                await fileio.run(write, buffer, written, True)
        except BaseException as exc:
            for future in (writing, hashing):
                if future is not None:
                    future.add_done_callback(_retrieve)
            # waits (lock) for a write still running in a thread, then removes the temp file and empty folders
            await asyncio.shield(_quietly(staged.abort()))
            if isinstance(exc, OSError):
                raise storage_error(exc, self.root) from None
            raise
        staged.result = WriteResult(key=key, size=size, sha256=digest.hexdigest())
        return staged

    async def stage_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> LocalStagedWrite:
        """Small objects (sidecars): temp file written and fsynced here (one thread hop); commit() renames it
        and fsyncs the folder (one more)."""
        path = self.path_for(key, check=False)  # checked by open_temp, in the pool
        staged = LocalStagedWrite(self, key, path)
        staged.result = WriteResult(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

        def write() -> None:
            with staged.lock:
                if staged.state != "staged":
                    raise StorageUnavailable("the write was aborted")
                staged.open_temp(background=False)
                _write_all(staged.fd, data)  # type: ignore[arg-type]
                os.fsync(staged.fd)  # type: ignore[arg-type]
                os.close(staged.fd)  # type: ignore[arg-type]
                staged.fd = None

        try:
            await fileio.run(write)
        except BaseException as exc:
            await asyncio.shield(_quietly(staged.abort()))
            if isinstance(exc, OSError):
                raise storage_error(exc, self.root) from None
            raise
        return staged

    async def write_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> WriteResult:
        """Small objects (sidecars): temp file, write, fsync, rename, folder fsync, all in one thread hop."""
        path = self.path_for(key)

        def write() -> None:
            fd, tmp, parents = self._create_temp(path.parent)
            try:
                _write_all(fd, data)
                os.fsync(fd)
                _fsync_dirs(parents)
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

    def _create_temp(self, folder: Path) -> tuple[int, str, list[Path]]:
        """A new temp file in `folder`, creating the missing folders below the root (never the root itself).
        Also returns the folders that gained a new sub-folder: they must be fsynced for the new folders
        (and so the file) to survive a crash."""
        import tempfile

        rel = folder.relative_to(self.root)
        for attempt in range(3):
            if not self.root.is_dir():
                raise StorageUnavailable(f"local storage root {self.root} does not exist (volume not mounted?); "
                                         "writes are refused until it is back")
            parents: list[Path] = []
            current = self.root
            try:
                for part in rel.parts:
                    parent, current = current, current / part
                    try:
                        os.mkdir(current)
                        parents.append(parent)
                    except FileExistsError:
                        pass
                fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=folder)
                return fd, tmp, parents
            except FileNotFoundError:
                # an empty folder on the way was pruned by a concurrent delete or failed write: once more
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

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


class LocalStagedWrite(StagedWrite):
    """A temp file (`.tmp-*.part`) beside the key's path. Every step on it runs in the file I/O pool under
    one lock, so an abort that comes while a write or the commit still runs in a thread (the request was
    cancelled meanwhile) waits for it instead of racing it (closing a descriptor another thread writes to)."""

    def __init__(self, storage: LocalStorage, key: str, path: Path):
        self.storage, self.path = storage, path
        self.result = WriteResult(key=key, size=0, sha256="")
        self.lock = threading.Lock()
        self.state = "staged"  # -> "committed" | "aborted"
        self.fd: int | None = None
        self.tmp: str | None = None
        self._folders: Future[None] | None = None  # fsync of the folders that gained a new folder

    def open_temp(self, background: bool = True) -> None:
        """(lock held, in the pool) Folders and temp file. The folders that gained a sub-folder are fsynced
        right away in another pool thread (`background`: while the body is still arriving) or here."""
        self.storage.check_inside(self.result.key, self.path)
        self.fd, self.tmp, parents = self.storage._create_temp(self.path.parent)
        if parents:
            if background:
                self._folders = fileio.pool().submit(_fsync_dirs, parents)
            else:
                _fsync_dirs(parents)

    def _commit_sync(self) -> None:
        with self.lock:
            if self.state != "staged":
                raise StorageUnavailable("the write was aborted")
            if self.fd is not None:
                os.fsync(self.fd)
                os.close(self.fd)
                self.fd = None
            os.chmod(self.tmp, 0o640)  # type: ignore[arg-type]
            os.replace(self.tmp, self.path)  # type: ignore[arg-type]
            self.state = "committed"
            _fsync_dir(self.path.parent)

    async def commit(self) -> WriteResult:
        """fsync, rename into place, fsync of the folder (one thread hop); also waits for the new folders'
        fsync. Durable under its key when this returns."""
        try:
            await fileio.run(self._commit_sync)
            if self._folders is not None:
                await asyncio.wrap_future(self._folders)
        except OSError as exc:
            raise storage_error(exc, self.storage.root) from None
        return self.result

    def discard_sync(self, remove_committed: bool = True) -> None:
        """(in the pool) The temp file, or the committed object when `remove_committed`, and empty folders."""
        with self.lock:
            if self.fd is not None:
                try:
                    os.close(self.fd)
                except OSError:
                    pass
                self.fd = None
            target = None
            if self.state == "staged":
                target, self.state = self.tmp, "aborted"
            elif self.state == "committed" and remove_committed:
                target, self.state = str(self.path), "aborted"
            if target is not None:
                try:
                    os.unlink(target)
                except FileNotFoundError:
                    pass
            self.storage._prune(self.path.parent)

    async def abort(self) -> None:
        """Removes the temp file or, once committed, the object itself, and the folders left empty."""
        try:
            await fileio.run(self.discard_sync)
        except OSError as exc:
            raise storage_error(exc, self.storage.root) from None
        finally:
            if self._folders is not None:
                await asyncio.gather(asyncio.wrap_future(self._folders), return_exceptions=True)


def _fsync_dirs(paths: list[Path]) -> None:
    for path in paths:
        _fsync_dir(path)


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()  # seen: an abandoned write's failure is not logged as never retrieved


async def _quietly(aw: Awaitable[object]) -> None:
    """Cleanup after a failure must not replace that failure."""
    try:
        await aw
    except Exception as exc:
        log.error("cleanup of a failed write: %s", type(exc).__name__)


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (ImportError, OSError, AttributeError):  # not Linux (a developer's macOS): no early writeback
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_sync_file_range = _load_sync_file_range()
SYNC_FILE_RANGE_WRITE = 2  # <fcntl.h>: start writeback of the dirty pages in the range, do not wait


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing these bytes to disk now (Linux sync_file_range; ctypes releases the
    GIL). Advisory only: it guarantees nothing and its errors are ignored here; the commit's fsync is what
    makes the file durable, and reports any I/O error."""
    if _sync_file_range is not None and length:
        _sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE)


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
