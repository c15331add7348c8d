"""/api/v1/info: what the SPA needs to know about this backend."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mydocs import __version__
from mydocs.backend.deps import SettingsDep

router = APIRouter(tags=["info"])


@router.get("/info")
async def info(settings: SettingsDep) -> dict[str, Any]:
    """Version, whether auth is on, the storage backend and the upload limit."""
    return {"version": __version__, "auth_enabled": settings.auth_enabled,
            "storage_backend": settings.MYDOCS_STORAGE_BACKEND, "max_upload_bytes": settings.MYDOCS_MAX_UPLOAD_BYTES}
