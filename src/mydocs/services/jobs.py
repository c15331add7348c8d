"""Background jobs (sync, migrate) whose state lives in MongoDB `jobs`, so any replica can answer.

A job runs as an asyncio task in the process that accepted it. While it runs, that process writes a
heartbeat every few seconds; a job whose heartbeat stopped (the process died) is marked failed by the
next reader instead of showing "running" forever.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from pymongo.asynchronous.database import AsyncDatabase

from mydocs.db import JOBS
from mydocs.sidecar import ID_RE, utcnow

log = logging.getLogger("mydocs.jobs")

JobKind = Literal["sync", "migrate", "ingest"]
# kinds that change whole backends: at most one of them runs at a time (ingest jobs run beside them)
EXCLUSIVE_KINDS = ("sync", "migrate")
ACTIVE = ("queued", "running")
HEARTBEAT_SECONDS = 5.0
STALE_AFTER_SECONDS = 60.0
PROGRESS_MIN_INTERVAL = 0.5

Progress = Callable[[int, int], Awaitable[None]]
Work = Callable[[Progress], Awaitable[dict[str, Any]]]


class JobNotFound(Exception):
    pass


class JobAlreadyRunning(Exception):
    def __init__(self, job_id: str, kind: str):
        super().__init__(f"a {kind} job ({job_id}) is already running; wait for it to finish")
        self.job_id = job_id
        self.kind = kind


class JobFailed(Exception):
    """Raised by a job's work to fail with a message while keeping its (partial) report."""

    def __init__(self, message: str, report: dict[str, Any] | None = None):
        super().__init__(message)
        self.report = report


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def job_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The API's job shape (docs/contracts.md)."""
    return {"id": doc["_id"], "kind": doc["kind"], "status": doc["status"], "params": doc.get("params") or {},
            "progress": doc.get("progress") or {"done": 0, "total": 0}, "report": doc.get("report"),
            "error": doc.get("error"), "created_at": doc["created_at"], "updated_at": doc["updated_at"]}


def error_text(exc: BaseException) -> str:
    """One line for the job's `error`. Our own errors carry clean messages; others only their type
    (driver and SDK messages may hold connection details)."""
    from mydocs.sidecar import SidecarError
    from mydocs.storage.base import StorageError

    if isinstance(exc, JobFailed | StorageError | SidecarError | ValueError):
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return text[:500]
    return f"unexpected error ({type(exc).__name__}); see the server log"


class JobStore:
    """The `jobs` collection."""

    def __init__(self, db: AsyncDatabase):
        self.coll = db[JOBS]

    async def create(self, kind: JobKind, params: dict[str, Any]) -> dict[str, Any]:
        now = utcnow()
        doc = {"_id": uuid.uuid4().hex, "kind": kind, "status": "queued", "params": params,
               "progress": {"done": 0, "total": 0}, "report": None, "error": None, "created_at": now,
               "updated_at": now, "heartbeat_at": now, "owner": owner_name()}
        await self.coll.insert_one(doc)
        return doc

    async def get(self, job_id: str) -> dict[str, Any]:
        if not isinstance(job_id, str) or not ID_RE.match(job_id):
            raise JobNotFound(job_id)
        doc = await self.coll.find_one({"_id": job_id})
        if doc is None:
            raise JobNotFound(job_id)
        if doc["status"] in ACTIVE and _stale(doc):
            await self._abandon(doc)
            doc = await self.coll.find_one({"_id": job_id}) or doc
        return doc

    async def active(self, kinds: tuple[str, ...] = EXCLUSIVE_KINDS) -> dict[str, Any] | None:
        """A job of `kinds` still queued or running with a fresh heartbeat (stale ones are marked failed)."""
        async for doc in self.coll.find({"status": {"$in": list(ACTIVE)}, "kind": {"$in": list(kinds)}}):
            if _stale(doc):
                await self._abandon(doc)
                continue
            return doc
        return None

    async def _abandon(self, doc: dict[str, Any]) -> None:
        now = utcnow()
        await self.coll.update_one(
            {"_id": doc["_id"], "status": {"$in": list(ACTIVE)}, "heartbeat_at": doc.get("heartbeat_at")},
            {"$set": {"status": "failed", "updated_at": now,
                      "error": f"abandoned: {doc.get('owner', 'the process')} running it stopped "
                               f"(no heartbeat since {_iso(doc.get('heartbeat_at'))})"}})

    async def running(self, job_id: str) -> None:
        # only a queued job: a write cancelled in flight can still land after finish() on another connection
        now = utcnow()
        await self.coll.update_one({"_id": job_id, "status": "queued"},
                                   {"$set": {"status": "running", "updated_at": now, "heartbeat_at": now}})

    async def heartbeat(self, job_id: str) -> None:
        await self.coll.update_one({"_id": job_id, "status": {"$in": list(ACTIVE)}},
                                   {"$set": {"heartbeat_at": utcnow()}})

    async def progress(self, job_id: str, done: int, total: int) -> None:
        now = utcnow()
        await self.coll.update_one({"_id": job_id, "status": {"$in": list(ACTIVE)}},  # never a finished job
                                   {"$set": {"progress": {"done": done, "total": total}, "updated_at": now,
                                             "heartbeat_at": now}})

    async def finish(self, job_id: str, *, report: dict[str, Any] | None, error: str | None,
                     progress: tuple[int, int] | None = None) -> None:
        now = utcnow()
        fields: dict[str, Any] = {"status": "failed" if error else "succeeded", "report": report, "error": error,
                                  "updated_at": now, "heartbeat_at": now}
        if progress is not None:
            fields["progress"] = {"done": progress[0], "total": progress[1]}
        await self.coll.update_one({"_id": job_id}, {"$set": fields})


