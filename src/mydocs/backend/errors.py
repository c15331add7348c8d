"""Every error answer is JSON `{"detail": ..., "error_code": ...}`: HTTP errors, validation, and the unexpected."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

from mydocs.db import DatabaseUnavailable

log = logging.getLogger("mydocs.api")

_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 411: "length_required",
          413: "payload_too_large", 415: "unsupported_media_type", 416: "range_not_satisfiable",
          408: "request_timeout", 422: "validation_error", 429: "too_many_requests", 500: "internal_error",
          503: "service_unavailable", 507: "storage_full"}
DATABASE_RETRY_AFTER_SECONDS = 5


class ApiError(Exception):
    """A deliberate error answer."""

    def __init__(self, status_code: int, error_code: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.error_code = error_code
        self.detail = detail
        self.headers = headers


def error_response(status_code: int, error_code: str, detail: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "error_code": error_code}, status_code=status_code, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.error_code, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "validation_error", _validation_detail(exc))

    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        # pymongo gave up selecting a server (bounded by db.SERVER_SELECTION_TIMEOUT_MS) or lost the
        # connection: the client may retry; the driver reconnects by itself once the server is back
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return error_response(503, "database_unavailable", "the database is not reachable right now; retry later",
                              headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})

    app.add_exception_handler(ConnectionFailure, _database_down)
    app.add_exception_handler(DatabaseUnavailable, _database_down)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__,
                  exc_info=exc)
        return error_response(500, "internal_error", "internal server error")
