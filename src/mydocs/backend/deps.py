"""Request dependencies as Annotated aliases, so handlers read like sentences."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pymongo.asynchronous.database import AsyncDatabase

from mydocs.backend.context import AppContext
from mydocs.services.jobs import JobRunner
from mydocs.settings import Settings


# async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread hop per request


async def get_context(request: Request) -> AppContext:
    return request.app.state.ctx


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.ctx.settings


async def get_db(request: Request) -> AsyncDatabase:
    return request.app.state.ctx.db


def job_runner(request: Request) -> JobRunner:
    """The process's background job runner (sync, migrate, ingest), created on first use."""
    runner = getattr(request.app.state, "sync_jobs", None)
    if runner is None:
        runner = request.app.state.sync_jobs = JobRunner()
    return runner


ContextDep = Annotated[AppContext, Depends(get_context)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DatabaseDep = Annotated[AsyncDatabase, Depends(get_db)]
