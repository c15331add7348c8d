"""Liveness and readiness (no auth: Kubernetes probes carry no token)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mydocs import fileio
from mydocs.backend.deps import ContextDep

router = APIRouter(tags=["health"])
log = logging.getLogger("mydocs.health")


@router.get("/health", response_model=None)
async def health() -> dict[str, str] | JSONResponse:
    """Liveness: the event loop answers and the file I/O pool still runs work (calls no dependency).
    A pool whose every thread is stuck (e.g. in a hung file system) cannot recover: 503, so the
    orchestrator restarts the process."""
    if await fileio.probe() is None:
        log.error("liveness: no file I/O thread became free within %.0f s", fileio.PROBE_TIMEOUT_SECONDS)
        return JSONResponse({"status": "unhealthy", "detail": "the file I/O thread pool is starved",
                             "error_code": "file_io_starved"}, status_code=503)
    return {"status": "ok"}


async def _check(name: str, probe: Any) -> str:
    try:
        await asyncio.wait_for(probe(), 8)
        return "ok"
    except asyncio.TimeoutError:
        log.warning("readiness: %s timed out", name)
        return "timeout"
    except Exception as exc:  # any failure of a dependency means "not ready", never a 500
        log.warning("readiness: %s failed: %s", name, str(exc).splitlines()[0][:200] if str(exc) else
                    type(exc).__name__)
        return "unavailable"


@router.get("/health/ready", response_model=None)
async def ready(ctx: ContextDep) -> dict[str, Any] | JSONResponse:
    """Readiness: MongoDB answers a ping and the storage backend is reachable."""
    mongo, storage = await asyncio.gather(_check("mongo", ctx.check_mongo), _check("storage", ctx.check_storage))
    checks = {"mongo": mongo, "storage": storage}
    if mongo == "ok" and storage == "ok":
        return {"status": "ready", "checks": checks}
    failing = ", ".join(k for k, v in checks.items() if v != "ok")
    return JSONResponse({"status": "not_ready", "detail": f"not ready: {failing}", "error_code": "not_ready",
                         "checks": checks}, status_code=503)
