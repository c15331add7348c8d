"""Local file I/O off the event loop, in a bounded pool of its own, and opening files without following links.

Blocking file calls never go to asyncio's default executor: a call that hangs (a FIFO, a dead NFS mount)
would starve everything else that uses it (DNS look-ups, other libraries). `run()` uses one pool of
FILE_IO_THREADS threads; `/health` probes it (`probe()`), so a pool that stays full fails liveness and
Kubernetes restarts the pod instead of leaving it wedged.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

FILE_IO_THREADS = 16
PROBE_TIMEOUT_SECONDS = 5.0

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=FILE_IO_THREADS, thread_name_prefix="mydocs-file-io")
        return _pool


async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` in the file I/O pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(), functools.partial(fn, *args, **kwargs))


def submit(fn: Callable[..., T], *args: Any) -> "asyncio.Future[T]":
    """`fn(*args)` started in the file I/O pool now; await the returned future later (no task is created)."""
    return asyncio.get_running_loop().run_in_executor(pool(), fn, *args)


async def probe(timeout: float = PROBE_TIMEOUT_SECONDS) -> float | None:
    """Seconds a no-op waited for a pool thread, or None when none became free within `timeout`."""
    started = time.monotonic()
    future = pool().submit(time.monotonic)
    try:
        picked = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
    except asyncio.TimeoutError:
        future.cancel()
        return None
    return picked - started


class NotRegularFile(OSError):
    """The path names a FIFO, device, socket or folder, or a symlink (refused, never followed)."""


class OutsideRoots(OSError):
    """The opened file's real path lies outside the allowed roots."""


def within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def open_regular(path: str | os.PathLike[str], roots: Iterable[Path] | None = None) -> int:
    """A read-only descriptor of the regular file at `path`, checked AFTER opening (no race window):
    the last component is never followed (O_NOFOLLOW), the open never blocks (O_NONBLOCK: a FIFO
    without a writer would hang a thread forever), fstat says it is a regular file, and when `roots`
    are given the descriptor's real path (/proc/self/fd/N, immune to any symlinked parent swapped in
    meanwhile) must lie inside one of them. The caller owns (closes) the descriptor."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the last component is a symbolic link
            raise NotRegularFile(errno.ELOOP, "a symbolic link, not followed") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file")
        if roots is not None:
            real = Path(os.readlink(f"/proc/self/fd/{fd}"))
            if not any(within(real, Path(os.path.realpath(r))) for r in roots):
                raise OutsideRoots(errno.EACCES, "outside the allowed roots")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd
