"""`sync run`: make MongoDB agree with the sidecars of one storage backend.

The sidecars are the system of record (docs/contracts.md "Sidecar"). A sync scans the managed sidecars
of ONE backend object, plus the external-mode sidecars beside files under the ingest roots, and:
- restores records that are missing,
- updates records that differ (a migrate moved the document: `storage_backend`/`file_key`; tags, ...),
- reports records whose file is gone, never deleting them.
`execute()` computes its plan itself, from the very backend object it then writes records for.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from mydocs import fileio
from mydocs.db import DOCUMENTS, record_from_sidecar
from mydocs.settings import Settings
from mydocs.sidecar import MANAGED_SIDECAR_RE, MAX_SIDECAR_BYTES, SIDECAR_SUFFIX, Sidecar, SidecarError, check_managed_sidecar
from mydocs.storage.base import InvalidKey, ObjectNotFound, StorageBackend

log = logging.getLogger("mydocs.sync")

MANAGED_FILE_RE = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{32})/[^/]+$")
EXTERNAL_SIDECAR_RE = re.compile(r"^([0-9a-f]{32})" + re.escape(SIDECAR_SUFFIX) + r"$")
# what an external document's record names as its backend (the file and sidecar are on the local disk)
EXTERNAL_BACKEND = "local"
COMPARED = ("schema_version", "name", "size", "sha256", "content_type", "tags", "storage_mode", "file_key",
            "source", "created_at", "updated_at", "storage_backend")
MAX_LISTED = 1000  # items per list in a plan or report; counts are always exact
READ_CONCURRENCY = 16

Progress = Callable[[int, int], Awaitable[None]]


@dataclass
class Found:
    """A sidecar found in the scan and the record it implies."""

    sidecar: Sidecar
    where: str
    record: dict[str, Any]


@dataclass
class SyncPlan:
    backend: str
    restore: list[dict[str, Any]] = field(default_factory=list)
    update: list[dict[str, Any]] = field(default_factory=list)
    missing_files: list[dict[str, Any]] = field(default_factory=list)
    missing_sidecars: list[dict[str, Any]] = field(default_factory=list)
    invalid_sidecars: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    orphan_files: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    other_backend: int = 0
    scanned: int = 0
    # records to write, by id (not part of the JSON plan)
    writes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"backend": self.backend, "scanned_sidecars": self.scanned}
        for name in ("restore", "update", "missing_files", "missing_sidecars", "invalid_sidecars", "conflicts",
                     "orphan_files"):
            items = getattr(self, name)
            out[name] = items[:MAX_LISTED]
            out[f"{name}_count"] = len(items)
        out["unchanged"] = self.unchanged
        out["other_backend"] = self.other_backend
        return out


def _ms(value: Any) -> Any:
    """Datetimes compared and stored at millisecond precision in UTC (what BSON keeps)."""
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def _normalize(record: dict[str, Any]) -> dict[str, Any]:
    return {k: _ms(v) for k, v in record.items()}


def _diff(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, dict[str, Any]]:
    changes = {}
    for key in COMPARED:
        a, b = _ms(current.get(key)), _ms(wanted.get(key))
        if a != b:
            changes[key] = {"from": _jsonable(a), "to": _jsonable(b)}
    return changes


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _brief(rec: dict[str, Any]) -> dict[str, Any]:
    return {"id": rec["_id"], "name": rec.get("name"), "storage_mode": rec.get("storage_mode"),
            "storage_backend": rec.get("storage_backend"), "file_key": rec.get("file_key")}


def _read_sidecar_file(path: Path) -> bytes:
    """A sidecar's bytes from a descriptor that is a regular file (a FIFO named like a sidecar never blocks)."""
    fd = fileio.open_regular(path)
    try:
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(MAX_SIDECAR_BYTES + 1)
    finally:
        os.close(fd)


