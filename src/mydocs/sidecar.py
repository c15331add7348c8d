"""Sidecar `<id>.metadata.json` (schema version 1): everything needed to rebuild a document's record."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mydocs.storage.base import InvalidKey, StorageBackend, WriteResult, validate_key

SIDECAR_SUFFIX = ".metadata.json"
SIDECAR_CONTENT_TYPE = "application/json"
MAX_SIDECAR_BYTES = 1024 * 1024
ID_RE = re.compile(r"^[0-9a-f]{32}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# managed sidecar key: <id[0:2]>/<id>.metadata.json
MANAGED_SIDECAR_RE = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{32})\.metadata\.json$")


def utcnow() -> datetime:
    """Now in UTC, at millisecond precision (what a BSON date keeps), so records and sidecars compare equal."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class SidecarError(ValueError):
    """A sidecar that cannot be parsed or does not match the schema."""


class Sidecar(BaseModel):
    """Schema version 1. It names no backend: the backend is wherever the sidecar is found."""

    model_config = ConfigDict(extra="ignore")
    schema_version: Literal[1] = 1
    id: str = Field(pattern=ID_RE.pattern)
    name: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256_RE.pattern)
    content_type: str
    tags: list[str] = Field(default_factory=list)
    storage_mode: Literal["managed", "external"]
    file_key: str = Field(min_length=1)  # managed: key relative to the backend root; external: absolute path
    source: Literal["upload", "ingest"]
    created_at: datetime
    updated_at: datetime

    @field_validator("created_at", "updated_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        return v if v.tzinfo else v.replace(tzinfo=timezone.utc)

    def to_json_bytes(self) -> bytes:
        return (self.model_dump_json(indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_json_bytes(cls, data: bytes, *, where: str = "sidecar") -> "Sidecar":
        if len(data) > MAX_SIDECAR_BYTES:
            raise SidecarError(f"{where}: larger than {MAX_SIDECAR_BYTES} bytes")
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SidecarError(f"{where}: not valid JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise SidecarError(f"{where}: not a JSON object")
        if raw.get("schema_version") != 1:
            raise SidecarError(f"{where}: unsupported schema_version {raw.get('schema_version')!r}")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise SidecarError(f"{where}: {loc}: {first['msg']}") from None


def managed_file_key(doc_id: str, safe_name: str) -> str:
    return f"{doc_id[:2]}/{doc_id}/{safe_name}"


def managed_sidecar_key(doc_id: str) -> str:
    return f"{doc_id[:2]}/{doc_id}{SIDECAR_SUFFIX}"


def check_managed_sidecar(sc: Sidecar, doc_id: str, where: str) -> None:
    """A sidecar found at a managed key must be that document's and point only into its own folder
    (a hostile or copied sidecar must not make sync or migrate touch another document's files)."""
    if sc.id != doc_id:
        raise SidecarError(f"{where}: id {sc.id!r} does not match its key")
    if sc.storage_mode != "managed":
        raise SidecarError(f"{where}: storage_mode {sc.storage_mode!r} in the managed area")
    try:
        validate_key(sc.file_key)
    except InvalidKey:
        raise SidecarError(f"{where}: file_key is not a clean relative key") from None
    if not sc.file_key.startswith(f"{doc_id[:2]}/{doc_id}/") or sc.file_key.count("/") != 2:
        raise SidecarError(f"{where}: file_key is not inside the document's folder")


def external_sidecar_path(file_path: Path, doc_id: str) -> Path:
    """External mode: the sidecar sits beside the original file, on the local disk."""
    return file_path.parent / f"{doc_id}{SIDECAR_SUFFIX}"


async def write_managed_sidecar(storage: StorageBackend, sidecar: Sidecar) -> WriteResult:
    """Atomic write into the backend (always after the file itself)."""
    return await storage.write_bytes(managed_sidecar_key(sidecar.id), sidecar.to_json_bytes(),
                                     content_type=SIDECAR_CONTENT_TYPE)


async def read_managed_sidecar(storage: StorageBackend, doc_id: str) -> Sidecar:
    key = managed_sidecar_key(doc_id)
    return Sidecar.from_json_bytes(await storage.read_bytes(key), where=f"{storage.name}:{key}")


async def write_external_sidecar(sidecar: Sidecar) -> Path:
    """Atomic write of `<folder>/<id>.metadata.json` beside the external file."""
    from mydocs.storage.local import LocalStorage

    path = external_sidecar_path(Path(sidecar.file_key), sidecar.id)
    await LocalStorage(path.parent).write_bytes(path.name, sidecar.to_json_bytes(),
                                                content_type=SIDECAR_CONTENT_TYPE)
    return path


async def delete_external_sidecar(sidecar_file_key: str, doc_id: str) -> bool:
    from mydocs.storage.local import LocalStorage

    path = external_sidecar_path(Path(sidecar_file_key), doc_id)
    return await LocalStorage(path.parent).delete(path.name)  # root = the folder: it is never pruned
