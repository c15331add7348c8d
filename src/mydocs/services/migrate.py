"""`sync migrate`: copy managed files and their sidecars from one backend to another. Storage only.

Per document, in this order: the file, then its sidecar (a sidecar never names a file the target lacks).
- An object already at the target with the same sha256 is skipped, so a second run copies nothing.
- Every copy is read back from the target and its sha256 checked; the source is deleted
  (`delete_source`) only after both the file and the sidecar are verified at the target.
- The backends' writes are atomic, so a run killed midway leaves complete objects or none; the next run
  skips what is complete and copies the rest.
No database writes: `sync run --backend <target>` then points the records at the target.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from mydocs.sidecar import MANAGED_SIDECAR_RE, SIDECAR_CONTENT_TYPE, Sidecar, SidecarError, check_managed_sidecar
from mydocs.storage.base import ObjectNotFound, StorageBackend

log = logging.getLogger("mydocs.migrate")

MAX_LISTED = 1000
Progress = Callable[[int, int], Awaitable[None]]
ObjectState = Literal["absent", "same", "different"]


class SameBackend(ValueError):
    def __init__(self, name: str):
        super().__init__(f"source and target are the same backend ({name}); choose two different backends")


@dataclass
class DocMove:
    """What to do for one document (the plan of one sidecar)."""

    id: str
    sidecar_key: str
    sidecar_bytes: bytes
    sidecar: Sidecar
    copy_file: str | None = None       # reason, or None = skip
    copy_sidecar: str | None = None
    skip_file: str | None = None
    skip_sidecar: str | None = None
    source_file_present: bool = True


@dataclass
class MigrateReport:
    source_backend: str
    target_backend: str
    delete_source: bool
    dry_run: bool
    documents: int = 0
    copy: list[dict[str, Any]] = field(default_factory=list)
    skip: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    bytes_to_copy: int = 0
    copied: int = 0
    bytes_copied: int = 0
    verified: int = 0
    deleted_source: int = 0
    completed_documents: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source_backend": self.source_backend, "target_backend": self.target_backend,
                               "delete_source": self.delete_source, "dry_run": self.dry_run,
                               "documents": self.documents}
        for name in ("copy", "skip", "errors", "orphans"):
            items = getattr(self, name)
            out[name] = items[:MAX_LISTED]
            out[f"{name}_count"] = len(items)
        out["bytes_to_copy"] = self.bytes_to_copy
        if not self.dry_run:
            out.update({"copied": self.copied, "bytes_copied": self.bytes_copied, "verified": self.verified,
                        "deleted_source": self.deleted_source, "completed_documents": self.completed_documents})
        return out


async def object_sha256(storage: StorageBackend, key: str) -> tuple[int, str]:
    """Size and sha256 of a stored object, streamed (never held whole)."""
    digest = hashlib.sha256()
    size = 0
    async for chunk in storage.read_stream(key):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


async def _state(storage: StorageBackend, key: str, size: int, sha: str) -> ObjectState:
    info = await storage.stat(key)
    if info is None:
        return "absent"
    if info.size != size:
        return "different"
    try:
        got = await object_sha256(storage, key)
    except ObjectNotFound:
        return "absent"
    return "same" if got == (size, sha) else "different"


class MigrateService:
    """Moves managed documents from `source` to `target` (two opened backend objects)."""

    def __init__(self, source: StorageBackend, target: StorageBackend):
        if source.name == target.name:
            raise SameBackend(source.name)
        self.source = source
        self.target = target

    async def _listing(self) -> tuple[list[str], list[str]]:
        """Sidecar keys and every other key of the source."""
        sidecars: list[str] = []
        others: list[str] = []
        async for info in self.source.list():
            (sidecars if MANAGED_SIDECAR_RE.match(info.key) else others).append(info.key)
        return sidecars, others

    async def _decide(self, key: str, report: MigrateReport) -> DocMove | None:
        """Read one source sidecar and compare the document with the target. None: nothing to move."""
        where = f"{self.source.name}:{key}"
        doc_id = MANAGED_SIDECAR_RE.match(key).group(2)  # type: ignore[union-attr]
        try:
            data = await self.source.read_bytes(key)
        except ObjectNotFound:
            return None  # deleted since the listing
        try:
            sc = Sidecar.from_json_bytes(data, where=where)
            check_managed_sidecar(sc, doc_id, where)
        except SidecarError as exc:
            report.errors.append({"id": doc_id, "key": key, "error": str(exc)})
            return None
        move = DocMove(id=doc_id, sidecar_key=key, sidecar_bytes=data, sidecar=sc)

        target_file = await _state(self.target, sc.file_key, sc.size, sc.sha256)
        source_info = await self.source.stat(sc.file_key)
        move.source_file_present = source_info is not None
        if target_file == "same":
            move.skip_file = "same_sha256"
        elif source_info is None:
            report.errors.append({"id": doc_id, "key": sc.file_key,
                                  "error": f"{self.source.name}:{sc.file_key}: the file of this sidecar is missing"})
            return None
        else:
            move.copy_file = target_file  # "absent" or "different"

        sidecar_sha = hashlib.sha256(data).hexdigest()
        target_sidecar = await _state(self.target, key, len(data), sidecar_sha)
        if target_sidecar == "same":
            move.skip_sidecar = "same_sha256"
        elif target_sidecar == "different" and await self._target_newer(key, sc):
            move.skip_sidecar = "target_newer"  # e.g. tags changed on the target after an earlier migrate
        else:
            move.copy_sidecar = target_sidecar
        return move

    async def _target_newer(self, key: str, sc: Sidecar) -> bool:
        try:
            there = Sidecar.from_json_bytes(await self.target.read_bytes(key))
        except (SidecarError, ObjectNotFound):
            return False
        return there.id == sc.id and there.updated_at > sc.updated_at

    def _account(self, move: DocMove, report: MigrateReport) -> None:
        sc = move.sidecar
        for kind, key, size, copy, skip in (("file", sc.file_key, sc.size, move.copy_file, move.skip_file),
                                            ("sidecar", move.sidecar_key, len(move.sidecar_bytes),
                                             move.copy_sidecar, move.skip_sidecar)):
            if copy is not None:
                report.copy.append({"id": move.id, "kind": kind, "key": key, "size": size, "reason": copy})
                report.bytes_to_copy += size
            else:
                report.skip.append({"id": move.id, "kind": kind, "key": key, "reason": skip})

    # ---- plan and execute -------------------------------------------------------------------------------
    async def plan(self, *, delete_source: bool = False, progress: Progress | None = None) -> dict[str, Any]:
        """What execute() would do now; writes nothing."""
        report = MigrateReport(self.source.name, self.target.name, delete_source, dry_run=True)
        sidecars, others = await self._listing()
        report.documents = len(sidecars)
        referenced: set[str] = set()
        for i, key in enumerate(sidecars, 1):
            move = await self._decide(key, report)
            if move is not None:
                referenced.add(move.sidecar.file_key)
                self._account(move, report)
            if progress is not None:
                await progress(i, len(sidecars))
        report.orphans = [k for k in others if k not in referenced]
        return report.as_dict()

    async def execute(self, *, delete_source: bool = False, progress: Progress | None = None) -> dict[str, Any]:
        """Move every document; the plan of each is computed here, from these two backend objects."""
        report = MigrateReport(self.source.name, self.target.name, delete_source, dry_run=False)
        sidecars, others = await self._listing()
        report.documents = len(sidecars)
        referenced: set[str] = set()
        if progress is not None:
            await progress(0, len(sidecars))
        for i, key in enumerate(sidecars, 1):
            move = await self._decide(key, report)
            if move is not None:
                referenced.add(move.sidecar.file_key)
                self._account(move, report)
                try:
                    await self._move(move, delete_source, report)
                except ObjectNotFound as exc:
                    report.errors.append({"id": move.id, "key": str(exc),
                                          "error": f"{self.source.name}:{exc}: vanished during the copy"})
            if progress is not None:
                await progress(i, len(sidecars))
        report.orphans = [k for k in others if k not in referenced]
        log.info("migrate %s -> %s: %d documents, %d objects copied (%d bytes), %d verified, %d source "
                 "documents deleted, %d errors", self.source.name, self.target.name, report.documents,
                 report.copied, report.bytes_copied, report.verified, report.deleted_source, len(report.errors))
        return report.as_dict()

    async def _move(self, move: DocMove, delete_source: bool, report: MigrateReport) -> None:
        sc = move.sidecar
        # 1. the file
        if move.copy_file is not None:
            written = await self.target.write_stream(sc.file_key, self.source.read_stream(sc.file_key),
                                                     content_type=sc.content_type)
            report.copied += 1
            report.bytes_copied += written.size
            if (written.size, written.sha256) != (sc.size, sc.sha256):
                # the source file does not match its own sidecar: do not leave a bad copy behind
                await self.target.delete(sc.file_key)
                report.errors.append({"id": move.id, "key": sc.file_key,
                                      "error": f"{self.source.name}:{sc.file_key}: content does not match the "
                                               f"sidecar's size/sha256; not migrated"})
                return
        # a skipped file was hashed at the target a moment ago (`_decide`); a copied one is read back now
        if move.copy_file is not None and await object_sha256(self.target, sc.file_key) != (sc.size, sc.sha256):
            report.errors.append({"id": move.id, "key": sc.file_key,
                                  "error": f"{self.target.name}:{sc.file_key}: read-back checksum differs"})
            return
        report.verified += 1
        # 2. its sidecar (only once the file is verified at the target)
        if move.copy_sidecar is not None:
            await self.target.write_bytes(move.sidecar_key, move.sidecar_bytes, content_type=SIDECAR_CONTENT_TYPE)
            report.copied += 1
            report.bytes_copied += len(move.sidecar_bytes)
        if move.skip_sidecar != "target_newer":
            try:
                back = await self.target.read_bytes(move.sidecar_key)
            except ObjectNotFound:
                back = b""
            if back != move.sidecar_bytes:
                report.errors.append({"id": move.id, "key": move.sidecar_key,
                                      "error": f"{self.target.name}:{move.sidecar_key}: read-back differs"})
                return
        report.verified += 1
        report.completed_documents += 1
        # 3. the source, only now that both are verified at the target
        if delete_source:
            if move.source_file_present:
                await self.source.delete(sc.file_key)
            await self.source.delete(move.sidecar_key)
            report.deleted_source += 1
