"""Documents: upload, ingest, list, read, tag, delete. Order of writes: the file durable, then the sidecar and the
record (the two overlap; see store_managed)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import stat
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, ServerSelectionTimeoutError

from mydocs import fileio
from mydocs.backend.context import AppContext
from mydocs.db import DOCUMENTS, document_view, record_from_sidecar, sidecar_from_record
from mydocs.services.names import content_type_for, sanitize_filename
from mydocs.sidecar import (
    ID_RE,
    SIDECAR_CONTENT_TYPE,
    SIDECAR_SUFFIX,
    Sidecar,
    delete_external_sidecar,
    managed_file_key,
    managed_sidecar_key,
    utcnow,
    write_external_sidecar,
    write_managed_sidecar,
)
from mydocs.storage.base import CHUNK_SIZE, ObjectNotFound, StagedWrite, StorageBackend
from mydocs.storage.local import is_temp_name, read_file_range

log = logging.getLogger("mydocs.documents")

SORT_FIELDS = ("name", "size", "created_at", "updated_at")
MAX_INGEST_FILES = 10_000
MAX_NAME_COMPONENT_BYTES = 255


class DocumentNotFound(Exception):
    pass


class OutsideIngestRoots(Exception):
    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


class IngestPathError(Exception):
    """An ingest path that cannot be resolved: 403 (permission) or 422 (not a usable path)."""

    def __init__(self, status_code: int, error_code: str, path: str, detail: str):
        super().__init__(detail)
        self.status_code, self.error_code, self.path, self.detail = status_code, error_code, path, detail


class IngestTooLarge(Exception):
    """The request names more files or bytes than one ingest may take."""

    def __init__(self, error_code: str, detail: str):
        super().__init__(detail)
        self.error_code, self.detail = error_code, detail


class FileNotRegular(Exception):
    """An external document's file is now a FIFO, device, folder or symlink: refused at once."""


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
        await self.ctx.ensure_indexes()  # the unique index is what finds known content (a no-op once made)
        doc_id = new_id()
        name = sanitize_filename(filename)
        ctype = content_type_for(name, declared_type)
        key = managed_file_key(doc_id, name)
        file = await storage.stage_stream(key, chunks, content_type=ctype, max_bytes=max_bytes)
        # From here on the file's bytes are in storage: any failure (database down, cancelled, sidecar refused)
        # removes the record, the sidecar and the file, in that order (_discard). Independent steps overlap:
        #   1. the file's commit (fsync, rename, folder fsync) | the sidecar's temp file written and fsynced
        #   2. the record's insert                              | the sidecar's commit (rename, folder fsync)
        # so the 201 still waits for all three, a record is inserted only once the file is durable, and the
        # sidecar becomes visible only after the file. Known content is found by the unique (sha256,
        # storage_mode) index when the record is inserted, not by a look-up before: one round trip per file.
        written = file.result
        steps: list[asyncio.Future[Any]] = []
        staging: asyncio.Future[StagedWrite] | None = None
        insert: asyncio.Future[Any] | None = None
        try:
            now = utcnow()
            sidecar = Sidecar(id=doc_id, name=name, size=written.size, sha256=written.sha256, content_type=ctype,
                              tags=tags, storage_mode="managed", file_key=key, source=source, created_at=now,
                              updated_at=now)
            record = record_from_sidecar(sidecar, storage.name)
            staging = asyncio.ensure_future(storage.stage_bytes(managed_sidecar_key(doc_id), sidecar.to_json_bytes(),
                                                                content_type=SIDECAR_CONTENT_TYPE))
            steps += [asyncio.ensure_future(file.commit()), staging]
            await asyncio.wait(steps)
            for step in steps:
                step.result()  # the first failure, if any
            insert = asyncio.ensure_future(self.coll.insert_one(record))
            steps += [insert, asyncio.ensure_future(staging.result().commit())]
            await asyncio.wait(steps[2:])
            for step in steps[2:]:
                step.result()
        except DuplicateKeyError:  # the same content is stored already (or finished concurrently): keep that
            await asyncio.shield(self._discard(doc_id, file, steps, staging, None))
            existing = await self.coll.find_one({"sha256": written.sha256, "storage_mode": "managed"})
            if existing is None:
                raise
            return StoredResult(document_view(existing), True)
        except BaseException:
            await asyncio.shield(self._discard(doc_id, file, steps, staging, insert))
            raise
        return StoredResult(document_view(record), False)

    async def _discard(self, doc_id: str, file: StagedWrite, steps: list[asyncio.Future[Any]],
                       staging: asyncio.Future[StagedWrite] | None, insert: asyncio.Future[Any] | None) -> None:
        """After a failed store_managed: wait for the steps still running (never abandoned half-way), then
        remove what they left — the record (if its insert may have reached the database), the sidecar, the
        file. Cleanup errors are logged; the original failure is what the client hears about."""
        running = {*steps, *([insert] if insert is not None else [])}
        if running:
            await asyncio.wait(running)
        for step in running:
            if not step.cancelled():
                step.exception()  # retrieved: the failure that matters is re-raised by the caller
        if insert is not None and _may_have_inserted(insert):
            await _quietly(self.coll.delete_one({"_id": doc_id}))
        if staging is not None and staging.done() and not staging.cancelled() and staging.exception() is None:
            await _quietly(staging.result().abort())
        await _quietly(file.abort())

    async def rollback(self, doc_ids: list[str]) -> None:
        """Remove documents created earlier in a request that failed as a whole (best effort: the request
        may have failed because the database or storage is down)."""
        for doc_id in doc_ids:
            try:
                await self.delete(doc_id)
            except DocumentNotFound:
                pass
            except Exception as exc:
                log.error("could not roll back document %s: %s", doc_id, type(exc).__name__)

    async def store_external(self, path: Path, tags: list[str]) -> StoredResult:
        """External mode: the file stays where it is; its sidecar goes beside it. The file is hashed from a
        descriptor opened without following links and checked against the roots (fileio.open_regular);
        the record names the descriptor's real path."""
        size, sha, real = await fileio.run(_hash_file, path, self.ctx.settings.ingest_roots)
        existing = await self.coll.find_one({"sha256": sha, "storage_mode": "external"})
        if existing is not None:
            return StoredResult(document_view(existing), True)
        doc_id = new_id()
        name = sanitize_filename(real.name)
        now = utcnow()
        sidecar = Sidecar(id=doc_id, name=name, size=size, sha256=sha, content_type=content_type_for(name, None),
                          tags=tags, storage_mode="external", file_key=str(real), source="ingest",
                          created_at=now, updated_at=now)
        await write_external_sidecar(sidecar)
        record = record_from_sidecar(sidecar, "local")
        try:
            await self.coll.insert_one(record)
        except DuplicateKeyError:
            await delete_external_sidecar(str(real), doc_id)
            existing = await self.coll.find_one({"sha256": sha, "storage_mode": "external"})
            if existing is None:
                raise
            return StoredResult(document_view(existing), True)
        except BaseException:
            await asyncio.shield(_quietly(delete_external_sidecar(str(real), doc_id)))
            raise
        return StoredResult(document_view(record), False)

    # ---- ingest -----------------------------------------------------------------------------------------
    def resolve_ingest_path(self, raw: str) -> Path:
        """Real path of `raw` (relative = under the first root); OutsideIngestRoots unless inside a root."""
        if "\x00" in raw or not raw.strip():
            raise OutsideIngestRoots(raw)
        if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_COMPONENT_BYTES for part in raw.split("/")):
            raise IngestPathError(422, "invalid_path", raw, f"a path component is longer than "
                                  f"{MAX_NAME_COMPONENT_BYTES} bytes")
        roots = self.ctx.settings.ingest_roots
        candidate = Path(raw) if os.path.isabs(raw) else roots[0] / raw
        real = Path(os.path.realpath(candidate))
        if not any(_within(real, Path(os.path.realpath(root))) for root in roots):
            raise OutsideIngestRoots(raw)
        return real

    async def ingest(self, paths: list[str], storage_mode: Literal["managed", "external"],
                     tags: list[str], progress: Callable[[int, int], Awaitable[None]] | None = None) -> IngestReport:
        """Every path is resolved and every folder walked (files and bytes counted against the limits)
        before any file is stored; the same file named twice is ingested once."""
        resolved = [(raw, self.resolve_ingest_path(raw)) for raw in dict.fromkeys(paths)]
        report = IngestReport()
        files = await fileio.run(self._expand_all, resolved, report.errors)
        for done, (shown, path) in enumerate(files):
            if progress is not None:
                await progress(done, len(files))
            try:
                if storage_mode == "managed":
                    result = await self._ingest_managed(path, tags)
                else:
                    result = await self.store_external(path, tags)
            except fileio.OutsideRoots:
                report.errors.append({"path": shown, "error_code": "outside_ingest_roots",
                                      "detail": "the file now lies outside the ingest roots (replaced while "
                                      "the ingest ran?)"})
                continue
            except fileio.NotRegularFile as exc:
                report.errors.append({"path": shown, "error_code": "not_a_file", "detail": exc.strerror})
                continue
            except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
                report.errors.append({"path": shown, "error_code": "unreadable", "detail": exc.strerror or
                                      type(exc).__name__})
                continue
            except OSError as exc:
                report.errors.append({"path": shown, "error_code": "io_error",
                                      "detail": exc.strerror or type(exc).__name__})
                continue
            report.results.append({"path": shown, "document": result.document, "duplicate": result.duplicate})
        if progress is not None:
            await progress(len(files), len(files))
        return report

    async def _ingest_managed(self, path: Path, tags: list[str]) -> StoredResult:
        """Copy from a descriptor checked after opening (no symlink swapped in after the walk is followed)."""
        fd = await fileio.run(fileio.open_regular, path, self.ctx.settings.ingest_roots)
        owned = True

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal owned
            owned = False  # read_file_range closes it from here on
            async for chunk in read_file_range(fd):
                yield chunk

        try:
            return await self.store_managed(chunks(), filename=path.name, declared_type=None, tags=tags,
                                            source="ingest", max_bytes=None)
        finally:
            if owned:
                os.close(fd)

    def _expand_all(self, resolved: list[tuple[str, Path]], errors: list[dict[str, Any]]) -> list[tuple[str, Path]]:
        """Every file to ingest, each once; IngestTooLarge as soon as the files or bytes pass the limits."""
        roots = [Path(os.path.realpath(r)) for r in self.ctx.settings.ingest_roots]
        max_bytes = self.ctx.settings.MYDOCS_MAX_INGEST_BYTES
        found: dict[Path, str] = {}
        total = 0
        walked: set[Path] = set()

        def add(shown: str, target: Path, size: int) -> None:
            nonlocal total
            if target in found:
                return
            found[target] = shown
            total += size
            if len(found) > MAX_INGEST_FILES:
                raise IngestTooLarge("too_many_files", f"more than {MAX_INGEST_FILES} files; ingest fewer at a time")
            if total > max_bytes:
                raise IngestTooLarge("ingest_too_large", f"more than {max_bytes} bytes in one ingest "
                                     "(MYDOCS_MAX_INGEST_BYTES); ingest fewer files at a time")

        for raw, real in resolved:
            try:
                st = os.stat(real)
            except (FileNotFoundError, NotADirectoryError):
                errors.append({"path": raw, "error_code": "not_found", "detail": "no such file or folder"})
                continue
            except PermissionError:
                raise IngestPathError(403, "permission_denied", raw, "the server may not read this path") from None
            except OSError as exc:
                raise IngestPathError(422, "invalid_path", raw, exc.strerror or "the path cannot be used") from None
            if stat.S_ISREG(st.st_mode):
                add(str(real), real, st.st_size)
                continue
            if not stat.S_ISDIR(st.st_mode):
                errors.append({"path": raw, "error_code": "not_a_file", "detail": "not a regular file or folder"})
                continue
            if real in walked:
                continue
            walked.add(real)
            for dirpath, dirnames, filenames in os.walk(real, followlinks=False):
                dirnames.sort()
                for d in dirnames:
                    p = Path(dirpath) / d
                    if p.is_symlink() and not any(_within(Path(os.path.realpath(p)), r) for r in roots):
                        errors.append({"path": str(p), "error_code": "outside_ingest_roots",
                                       "detail": "symbolic link to a folder outside the ingest roots (not followed)"})
                for name in sorted(filenames):
                    if name.endswith(SIDECAR_SUFFIX) or is_temp_name(name):
                        continue
                    p = Path(dirpath) / name
                    target = Path(os.path.realpath(p))
                    if not any(_within(target, r) for r in roots):
                        errors.append({"path": str(p), "error_code": "outside_ingest_roots",
                                       "detail": "symbolic link leading outside the ingest roots"})
                        continue
                    try:
                        tst = os.stat(target, follow_symlinks=False)
                    except OSError:
                        continue  # vanished since the listing
                    if stat.S_ISREG(tst.st_mode):
                        add(str(p), target, tst.st_size)
        return [(shown, target) for target, shown in found.items()]

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

    async def open_for_download(self, rec: dict[str, Any]) -> OpenedFile:
        """Size and a reader of the document's file. External files are opened here, once, without following
        links and checked (regular file inside the roots) before anything is sent; the caller closes."""
        if rec["storage_mode"] == "external":
            roots = self.ctx.settings.ingest_roots
            await fileio.run(self.external_path, rec)
            try:
                fd = await fileio.run(fileio.open_regular, rec["file_key"], roots)
            except (FileNotFoundError, NotADirectoryError):
                raise ObjectNotFound(rec["file_key"]) from None
            except fileio.NotRegularFile:
                raise FileNotRegular(rec["file_key"]) from None
            except fileio.OutsideRoots:
                raise OutsideIngestRoots(rec["file_key"]) from None
            return OpenedFile(os.fstat(fd).st_size, fd=fd)
        storage = await self.ctx.storage(rec["storage_backend"])
        info = await storage.stat(rec["file_key"])
        if info is None:
            raise ObjectNotFound(rec["file_key"])
        return OpenedFile(info.size, storage=storage, key=rec["file_key"])

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


