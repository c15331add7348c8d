"""Helpers of the sync and migrate tests: real documents made through the real API, snapshots, the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from bodies import MIB, Payload, upload
from mydocs.settings import Settings
from mydocs.storage.base import StorageBackend, open_backend

MYDOCS = str(Path(sys.executable).parent / "mydocs")


async def make_documents(client, count: int, *, size: int = 1000, tags: str | None = "alpha,beta",
                         seed: int = 0) -> list[dict[str, Any]]:
    """Upload `count` distinct files through POST /api/v1/documents/upload; returns the Documents."""
    docs = []
    for i in range(count):
        n = size if size >= 0 else i * 1000
        data: bytes | Payload = Payload(n, seed=seed * 10_000 + i) if n >= MIB else \
            hashlib.sha256(f"{seed}-{i}".encode()).digest() * (n // 32) + f"{seed}-{i}".encode()
        r = await upload(client, (f"doc {i}.txt", data), tags=tags, content_type="text/plain")
        assert r.status_code == 201, r.text
        docs.append(r.json()["results"][0]["document"])
    return docs


async def records(mongo_db) -> list[dict[str, Any]]:
    """Every `documents` record, ordered by id (the exact database content)."""
    return [rec async for rec in mongo_db.documents.find({}).sort("_id", 1)]


async def object_sums(storage: StorageBackend) -> dict[str, tuple[int, str]]:
    """key -> (size, sha256) of every object in a backend, read back in full."""
    out = {}
    async for info in storage.list():
        digest = hashlib.sha256()
        size = 0
        async for chunk in storage.read_stream(info.key):
            digest.update(chunk)
            size += len(chunk)
        out[info.key] = (size, digest.hexdigest())
    return out


async def opened(settings: Settings, name: str) -> StorageBackend:
    backend = open_backend(name, settings)
    await backend.open()
    return backend


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment a `mydocs` process needs for these settings (credentials in env, never in argv)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MONGO_", "MYDOCS_", "AZURE_", "DATA_FOLDER", "CONFIG_ROOT", "ENTRA_"))}
    env.update({"MONGO_URL": settings.MONGO_URL, "MONGO_DB_NAME": settings.MONGO_DB_NAME,
                "DATA_FOLDER": str(settings.DATA_FOLDER), "CONFIG_ROOT": str(settings.CONFIG_ROOT),
                "AZURE_STORAGE_CONNECTION_STRING": settings.AZURE_STORAGE_CONNECTION_STRING or "",
                "AZURE_STORAGE_CONTAINER_NAME": settings.AZURE_STORAGE_CONTAINER_NAME,
                "MYDOCS_STORAGE_BACKEND": settings.MYDOCS_STORAGE_BACKEND})
    if settings.MYDOCS_INGEST_ROOTS:
        env["MYDOCS_INGEST_ROOTS"] = ":".join(str(p) for p in settings.MYDOCS_INGEST_ROOTS)
    return env


async def run_cli(settings: Settings, *args: str, timeout: float = 300) -> tuple[int, str, str]:
    """Run the real `mydocs` console script; returns (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(MYDOCS, *args, env=cli_env(settings), stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


async def poll_job(client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    """GET /api/v1/sync/jobs/{id} until it succeeded or failed."""
    deadline = asyncio.get_running_loop().time() + timeout
    seen = []
    while True:
        r = await client.get(f"/api/v1/sync/jobs/{job_id}")
        assert r.status_code == 200, r.text
        job = r.json()
        seen.append(job["status"])
        if job["status"] in ("succeeded", "failed"):
            job["seen_statuses"] = seen
            return job
        assert asyncio.get_running_loop().time() < deadline, f"job still {job['status']}: {job}"
        await asyncio.sleep(0.05)
