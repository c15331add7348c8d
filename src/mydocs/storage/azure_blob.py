"""Azure Blob backend (async SDK): staged block uploads committed only at the end, so a write is all or nothing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobBlock, ContentSettings
from azure.storage.blob.aio import BlobServiceClient, ContainerClient, ExponentialRetry

from mydocs.storage.base import (
    ObjectInfo,
    ObjectNotFound,
    ObjectTooLarge,
    StorageBackend,
    StorageUnavailable,
    WriteResult,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from mydocs.settings import Settings

BLOCK_SIZE = 4 * 1024 * 1024
CHECK_TIMEOUT_SECONDS = 5.0
# The SDK's default retry waits 15 s, 18 s, 24 s between attempts: a readiness probe or a request would hang for
# more than a minute on an unreachable endpoint. Three quick retries (about 1 s, 3 s, 5 s) instead.
# A fresh policy per client: a pipeline policy holds its `next` link, so one shared instance would route every
# client's requests through the transport of the client built last (closing that one broke all the others).
def _client_options() -> dict[str, Any]:
    return {"connection_timeout": 10, "read_timeout": 120,
            "retry_policy": ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=3, random_jitter_range=1),
            "max_single_get_size": 4 * 1024 * 1024, "max_chunk_get_size": 4 * 1024 * 1024}


def _reason(exc: BaseException) -> str:
    """A one-line reason that never includes credentials (SDK messages can be multi-line)."""
    if isinstance(exc, HttpResponseError):
        code = getattr(exc, "error_code", None) or getattr(getattr(exc, "response", None), "reason", None)
        return f"HTTP {exc.status_code} {code or ''}".strip()
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


class AzureBlobStorage(StorageBackend):
    """Objects are block blobs in one container; keys are blob names."""

    name = "azure_blob"

    def __init__(self, service: BlobServiceClient, container_name: str, *, credential: Any = None,
                 create_container: bool = True):
        self._service = service
        self._credential = credential  # closed with the backend (DefaultAzureCredential holds sessions)
        self.container_name = container_name
        self.create_container = create_container
        self._container: ContainerClient = service.get_container_client(container_name)
        self._opened = False

    @classmethod
    def from_settings(cls, settings: "Settings") -> "AzureBlobStorage":
        """Auth order: connection string; account name + key; account name + DefaultAzureCredential."""
        container = settings.AZURE_STORAGE_CONTAINER_NAME
        if settings.AZURE_STORAGE_CONNECTION_STRING:
            service = BlobServiceClient.from_connection_string(settings.AZURE_STORAGE_CONNECTION_STRING,
                                                               **_client_options())
            return cls(service, container)
        name = settings.AZURE_STORAGE_ACCOUNT_NAME
        if not name:
            raise StorageUnavailable("azure_blob needs AZURE_STORAGE_CONNECTION_STRING or "
                                     "AZURE_STORAGE_ACCOUNT_NAME")
        url = f"https://{name}.blob.core.windows.net"
        if settings.AZURE_STORAGE_ACCOUNT_KEY:
            service = BlobServiceClient(url, credential={"account_name": name,
                                                         "account_key": settings.AZURE_STORAGE_ACCOUNT_KEY},
                                        **_client_options())
            return cls(service, container)
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()
        return cls(BlobServiceClient(url, credential=credential, **_client_options()), container, credential=credential)

    # -- lifecycle ----------------------------------------------------------------------------------------
    async def open(self) -> None:
        try:
            await self._container.get_container_properties()
        except ResourceNotFoundError:
            if not self.create_container:
                raise StorageUnavailable(f"blob container {self.container_name!r} does not exist") from None
            try:
                await self._container.create_container()
            except ResourceExistsError:
                pass  # created concurrently by another replica
            except (HttpResponseError, AzureError) as exc:
                raise StorageUnavailable(f"blob container {self.container_name!r} does not exist and cannot be "
                                         f"created: {_reason(exc)}") from None
        except ClientAuthenticationError as exc:
            raise StorageUnavailable(f"blob storage refused the credentials: {_reason(exc)}") from None
        except (HttpResponseError, AzureError) as exc:
            raise StorageUnavailable(f"blob storage unreachable: {_reason(exc)}") from None
        self._opened = True

    async def close(self) -> None:
        await self._service.close()
        if self._credential is not None:
            await self._credential.close()

    async def check(self) -> None:
        try:
            if not self._opened:
                await asyncio.wait_for(self.open(), CHECK_TIMEOUT_SECONDS)
            else:
                await asyncio.wait_for(self._container.get_container_properties(), CHECK_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            raise StorageUnavailable("blob storage did not answer within "
                                     f"{CHECK_TIMEOUT_SECONDS:g}s") from None
        except ResourceNotFoundError:
            self._opened = False
            raise StorageUnavailable(f"blob container {self.container_name!r} does not exist") from None
        except (HttpResponseError, AzureError) as exc:
            raise StorageUnavailable(f"blob storage unreachable: {_reason(exc)}") from None

    # -- writes -------------------------------------------------------------------------------------------
    async def write_stream(self, key: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None,
                           max_bytes: int | None = None) -> WriteResult:
        validate_key(key)
        blob = self._container.get_blob_client(key)
        digest = hashlib.sha256()
        prefix = uuid.uuid4().hex  # unique per write: concurrent writers of one key never share block ids
        blocks: list[BlobBlock] = []
        buffer = bytearray()
        size = 0

        async def flush() -> None:
            block_id = base64.b64encode(f"{prefix}-{len(blocks):08d}".encode()).decode()
            await blob.stage_block(block_id, bytes(buffer), length=len(buffer))
            blocks.append(BlobBlock(block_id=block_id))
            buffer.clear()

        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ObjectTooLarge(max_bytes)
                digest.update(chunk)
                buffer += chunk
                while len(buffer) >= BLOCK_SIZE:
                    rest = buffer[BLOCK_SIZE:]
                    del buffer[BLOCK_SIZE:]
                    await flush()
                    buffer += rest
            if buffer:
                await flush()
            sha = digest.hexdigest()
            # The commit is the single atomic step: before it, readers see the old object or none.
            await blob.commit_block_list(blocks, content_settings=ContentSettings(
                content_type=content_type or "application/octet-stream"), metadata={"sha256": sha})
        except (ClientAuthenticationError, HttpResponseError, AzureError) as exc:
            await asyncio.shield(self._discard_uncommitted(key, bool(blocks)))
            raise StorageUnavailable(f"blob write of {key!r} failed: {_reason(exc)}") from None
        except BaseException:
            await asyncio.shield(self._discard_uncommitted(key, bool(blocks)))
            raise
        return WriteResult(key=key, size=size, sha256=sha)

    async def _discard_uncommitted(self, key: str, staged: bool) -> None:
        """After an aborted write of a NEW blob, drop its staged blocks now instead of leaving an uncommitted
        blob for the service's garbage collection: commit an empty block list, then delete that empty blob.
        A blob that already existed is left untouched (its uncommitted blocks expire on their own)."""
        if not staged:
            return
        blob = self._container.get_blob_client(key)
        try:
            try:
                await blob.get_blob_properties()
                return
            except ResourceNotFoundError:
                pass
            await blob.commit_block_list([], if_none_match="*")
            await blob.delete_blob()
        except AzureError:
            pass  # best effort: uncommitted blocks are invisible to readers and expire

    # -- reads --------------------------------------------------------------------------------------------
    async def read_stream(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        validate_key(key)
        blob = self._container.get_blob_client(key)
        length = None if end is None else end - start + 1
        if length == 0:
            return
        try:
            downloader = await blob.download_blob(offset=start if (start or length is not None) else None,
                                                  length=length)
            async for chunk in downloader.chunks():
                yield chunk
        except ResourceNotFoundError:
            raise ObjectNotFound(key) from None
        except HttpResponseError as exc:
            if exc.status_code == 416 and start > 0 and end is None:
                return  # reading from the end of the object: nothing left
            raise StorageUnavailable(f"blob read of {key!r} failed: {_reason(exc)}") from None
        except AzureError as exc:
            raise StorageUnavailable(f"blob read of {key!r} failed: {_reason(exc)}") from None

    async def stat(self, key: str) -> ObjectInfo | None:
        validate_key(key)
        try:
            props = await self._container.get_blob_client(key).get_blob_properties()
        except ResourceNotFoundError:
            return None
        except (HttpResponseError, AzureError) as exc:
            raise StorageUnavailable(f"blob stat of {key!r} failed: {_reason(exc)}") from None
        return ObjectInfo(key=key, size=props.size)

    async def delete(self, key: str) -> bool:
        validate_key(key)
        try:
            await self._container.get_blob_client(key).delete_blob()
        except ResourceNotFoundError:
            return False
        except (HttpResponseError, AzureError) as exc:
            raise StorageUnavailable(f"blob delete of {key!r} failed: {_reason(exc)}") from None
        return True

    async def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        validate_prefix(prefix)
        try:
            async for props in self._container.list_blobs(name_starts_with=prefix or None):
                yield ObjectInfo(key=props.name, size=props.size)
        except (HttpResponseError, AzureError) as exc:
            raise StorageUnavailable(f"blob listing failed: {_reason(exc)}") from None