def _within(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


class SyncService:
    """Sync of one backend object. `plan()` never writes; `execute()` plans, then writes records."""

    def __init__(self, db: AsyncDatabase, storage: StorageBackend, settings: Settings):
        self.coll = db[DOCUMENTS]
        self.storage = storage
        self.settings = settings

    # ---- scanning ---------------------------------------------------------------------------------------
    async def _managed_candidates(self, plan: SyncPlan) -> list[str]:
        """The managed sidecar keys; files in a document folder without a sidecar (an upload that died
        between the file and its sidecar) are reported in `orphan_files`, never deleted."""
        sidecars: list[str] = []
        files: list[tuple[str, str, int]] = []
        for info in [i async for i in self.storage.list()]:
            if MANAGED_SIDECAR_RE.match(info.key):
                sidecars.append(info.key)
            elif m := MANAGED_FILE_RE.match(info.key):
                files.append((m.group(2), info.key, info.size))
        ids = {MANAGED_SIDECAR_RE.match(k).group(2) for k in sidecars}  # type: ignore[union-attr]
        plan.orphan_files.extend({"key": key, "id": doc_id, "size": size, "reason": "no_sidecar"}
                                 for doc_id, key, size in files if doc_id not in ids)
        return sidecars

    def _external_candidates(self) -> list[Path]:
        found: list[Path] = []
        for root in self.settings.ingest_roots:
            if not root.is_dir():
                continue
            for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
                dirnames.sort()
                found.extend(Path(dirpath) / n for n in sorted(filenames) if EXTERNAL_SIDECAR_RE.match(n))
        return found

    async def _read_managed(self, key: str, plan: SyncPlan) -> Found | None:
        where = f"{self.storage.name}:{key}"
        doc_id = MANAGED_SIDECAR_RE.match(key).group(2)  # type: ignore[union-attr]
        try:
            sc = Sidecar.from_json_bytes(await self.storage.read_bytes(key), where=where)
            check_managed_sidecar(sc, doc_id, where)
        except ObjectNotFound:
            return None  # deleted since the listing
        except SidecarError as exc:
            plan.invalid_sidecars.append({"where": where, "error": str(exc)})
            return None
        return Found(sc, where, _normalize(record_from_sidecar(sc, self.storage.name)))

    async def _read_external(self, path: Path, plan: SyncPlan) -> Found | None:
        where = str(path)
        try:
            data = await fileio.run(_read_sidecar_file, path)
            sc = Sidecar.from_json_bytes(data, where=where)
            if sc.id != EXTERNAL_SIDECAR_RE.match(path.name).group(1):  # type: ignore[union-attr]
                raise SidecarError(f"{where}: id {sc.id!r} does not match its file name")
            if sc.storage_mode != "external":
                raise SidecarError(f"{where}: storage_mode {sc.storage_mode!r} beside an external file")
            # A sidecar must describe the file beside it, inside an ingest root: a planted sidecar must not
            # turn an arbitrary server path into a downloadable document.
            target = Path(sc.file_key)
            roots = [Path(os.path.realpath(r)) for r in self.settings.ingest_roots]
            if not target.is_absolute() or Path(os.path.realpath(target.parent)) != Path(
                    os.path.realpath(path.parent)) or not _within(Path(os.path.realpath(target)), roots):
                raise SidecarError(f"{where}: file_key does not name a file beside it under the ingest roots")
        except FileNotFoundError:
            return None
        except OSError as exc:
            plan.invalid_sidecars.append({"where": where, "error": f"{where}: unreadable ({exc.strerror})"})
            return None
        except SidecarError as exc:
            plan.invalid_sidecars.append({"where": where, "error": str(exc)})
            return None
        return Found(sc, where, _normalize(record_from_sidecar(sc, EXTERNAL_BACKEND)))

    async def _file_state(self, found: Found) -> str:
        """'ok', 'file_missing' or 'size_mismatch' for the file a sidecar describes."""
        sc = found.sidecar
        if sc.storage_mode == "managed":
            info = await self.storage.stat(sc.file_key)
            size = None if info is None else info.size
        else:
            try:
                st = await fileio.run(os.stat, sc.file_key)
                size = st.st_size if os.path.isfile(sc.file_key) else None
            except (FileNotFoundError, NotADirectoryError):
                size = None
        if size is None:
            return "file_missing"
        return "ok" if size == sc.size else "size_mismatch"

    # ---- planning ---------------------------------------------------------------------------------------
    async def plan(self, progress: Progress | None = None) -> SyncPlan:
        plan = SyncPlan(backend=self.storage.name)
        managed = await self._managed_candidates(plan)
        external = await fileio.run(self._external_candidates)
        records = {rec["_id"]: rec async for rec in self.coll.find({})}
        by_content = {(r.get("sha256"), r.get("storage_mode")): r["_id"] for r in records.values()}
        total = len(managed) + len(external) + len(records)
        done = 0

        async def step() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                await progress(done, total)

        seen: set[str] = set()
        claimed: dict[tuple[Any, Any], str] = {}
        items: list[Any] = [("managed", k) for k in managed] + [("external", p) for p in external]

        async def load(kind: str, ref: Any) -> tuple[Found | None, str]:
            found = await (self._read_managed(ref, plan) if kind == "managed" else self._read_external(ref, plan))
            return found, (await self._file_state(found) if found is not None else "")

        loaded: list[tuple[Found | None, str]] = []
        for start in range(0, len(items), READ_CONCURRENCY):  # reads and stats in small parallel batches
            loaded.extend(await asyncio.gather(*(load(k, r) for k, r in items[start:start + READ_CONCURRENCY])))
            for _ in items[start:start + READ_CONCURRENCY]:
                await step()
        for found, state in loaded:
            if found is None:
                continue
            plan.scanned += 1
            sc, wanted = found.sidecar, found.record
            if sc.id in seen:
                plan.conflicts.append({"id": sc.id, "where": found.where, "reason": "the same id has two sidecars"})
                continue
            seen.add(sc.id)
            current = records.get(sc.id)
            if state != "ok":
                plan.missing_files.append({**_brief(current or wanted), "where": found.where, "reason": state,
                                           "has_record": current is not None, "has_sidecar": True})
                continue
            content = (sc.sha256, sc.storage_mode)
            owner = claimed.get(content) or by_content.get(content)
            if owner is not None and owner != sc.id:
                plan.conflicts.append({"id": sc.id, "where": found.where, "reason": "duplicate_content",
                                       "existing_id": owner})
                continue
            claimed[content] = sc.id
            if current is None:
                plan.restore.append({"id": sc.id, "name": sc.name, "storage_mode": sc.storage_mode,
                                     "storage_backend": wanted["storage_backend"], "file_key": sc.file_key})
                plan.writes[sc.id] = wanted
                continue
            changes = _diff(current, wanted)
            if changes:
                plan.update.append({"id": sc.id, "name": sc.name, "changes": changes})
                plan.writes[sc.id] = wanted
            else:
                plan.unchanged += 1

        # records no sidecar of this scan speaks for
        for doc_id, rec in records.items():
            if doc_id not in seen:
                await self._check_unscanned(rec, plan)
            await step()
        return plan

    async def _check_unscanned(self, rec: dict[str, Any], plan: SyncPlan) -> None:
        mode, backend = rec.get("storage_mode"), rec.get("storage_backend")
        key = rec.get("file_key")
        if mode == "managed" and backend != self.storage.name:
            plan.other_backend += 1
            return
        present = False
        if isinstance(key, str) and key:
            if mode == "managed":
                try:
                    present = await self.storage.stat(key) is not None
                except InvalidKey:
                    present = False
            else:
                present = await fileio.run(os.path.isfile, key)
        if not present:
            plan.missing_files.append({**_brief(rec), "reason": "file_missing", "has_record": True,
                                       "has_sidecar": False})
        else:
            plan.missing_sidecars.append(_brief(rec))

    # ---- executing --------------------------------------------------------------------------------------
    async def execute(self, progress: Progress | None = None) -> dict[str, Any]:
        """Plan against this backend, then write the records; returns the report."""
        scan_total = {"n": 0}

        async def scan_progress(done: int, total: int) -> None:
            scan_total["n"] = total
            if progress is not None:
                await progress(done, total + 1)  # +1: the apply phase is still to come

        plan = await self.plan(scan_progress)
        base = scan_total["n"]
        total = base + len(plan.writes)
        restored = updated = 0
        restore_ids = {item["id"] for item in plan.restore}
        done = base
        for doc_id, record in plan.writes.items():
            try:
                result = await self.coll.replace_one({"_id": doc_id}, record, upsert=True)
            except DuplicateKeyError:
                plan.conflicts.append({"id": doc_id, "reason": "duplicate_content",
                                       "detail": "another record with the same content appeared during the sync"})
            else:
                if doc_id in restore_ids and result.upserted_id is not None:
                    restored += 1
                else:
                    updated += 1
            done += 1
            if progress is not None:
                await progress(done, total)
        if progress is not None:
            await progress(total, total)
        report = plan.as_dict()
        report.update({"restored": restored, "updated": updated, "dry_run": False})
        log.info("sync of %s: %d restored, %d updated, %d unchanged, %d missing files, %d conflicts",
                 self.storage.name, restored, updated, plan.unchanged, len(plan.missing_files), len(plan.conflicts))
        return report
