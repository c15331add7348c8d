"""/api/v1/documents: upload (streamed multipart), ingest, list, get, download (Range), tags, delete."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect
from pydantic import BaseModel, ConfigDict, Field, field_validator

from mydocs.backend.auth import require_admin
from mydocs.backend.deps import ContextDep
from mydocs.backend.errors import ApiError
from mydocs.backend.multipart import MultipartError, MultipartReader, boundary_from_content_type
from mydocs.services.documents import (
    DocumentNotFound,
    DocumentService,
    FileNotRegular,
    IngestPathError,
    IngestTooLarge,
    OutsideIngestRoots,
)
from mydocs.services.names import normalize_tags, served_content_type
from mydocs.storage.base import ObjectNotFound, ObjectTooLarge, StorageFull, StorageUnavailable

T = TypeVar("T")

router = APIRouter(tags=["documents"])

FILE_FIELDS = {"files", "file"}
MAX_FIELD_BYTES = 8 * 1024


class TagsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[str] = Field(max_length=200)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return normalize_tags(v)


class IngestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(min_length=1, max_length=1000)
    storage_mode: Literal["managed", "external"] = "managed"
    tags: list[str] = Field(default_factory=list, max_length=200)
    background: bool = False  # true: 202 with a job id (GET /api/v1/sync/jobs/{id}, cancellable)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return normalize_tags(v)


def _not_found(doc_id: str) -> ApiError:
    return ApiError(404, "document_not_found", f"no document with id {doc_id!r}"[:200])


def _storage_error(exc: StorageUnavailable | StorageFull) -> ApiError:
    if isinstance(exc, StorageFull):
        return ApiError(507, "storage_full", str(exc))
    return ApiError(503, "storage_unavailable", str(exc), headers={"Retry-After": "30"})


class BodyIdle(Exception):
    """The client sent nothing for the idle timeout in the middle of a body."""


async def _idle_bounded(body: AsyncIterator[bytes], seconds: float) -> AsyncIterator[bytes]:
    """The body's chunks; BodyIdle when the next one takes longer than `seconds` (a stalled client
    must not hold a descriptor and a temp file forever when no proxy with its own timeout is in front).
    One timer, moved per chunk and off while the consumer works (cheaper than a wait_for per chunk)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(None) as idle:
            while True:
                idle.reschedule(loop.time() + seconds)
                try:
                    chunk = await body.__anext__()
                except StopAsyncIteration:
                    return
                idle.reschedule(None)
                yield chunk
    except TimeoutError:
        raise BodyIdle() from None


async def _until_client_leaves(request: Request, work: Awaitable[T]) -> T:
    """Run `work`, cancelling it when the client disconnects (its body is read: the next ASGI message
    is http.disconnect, sent when the client goes away)."""
    task = asyncio.ensure_future(work)

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(watch())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise ApiError(400, "client_disconnected", "the client went away; the ingest was stopped")
    return task.result()


@router.get("")
async def list_documents(ctx: ContextDep,
                         page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                         page_size: Annotated[int, Query(ge=1, le=100)] = 20,
                         q: Annotated[str | None, Query(max_length=200)] = None,
                         tag: Annotated[str | None, Query(max_length=64)] = None,
                         sort: Literal["name", "size", "created_at", "updated_at"] = "created_at",
                         order: Literal["asc", "desc"] = "desc") -> dict[str, Any]:
    """List documents: pagination, name search (case-insensitive substring), tag filter, whitelisted sort."""
    return await DocumentService(ctx).list(page=page, page_size=page_size, q=q or None, tag=tag or None,
                                           sort=sort, order=order)


