"""The app factory: `uvicorn mydocs.backend.app:create_app --factory`. Creating the app connects to nothing."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from mydocs import __version__
from mydocs.backend.auth import (
    BearerAuthMiddleware,
    build_validator,
    install_auth_error_handler,
    require_admin,
    require_user,
)
from mydocs.backend.context import AppContext
from mydocs.backend.errors import install_error_handlers
from mydocs.backend.limits import BodyLimitMiddleware
from mydocs.backend.routes import documents, health, info
from mydocs.parser_config import ParserConfigError, load_parser_config
from mydocs.settings import ConfigError, Settings, get_settings

log = logging.getLogger("mydocs")


def _exit_with(problems: list[str]) -> None:
    """Bad configuration stops start-up with one line per problem, never a traceback."""
    for line in problems:
        print(f"mydocs: configuration error: {line}", file=sys.stderr)
    raise SystemExit(1)


def _configure_logging(level: str) -> None:
    logging.getLogger("mydocs").setLevel(level.upper())
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # the Azure SDK logs every HTTP request at INFO (URLs with SAS parameters among them)
    logging.getLogger("azure").setLevel(logging.WARNING)


def _sync_router():  # noqa: ANN202
    """The /sync router of the sync area, when that module exists."""
    try:
        module = importlib.import_module("mydocs.backend.routes.sync")
    except ModuleNotFoundError as exc:
        if exc.name != "mydocs.backend.routes.sync":
            raise
        return None
    return module.router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    ctx: AppContext = app.state.ctx
    settings = ctx.settings
    app.state.token_validator = build_validator(settings)
    await ctx.start()
    log.info("mydocs %s ready to serve: storage %s, database %s", __version__, settings.MYDOCS_STORAGE_BACKEND,
             settings.MONGO_DB_NAME)
    try:
        yield
    finally:
        jobs = getattr(app.state, "sync_jobs", None)  # background sync/migrate jobs (mydocs.services.jobs)
        if jobs is not None:
            await jobs.shutdown()
        validator = app.state.token_validator
        if validator is not None:
            await validator.aclose()
        await ctx.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. Without `settings`, the environment is read and validated (bad values: exit 1)."""
    if settings is None:
        try:
            settings = get_settings()
        except ConfigError as exc:
            _exit_with(exc.problems)
    assert settings is not None
    _configure_logging(settings.MYDOCS_LOG_LEVEL)
    try:
        parser_config = load_parser_config(settings.CONFIG_ROOT)
    except ParserConfigError as exc:
        _exit_with(exc.problems)

    # the schema and docs are public pages (nginx proxies /api): only offered while auth is off
    docs = not settings.auth_enabled
    app = FastAPI(title="MyDocs", version=__version__, lifespan=lifespan,
                  docs_url="/api/docs" if docs else None, redoc_url=None,
                  openapi_url="/api/openapi.json" if docs else None,
                  generate_unique_id_function=lambda route: route.name)  # stable operation ids for clients
    app.state.ctx = AppContext(settings, parser_config)
    # no default for app.state.token_validator: if the lifespan never ran, require_user answers 503
    # instead of letting requests through unauthenticated
    install_error_handlers(app)
    install_auth_error_handler(app)
    app.add_middleware(BodyLimitMiddleware)
    # tokens are checked before any body is read (require_user stays on the routers as the final check)
    app.add_middleware(BearerAuthMiddleware, prefix="/api/v1")

    app.include_router(health.router)
    protected = [Depends(require_user)]
    app.include_router(info.router, prefix="/api/v1", dependencies=protected)
    app.include_router(documents.router, prefix="/api/v1/documents", dependencies=protected)
    sync_router = _sync_router()
    if sync_router is not None:
        # sync and migrate act on whole backends (migrate may delete sources): the admin role only
        app.include_router(sync_router, prefix="/api/v1/sync", dependencies=[*protected, Depends(require_admin)])
    return app
