"""MongoDB access (pymongo's native async API): the `documents` index and the `jobs` collection."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from mydocs.settings import Settings
from mydocs.sidecar import Sidecar

DOCUMENTS = "documents"
JOBS = "jobs"
PING_TIMEOUT_SECONDS = 3.0
# how long an operation waits for a reachable server before failing (a request then answers 503 at once
# instead of hanging for pymongo's default 30 s)
SERVER_SELECTION_TIMEOUT_MS = 2000


class DatabaseUnavailable(Exception):
    """MongoDB did not answer."""


def create_client(settings: Settings, *,
                  server_selection_timeout_ms: int = SERVER_SELECTION_TIMEOUT_MS) -> AsyncMongoClient:
    """A lazy client: nothing connects until the first operation. Credentials are passed as options,
    never spliced into the URL (so they are never logged with it)."""
    kwargs: dict[str, Any] = {"tz_aware": True, "serverSelectionTimeoutMS": server_selection_timeout_ms,
                              "connectTimeoutMS": 5000, "appname": "mydocs"}
    if settings.MONGO_USER:
        kwargs["username"] = settings.MONGO_USER
        kwargs["password"] = settings.MONGO_PASSWORD
    return AsyncMongoClient(settings.MONGO_URL, **kwargs)


def get_database(client: AsyncMongoClient, settings: Settings) -> AsyncDatabase:
    return client[settings.MONGO_DB_NAME]


async def ensure_indexes(db: AsyncDatabase) -> None:
    """Idempotent. The unique (sha256, storage_mode) index makes managed dedup safe under concurrency."""
    docs = db[DOCUMENTS]
    await docs.create_index([("sha256", ASCENDING), ("storage_mode", ASCENDING)], unique=True,
                            name="sha256_mode_unique")
    await docs.create_index([("name", ASCENDING)], name="name")
    await docs.create_index([("tags", ASCENDING)], name="tags")
    await docs.create_index([("created_at", ASCENDING)], name="created_at")
    await db[JOBS].create_index([("status", ASCENDING)], name="status")


async def ping(db: AsyncDatabase, timeout: float = PING_TIMEOUT_SECONDS) -> None:
    try:
        await asyncio.wait_for(db.command("ping"), timeout)
    except (asyncio.TimeoutError, PyMongoError) as exc:
        raise DatabaseUnavailable(type(exc).__name__) from None


def record_from_sidecar(sidecar: Sidecar, storage_backend: str) -> dict[str, Any]:
    """The `documents` record: every sidecar field, `_id` = id, plus the backend it was found in."""
    rec = sidecar.model_dump()
    rec["_id"] = rec.pop("id")
    rec["storage_backend"] = storage_backend
    return rec


def sidecar_from_record(rec: dict[str, Any]) -> Sidecar:
    data = {k: v for k, v in rec.items() if k not in ("_id", "storage_backend")}
    data["id"] = rec["_id"]
    return Sidecar.model_validate(data)


def document_view(rec: dict[str, Any]) -> dict[str, Any]:
    """The API's `Document` shape."""
    return {
        "id": rec["_id"], "name": rec["name"], "size": rec["size"], "sha256": rec["sha256"],
        "content_type": rec["content_type"], "tags": list(rec.get("tags") or []),
        "storage_mode": rec["storage_mode"], "storage_backend": rec["storage_backend"],
        "created_at": rec["created_at"], "updated_at": rec["updated_at"],
    }
