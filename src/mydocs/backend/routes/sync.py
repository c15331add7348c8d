"""/api/v1/sync: sync plan/execute, migrate plan/execute, job status. Executions run as background jobs."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, model_validator

from mydocs.backend.deps import ContextDep, job_runner
from mydocs.backend.errors import ApiError
from mydocs.services.jobs import JobAlreadyRunning, JobFailed, JobNotFound, JobRunner, JobStore, Progress, job_view
from mydocs.services.migrate import MigrateService
from mydocs.services.sync import SyncService
from mydocs.storage.base import StorageBackend, StorageFull, StorageUnavailable

# mounted by the app factory at /api/v1/sync (behind require_user)
router = APIRouter(tags=["sync"])

BackendName = Literal["local", "azure_blob"]


class SyncBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: BackendName


class MigrateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_backend: BackendName
    target_backend: BackendName
    delete_source: bool = False

    @model_validator(mode="after")
    def _different(self) -> MigrateBody:
        if self.source_backend == self.target_backend:
            raise ValueError("source_backend and target_backend must be different backends")
        return self


def _runner(request: Request) -> JobRunner:
    return job_runner(request)


async def _storage(ctx: Any, name: str) -> StorageBackend:
    try:
        return await ctx.storage(name)
    except StorageUnavailable as exc:
        raise ApiError(503, "storage_unavailable", f"storage backend {name}: {exc}") from None


async def _start(request: Request, ctx: Any, kind: Literal["sync", "migrate"], params: dict[str, Any],
                 work: Any, response: Response) -> dict[str, str]:
    try:
        job = await _runner(request).start(ctx.db, kind, params, work)
    except JobAlreadyRunning as exc:
        raise ApiError(409, "job_running", str(exc)) from None
    response.headers["Location"] = request.app.url_path_for("get_job", job_id=job["_id"])
    return {"job_id": job["_id"]}


@router.post("/plan")
async def sync_plan(body: SyncBody, ctx: ContextDep) -> dict[str, Any]:
    """What `sync run` would change in the database for this backend (writes nothing)."""
    storage = await _storage(ctx, body.backend)
    try:
        plan = await SyncService(ctx.db, storage, ctx.settings).plan()
    except StorageUnavailable as exc:
        raise ApiError(503, "storage_unavailable", str(exc)) from None
    except StorageFull as exc:
        raise ApiError(507, "storage_full", str(exc)) from None
    return plan.as_dict()


@router.post("/execute", status_code=202)
async def sync_execute(body: SyncBody, ctx: ContextDep, request: Request, response: Response) -> dict[str, str]:
    """Start `sync run` for this backend as a job; poll GET /jobs/{job_id}."""
    storage = await _storage(ctx, body.backend)
    service = SyncService(ctx.db, storage, ctx.settings)

    async def work(progress: Progress) -> dict[str, Any]:
        return await service.execute(progress)

    return await _start(request, ctx, "sync", {"backend": body.backend}, work, response)


@router.post("/migrate/plan")
async def migrate_plan(body: MigrateBody, ctx: ContextDep) -> dict[str, Any]:
    """What a migration would copy and skip now (writes nothing)."""
    source = await _storage(ctx, body.source_backend)
    target = await _storage(ctx, body.target_backend)
    try:
        return await MigrateService(source, target).plan(delete_source=body.delete_source)
    except StorageUnavailable as exc:
        raise ApiError(503, "storage_unavailable", str(exc)) from None
    except StorageFull as exc:
        raise ApiError(507, "storage_full", str(exc)) from None


@router.post("/migrate/execute", status_code=202)
async def migrate_execute(body: MigrateBody, ctx: ContextDep, request: Request,
                          response: Response) -> dict[str, str]:
    """Start a migration job (storage only; run a sync on the target afterwards)."""
    service = MigrateService(await _storage(ctx, body.source_backend), await _storage(ctx, body.target_backend))

    async def work(progress: Progress) -> dict[str, Any]:
        report = await service.execute(delete_source=body.delete_source, progress=progress)
        if report["errors_count"]:
            raise JobFailed(f"{report['errors_count']} document(s) could not be migrated; see the report", report)
        return report

    params = {"source_backend": body.source_backend, "target_backend": body.target_backend,
              "delete_source": body.delete_source}
    return await _start(request, ctx, "migrate", params, work, response)


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, ctx: ContextDep) -> dict[str, Any]:
    """A job's status, progress, final report and error (any replica answers: the state is in MongoDB)."""
    try:
        return job_view(await JobStore(ctx.db).get(job_id))
    except JobNotFound:
        raise ApiError(404, "job_not_found", "no job with that id") from None


@router.post("/jobs/{job_id}/cancel", status_code=202)
async def cancel_job(job_id: str, ctx: ContextDep, request: Request) -> dict[str, Any]:
    """Cancel a queued or running job (sync, migrate, ingest) of this replica; what it finished stays."""
    try:
        job = await JobStore(ctx.db).get(job_id)
    except JobNotFound:
        raise ApiError(404, "job_not_found", "no job with that id") from None
    if job["status"] not in ("queued", "running"):
        raise ApiError(409, "job_finished", f"the job has already ended ({job['status']})")
    runner = _runner(request)
    if not runner.cancel(job_id):
        raise ApiError(409, "job_elsewhere", f"the job runs in another process ({job.get('owner')}); "
                       "cancel it there")
    await runner.wait(job_id)
    return job_view(await JobStore(ctx.db).get(job_id))