def _stale(doc: dict[str, Any]) -> bool:
    beat = doc.get("heartbeat_at") or doc.get("updated_at")
    if not isinstance(beat, datetime):
        return True
    return utcnow() - beat > timedelta(seconds=STALE_AFTER_SECONDS)


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else "never"


class JobRunner:
    """Starts jobs as asyncio tasks of this process and keeps them referenced until they end."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._by_id: dict[str, asyncio.Task[None]] = {}
        self._cancelled: set[str] = set()
        self._lock = asyncio.Lock()

    async def start(self, db: AsyncDatabase, kind: JobKind, params: dict[str, Any], work: Work) -> dict[str, Any]:
        """Record a queued job and run `work` in the background; JobAlreadyRunning when one is active.
        One storage job at a time: the check is per database (best effort across replicas)."""
        store = JobStore(db)
        async with self._lock:
            if kind in EXCLUSIVE_KINDS:
                active = await store.active()
                if active is not None:
                    raise JobAlreadyRunning(active["_id"], active["kind"])
            doc = await store.create(kind, params)
        job_id = doc["_id"]
        task = asyncio.create_task(self._run(store, job_id, work), name=f"mydocs-job-{job_id}")
        self._tasks.add(task)
        self._by_id[job_id] = task

        def forget(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self._by_id.pop(job_id, None)
            self._cancelled.discard(job_id)

        task.add_done_callback(forget)
        return doc

    def cancel(self, job_id: str) -> bool:
        """Cancel a job running in this process (it records `failed: cancelled by request`); False when
        this process does not run it."""
        task = self._by_id.get(job_id)
        if task is None or task.done():
            return False
        self._cancelled.add(job_id)
        task.cancel()
        return True

    async def wait(self, job_id: str) -> None:
        task = self._by_id.get(job_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self, store: JobStore, job_id: str, work: Work) -> None:
        last = [0, 0]  # done, total
        last_write = [0.0]
        # The job's own writes (running, progress, heartbeat) are never abandoned in flight: a cancelled pymongo
        # call can still reach the server afterwards and land after finish() (seen with FerretDB, even with
        # JobStore's status filters: a cancelled job read back as running). finish() waits for them.
        in_flight: set[asyncio.Future[None]] = set()

        async def record(write: Awaitable[None]) -> None:
            future = asyncio.ensure_future(write)
            in_flight.add(future)
            future.add_done_callback(in_flight.discard)
            await asyncio.shield(future)

        async def progress(done: int, total: int) -> None:
            last[0], last[1] = done, total
            now = time.monotonic()
            if now - last_write[0] >= PROGRESS_MIN_INTERVAL or done >= total:
                last_write[0] = now
                await record(store.progress(job_id, done, total))

        async def beat() -> None:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                try:
                    await record(store.heartbeat(job_id))
                except Exception as exc:  # the next beat retries; staleness is judged by readers
                    log.warning("job %s heartbeat failed: %s", job_id, type(exc).__name__)

        beater = asyncio.create_task(beat())
        report: dict[str, Any] | None = None
        error: str | None = None
        try:
            await record(store.running(job_id))
            report = await work(progress)
        except asyncio.CancelledError:
            error = ("cancelled by request" if job_id in self._cancelled else
                     "cancelled: the server stopped while the job ran; run it again (it resumes safely)")
            raise
        except JobFailed as exc:
            error, report = error_text(exc), exc.report
        except Exception as exc:
            log.error("job %s failed", job_id, exc_info=exc)
            error = error_text(exc)
        finally:
            beater.cancel()  # a beat cancelled now writes nothing more; one already sent is in in_flight

            async def finish() -> None:
                await asyncio.gather(*in_flight, return_exceptions=True)
                await store.finish(job_id, report=report, error=error, progress=(last[0], last[1]))

            try:
                await asyncio.shield(finish())
            except Exception as exc:  # e.g. the database went away at shutdown: readers see a stale job
                log.error("job %s: could not record its end (%s)", job_id, type(exc).__name__)

    async def shutdown(self) -> None:
        """Cancel running jobs (each records `failed: cancelled`); call before closing the database."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_all(self) -> None:
        tasks = list(self._tasks)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