@router.post("/upload", status_code=201)
async def upload_documents(request: Request, ctx: ContextDep) -> dict[str, Any]:
    """Upload files (multipart `files`, optional `tags`), streamed to storage; always managed mode."""
    try:
        reader = MultipartReader(_idle_bounded(request.stream(), ctx.settings.MYDOCS_BODY_IDLE_TIMEOUT_SECONDS),
                                 boundary_from_content_type(request.headers.get("content-type")))
    except MultipartError as exc:
        raise ApiError(415 if "Content-Type" in str(exc) else 400, "invalid_multipart", str(exc)) from None
    service = DocumentService(ctx)
    max_bytes = ctx.settings.MYDOCS_MAX_UPLOAD_BYTES
    tags: list[str] = []
    results: list[dict[str, Any]] = []
    created: list[str] = []
    try:
        while (part := await reader.next_part()) is not None:
            if part.name == "tags" and part.filename is None:
                try:
                    tags = normalize_tags(tags + normalize_tags(await reader.read_field(MAX_FIELD_BYTES)))
                except MultipartError:
                    raise
                except ValueError as exc:
                    raise ApiError(422, "validation_error", f"tags: {exc}") from None
                continue
            if part.name not in FILE_FIELDS or part.filename is None:
                continue  # unknown fields are skipped unread
            original = part.filename
            result = await service.store_managed(reader.part_data(), filename=original,
                                                 declared_type=part.content_type, tags=tags, source="upload",
                                                 max_bytes=max_bytes)
            if not result.duplicate:
                created.append(result.document["id"])
            results.append({"filename": original, "document": result.document, "duplicate": result.duplicate})
    except ObjectTooLarge:
        await service.rollback(created)
        raise ApiError(413, "file_too_large", f"a file is larger than the limit of {max_bytes} bytes; "
                       "nothing was stored") from None
    except MultipartError as exc:
        await service.rollback(created)
        raise ApiError(400, "invalid_multipart", str(exc)) from None
    except (StorageUnavailable, StorageFull) as exc:
        await service.rollback(created)
        raise _storage_error(exc) from None
    except BodyIdle:
        await service.rollback(created)
        raise ApiError(408, "body_timeout", f"the upload sent nothing for "
                       f"{ctx.settings.MYDOCS_BODY_IDLE_TIMEOUT_SECONDS:g} s; nothing was stored") from None
    except ClientDisconnect:  # the partial file was already discarded by the storage backend
        await service.rollback(created)
        raise ApiError(400, "client_disconnected", "the client went away during the upload") from None
    except BaseException:
        await service.rollback(created)
        raise
    if not results:
        raise ApiError(422, "no_files", "the form has no file in a 'files' field")
    # tags sent after the files: apply them to the new documents too
    for item in results:
        if not item["duplicate"] and tags and item["document"]["tags"] != tags:
            item["document"] = await service.set_tags(item["document"]["id"], tags)
    return {"results": results}


MAX_JOB_LISTED = 1000  # items per list in an ingest job's report (its counts are exact)


@router.post("/ingest", dependencies=[Depends(require_admin)], status_code=200)
async def ingest_documents(body: IngestBody, ctx: ContextDep, request: Request, response: Response) -> dict[str, Any]:
    """Ingest server-side files or folders (recursively) from the configured ingest roots (admin role).
    `background: true` runs it as a job (202, `Location` of the job); otherwise it stops if the client leaves."""
    service = DocumentService(ctx)
    try:
        if body.background:
            for raw in body.paths:  # refused paths are refused now, not in the job
                service.resolve_ingest_path(raw)
            return await _start_ingest_job(request, response, ctx, service, body)
        report = await _until_client_leaves(request, service.ingest(body.paths, body.storage_mode, body.tags))
    except OutsideIngestRoots as exc:
        raise ApiError(403, "path_outside_ingest_roots",
                       f"{exc.path[:300]!r} is not inside a configured ingest root (MYDOCS_INGEST_ROOTS)") from None
    except IngestPathError as exc:
        raise ApiError(exc.status_code, exc.error_code, f"{exc.path[:300]!r}: {exc.detail}") from None
    except IngestTooLarge as exc:
        raise ApiError(413, exc.error_code, f"{exc.detail}; nothing was ingested") from None
    except (StorageUnavailable, StorageFull) as exc:
        raise _storage_error(exc) from None
    return {"results": report.results, "errors": report.errors}


async def _start_ingest_job(request: Request, response: Response, ctx: Any, service: DocumentService,
                            body: IngestBody) -> dict[str, Any]:
    from mydocs.backend.deps import job_runner
    from mydocs.services.jobs import JobFailed

    async def work(progress: Any) -> dict[str, Any]:
        try:
            report = await service.ingest(body.paths, body.storage_mode, body.tags, progress)
        except (IngestPathError, IngestTooLarge) as exc:
            raise JobFailed(f"{exc.error_code}: {exc.detail}; nothing was ingested") from None
        return {"results": report.results[:MAX_JOB_LISTED], "results_count": len(report.results),
                "errors": report.errors[:MAX_JOB_LISTED], "errors_count": len(report.errors)}

    params = {"paths": body.paths[:20], "paths_count": len(body.paths), "storage_mode": body.storage_mode,
              "tags": body.tags}
    job = await job_runner(request).start(ctx.db, "ingest", params, work)
    response.status_code = 202
    response.headers["Location"] = request.app.url_path_for("get_job", job_id=job["_id"])
    return {"job_id": job["_id"]}


@router.get("/{doc_id}")
async def get_document(doc_id: str, ctx: ContextDep) -> dict[str, Any]:
    """One document's metadata."""
    from mydocs.db import document_view

    try:
        return document_view(await DocumentService(ctx).get_record(doc_id))
    except DocumentNotFound:
        raise _not_found(doc_id) from None


