"""Documents: upload, ingest, list, read, tag, delete. Order of writes: file, then sidecar, then record."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from mydocs.backend.context import AppContext
from mydocs.db import DOCUMENTS, document_view, record_from_sidecar, sidecar_from_record
from mydocs.services.names import content_type_for, sanitize_filename
from mydocs.sidecar import (
    ID_RE,
    SIDECAR_SUFFIX,
    Sidecar,
    delete_external_sidecar,
    managed_file_key,
    managed_sidecar_key,
    utcnow,
    write_external_sidecar,
    write_managed_sidecar,
)
from mydocs.storage.base import CHUNK_SIZE, ObjectNotFound, StorageBackend
from mydocs.storage.local import is_temp_name, read_file_range

log = logging.getLogger("mydocs.documents")

SORT_FIELDS = ("name", "size", "created_at", "updated_at")
MAX_INGEST_FILES = 10_000


class DocumentNotFound(Exception):
    pass


class OutsideIngestRoots(Exception):
    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


@dataclass
class StoredResult:
    document: dict[str, Any]
    duplicate: bool


@dataclass
class IngestReport:
    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def new_id() -> str:
    return uuid.uuid4().hex


class DocumentService:
    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self.coll = ctx.db[DOCUMENTS]

    # ---- creating ---------------------------------------------------------------------------------------
    async def store_managed(self, chunks: AsyncIterable[bytes], *, filename: str | None,
                            declared_type: str | None, tags: list[str], source: Literal["upload", "ingest"],
                            max_bytes: int | None) -> StoredResult:
        """Stream into the configured backend; answer the existing document when the content is known."""
        storage = await self.ctx.storage()
        doc_id = new_id()
        name = sanitize_filename(filename)
        ctype = content_type_for(name, declared_type)
        key = managed_file_key(doc_id, name)
        written = await storage.write_stream(key, chunks, content_type=ctype, max_bytes=max_bytes)
        existing = await self.coll.find_one({"sha256": written.sha256, "storage_mode": "managed"})
        if existing is not None:
            await storage.delete(key)
            return StoredResult(document_view(existing), True)
        now = utcnow()
        sidecar = Sidecar(id=doc_id, name=name, size=written.size, sha256=written.sha256, content_type=ctype,
                          tags=tags, storage_mode="managed", file_key=key, source=source, created_at=now,
                          updated_at=now)
        try:
            await write_managed_sidecar(storage, sidecar)
            record = record_from_sidecar(sidecar, storage.name)
            await self.coll.insert_one(record)
        except DuplicateKeyError:  # the same content finished concurrently: keep theirs
            await self._remove_managed(storage, doc_id, key)
            existing = await self.coll.find_one({"sha256": written.sha256, "storage_mode": "managed"})
            if existing is None:
                raise
            return StoredResult(document_view(existing), True)
        except BaseException:
            await asyncio.shield(self._remove_managed(storage, doc_id, key))
            raise
        return StoredResult(document_view(record), False)

    async def _remove_managed(self, storage: StorageBackend, doc_id: str, key: str) -> None:
        await storage.delete(key)
        await storage.delete(managed_sidecar_key(doc_id))

    async def rollback(self, doc_ids: list[str]) -> None:
        """Remove documents created earlier in a request that failed as a whole."""
        for doc_id in doc_ids:
            try:
                await self.delete(doc_id)
            except DocumentNotFound:
                pass

    async def store_external(self, path: Path, tags: list[str]) -> StoredResult:
        """External mode: the file stays where it is; its sidecar goes beside it."""
        size, sha = await asyncio.to_thread(_hash_file, path)
        existing = await self.coll.find_one({"sha256": sha, "storage_mode": "external"})
        if existing is not None:
            return StoredResult(document_view(existing), True)
        doc_id = new_id()
        name = sanitize_filename(path.name)
        now = utcnow()
        sidecar = Sidecar(id=doc_id, name=name, size=size, sha256=sha, content_type=content_type_for(name, None),
                          tags=tags, storage_mode="external", file_key=str(path), source="ingest",
                          created_at=now, updated_at=now)
        await write_external_sidecar(sidecar)
        record = record_from_sidecar(sidecar, "local")
        try:
            await self.coll.insert_one(record)
        except DuplicateKeyError:
            await delete_external_sidecar(str(path), doc_id)
            existing = await self.coll.find_one({"sha256": sha, "storage_mode": "external"})
            if existing is None:
                raise
            return StoredResult(document_view(existing), True)
        except BaseException:
            await asyncio.shield(delete_external_sidecar(str(path), doc_id))
            raise
        return StoredResult(document_view(record), False)

    # ---- ingest -----------------------------------------------------------------------------------------
    def resolve_ingest_path(self, raw: str) -> Path:
        """Real path of `raw` (relative = under the first root); OutsideIngestRoots unless inside a root."""
        if "\x00" in raw or not raw.strip():
            raise OutsideIngestRoots(raw)
        roots = self.ctx.settings.ingest_roots
        candidate = Path(raw) if os.path.isabs(raw) else roots[0] / raw
        real = Path(os.path.realpath(candidate))
        if not any(_within(real, Path(os.path.realpath(root))) for root in roots):
            raise OutsideIngestRoots(raw)
        return real

    async def ingest(self, paths: list[str], storage_mode: Literal["managed", "external"],
                     tags: list[str]) -> IngestReport:
        resolved = [(raw, self.resolve_ingest_path(raw)) for raw in paths]  # all checked before any work
        report = IngestReport()
        files: list[tuple[str, Path]] = []
        for raw, real in resolved:
            found, errors = await asyncio.to_thread(self._expand, raw, real)
            files.extend(found)
            report.errors.extend(errors)
        if len(files) > MAX_INGEST_FILES:
            report.errors.append({"path": None, "error_code": "too_many_files",
                                  "detail": f"more than {MAX_INGEST_FILES} files; ingest fewer at a time"})
            return report
        for shown, path in files:
            try:
                if storage_mode == "managed":
                    result = await self.store_managed(_file_chunks(path), filename=path.name, declared_type=None,
                                                      tags=tags, source="ingest", max_bytes=None)
                else:
                    result = await self.store_external(path, tags)
            except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
                report.errors.append({"path": shown, "error_code": "unreadable", "detail": exc.strerror or
                                      type(exc).__name__})
                continue
            except OSError as exc:
                report.errors.append({"path": shown, "error_code": "io_error",
                                      "detail": exc.strerror or type(exc).__name__})
                continue
            report.results.append({"path": shown, "document": result.document, "duplicate": result.duplicate})
        return report

    def _expand(self, raw: str, real: Path) -> tuple[list[tuple[str, Path]], list[dict[str, Any]]]:
        """A file, or every regular file below a folder (recursively); skips sidecars and temp files."""
        roots = [Path(os.path.realpath(r)) for r in self.ctx.settings.ingest_roots]
        if not real.exists():
            return [], [{"path": raw, "error_code": "not_found", "detail": "no such file or folder"}]
        if real.is_file():
            return [(str(real), real)], []
        if not real.is_dir():
            return [], [{"path": raw, "error_code": "not_a_file", "detail": "not a regular file or folder"}]
        found: list[tuple[str, Path]] = []
        errors: list[dict[str, Any]] = []
        for dirpath, dirnames, filenames in os.walk(real, followlinks=False):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(SIDECAR_SUFFIX) or is_temp_name(name):
                    continue
                p = Path(dirpath) / name
                target = Path(os.path.realpath(p))
                shown = str(p)
                if not any(_within(target, r) for r in roots):
                    errors.append({"path": shown, "error_code": "outside_ingest_roots",
                                   "detail": "symbolic link leading outside the ingest roots"})
                    continue
                if not target.is_file():
                    continue
                found.append((shown, target))
                if len(found) > MAX_INGEST_FILES:
                    return found, errors
        return found, errors

    # ---- reading ----------------------------------------------------------------------------------------
    async def get_record(self, doc_id: str) -> dict[str, Any]:
        if not ID_RE.match(doc_id or ""):
            raise DocumentNotFound(doc_id)
        rec = await self.coll.find_one({"_id": doc_id})
        if rec is None:
            raise DocumentNotFound(doc_id)
        return rec

    async def list(self, *, page: int, page_size: int, q: str | None, tag: str | None, sort: str,
                   order: str) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if q:
            query["name"] = {"$regex": re.escape(q), "$options": "i"}
        if tag:
            query["tags"] = tag
        direction = ASCENDING if order == "asc" else DESCENDING
        total = await self.coll.count_documents(query)
        cursor = self.coll.find(query).sort([(sort, direction), ("_id", direction)]) \
            .skip((page - 1) * page_size).limit(page_size)
        items = [document_view(rec) async for rec in cursor]
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    def external_path(self, rec: dict[str, Any]) -> Path:
        """An external file is served only while it lies inside a configured ingest root (a record or sidecar
        naming any other path, e.g. restored from a planted sidecar, is refused)."""
        real = Path(os.path.realpath(rec["file_key"]))
        if not any(_within(real, Path(os.path.realpath(r))) for r in self.ctx.settings.ingest_roots):
            raise OutsideIngestRoots(rec["file_key"])
        return real

    async def file_size(self, rec: dict[str, Any]) -> int:
        if rec["storage_mode"] == "external":
            self.external_path(rec)
            try:
                return (await asyncio.to_thread(os.stat, rec["file_key"])).st_size
            except FileNotFoundError:
                raise ObjectNotFound(rec["file_key"]) from None
        storage = await self.ctx.storage(rec["storage_backend"])
        info = await storage.stat(rec["file_key"])
        if info is None:
            raise ObjectNotFound(rec["file_key"])
        return info.size

    async def open_file(self, rec: dict[str, Any], start: int, end: int | None) -> AsyncIterator[bytes]:
        if rec["storage_mode"] == "external":
            return _file_chunks(self.external_path(rec), start, end)
        storage = await self.ctx.storage(rec["storage_backend"])
        return storage.read_stream(rec["file_key"], start=start, end=end)

    # ---- changing ---------------------------------------------------------------------------------------
    async def set_tags(self, doc_id: str, tags: list[str]) -> dict[str, Any]:
        """Sidecar first (the system of record), then the record."""
        rec = await self.get_record(doc_id)
        now = utcnow()
        sidecar = sidecar_from_record({**rec, "tags": tags, "updated_at": now})
        if rec["storage_mode"] == "managed":
            await write_managed_sidecar(await self.ctx.storage(rec["storage_backend"]), sidecar)
        else:
            await write_external_sidecar(sidecar)
        updated = await self.coll.find_one_and_update({"_id": doc_id}, {"$set": {"tags": tags, "updated_at": now}},
                                                      return_document=ReturnDocument.AFTER)
        if updated is None:
            raise DocumentNotFound(doc_id)
        return document_view(updated)

    async def delete(self, doc_id: str) -> None:
        """Managed: file, sidecar, record. External: sidecar and record (the original file is the user's)."""
        rec = await self.get_record(doc_id)
        if rec["storage_mode"] == "managed":
            storage = await self.ctx.storage(rec["storage_backend"])
            await storage.delete(rec["file_key"])
            await storage.delete(managed_sidecar_key(doc_id))
        else:
            await delete_external_sidecar(rec["file_key"], doc_id)
        await self.coll.delete_one({"_id": doc_id})


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


async def _file_chunks(path: Path, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
    f = await asyncio.to_thread(open, path, "rb")
    async for chunk in read_file_range(f, start, end):
        yield chunk