def _may_have_inserted(insert: asyncio.Future[Any]) -> bool:
    """Whether a finished insert may have stored the record: yes unless it was refused as a duplicate or no
    server could be selected (then it was never sent)."""
    if insert.cancelled():
        return True
    exc = insert.exception()
    return not isinstance(exc, (DuplicateKeyError, ServerSelectionTimeoutError))


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _hash_file(path: Path, roots: list[Path]) -> tuple[int, str, Path]:
    """Size, sha256 and real path of the regular file at `path`, all from one checked descriptor."""
    fd = fileio.open_regular(path, roots)
    try:
        real = Path(os.readlink(f"/proc/self/fd/{fd}"))
        digest = hashlib.sha256()
        size = 0
        while chunk := os.read(fd, CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return size, digest.hexdigest(), real


async def _quietly(aw: Any) -> None:
    try:
        await aw
    except Exception as exc:  # cleanup after a failure must not hide that failure
        log.error("cleanup failed: %s", type(exc).__name__)


@dataclass
class OpenedFile:
    """A file ready to be sent: an open descriptor (external) or a backend key (managed)."""

    size: int
    fd: int | None = None
    storage: StorageBackend | None = None
    key: str | None = None

    def stream(self, start: int, end: int | None) -> AsyncIterator[bytes]:
        if self.fd is not None:
            fd, self.fd = self.fd, None  # the stream owns it now
            return read_file_range(fd, start, end)
        assert self.storage is not None and self.key is not None
        return self.storage.read_stream(self.key, start=start, end=end)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