# at most 19 digits: every file size fits, and int() never meets thousands of digits
_RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) for one satisfiable range; None = send everything; ApiError 416 when unsatisfiable."""
    if not header or len(header) > 200:
        return None
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None  # multi-range or malformed: ignored (RFC 9110 allows answering 200)
    first, last = m.group(1), m.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return None
    else:
        suffix = int(last)
        if suffix == 0:
            start, end = size, size - 1  # unsatisfiable
        else:
            start, end = max(size - suffix, 0), size - 1
    if start >= size:
        raise ApiError(416, "range_not_satisfiable", f"range outside the file of {size} bytes",
                       headers={"Content-Range": f"bytes */{size}"})
    return start, end


def _etags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: weak comparison; `*` matches any current file."""
    if not if_none_match:
        return False
    tags = _etags(if_none_match)
    return "*" in tags or etag in (t[2:] if t.startswith("W/") else t for t in tags)


def range_still_valid(if_range: str | None, etag: str) -> bool:
    """RFC 9110 13.1.5: the Range applies only if If-Range names the current ETag (strong comparison).
    A date never matches: no Last-Modified is sent."""
    return if_range is None or if_range.strip() == etag


def content_disposition(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get("/{doc_id}/file")
async def download_document(doc_id: str, request: Request, ctx: ContextDep) -> Response:
    """The file's bytes, streamed; single byte ranges answer 206, a matching If-None-Match 304."""
    service = DocumentService(ctx)
    try:
        rec = await service.get_record(doc_id)
        opened = await service.open_for_download(rec)
    except DocumentNotFound:
        raise _not_found(doc_id) from None
    except OutsideIngestRoots:
        raise ApiError(403, "path_outside_ingest_roots", "the document's external file is not inside a "
                       "configured ingest root (MYDOCS_INGEST_ROOTS)") from None
    except FileNotRegular:
        raise ApiError(409, "file_not_regular", "the document's external file is no longer a regular file "
                       "(a FIFO, device, folder or symbolic link now stands in its place)") from None
    except ObjectNotFound:
        raise ApiError(404, "file_missing", "the document's file is missing from storage "
                       "(run `mydocs sync run` to report such records)") from None
    except (StorageUnavailable, StorageFull) as exc:
        raise _storage_error(exc) from None
    size = opened.size
    etag = f"\"{rec['sha256']}\""
    # the declared type is metadata; what a browser may render or run is never served as such
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": content_disposition(rec["name"]),
               "ETag": etag, "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache",
               "Content-Security-Policy": "sandbox; default-src 'none'"}
    try:
        if not_modified(request.headers.get("if-none-match"), etag):
            opened.close()
            return Response(status_code=304, headers={k: v for k, v in headers.items()
                                                      if k in ("ETag", "Cache-Control")})
        rng = None
        if size > 0 and range_still_valid(request.headers.get("if-range"), etag):
            rng = parse_range(request.headers.get("range"), size)
    except BaseException:
        opened.close()
        raise
    if rng is None:
        start, end, status = 0, size - 1, 200
    else:
        (start, end), status = rng, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1 if size else 0)
    media_type = served_content_type(rec["content_type"])
    if request.method == "HEAD":
        opened.close()
        return Response(status_code=status, media_type=media_type, headers=headers)
    body = opened.stream(start, end if size else None)
    return StreamingResponse(body, status_code=status, media_type=media_type, headers=headers)


@router.put("/{doc_id}/tags")
async def put_tags(doc_id: str, body: TagsBody, ctx: ContextDep) -> dict[str, Any]:
    """Replace the tags (sidecar first, then the record)."""
    try:
        return await DocumentService(ctx).set_tags(doc_id, body.tags)
    except DocumentNotFound:
        raise _not_found(doc_id) from None
    except (StorageUnavailable, StorageFull) as exc:
        raise _storage_error(exc) from None


@router.delete("/{doc_id}", status_code=204)
async def delete_document(doc_id: str, ctx: ContextDep) -> Response:
    """Delete the file, its sidecar and its record."""
    try:
        await DocumentService(ctx).delete(doc_id)
    except DocumentNotFound:
        raise _not_found(doc_id) from None
    except (StorageUnavailable, StorageFull) as exc:
        raise _storage_error(exc) from None
    return Response(status_code=204)


# HEAD beside each GET (kept out of the OpenAPI schema: one operation per path). uvicorn sends no body
# for HEAD; the file route answers HEAD itself without opening a stream.
for _path, _endpoint in (("", list_documents), ("/{doc_id}", get_document), ("/{doc_id}/file", download_document)):
    router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False)
