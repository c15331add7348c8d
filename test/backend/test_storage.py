"""The same suite against both backends: the real local disk and real Azurite."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
from azure.core.exceptions import ResourceNotFoundError

from mydocs.storage.base import InvalidKey, ObjectInfo, ObjectNotFound, ObjectTooLarge, StorageBackend
from mydocs.storage.local import LocalStorage


async def chunks_of(data: bytes, size: int = 65536):
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def test_round_trip_bytes(storage: StorageBackend):
    data = os.urandom(3 * 1024 * 1024 + 17)  # crosses block and chunk boundaries
    res = await storage.write_stream("ab/x/file.bin", chunks_of(data), content_type="application/pdf")
    assert (res.size, res.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert await storage.read_bytes("ab/x/file.bin") == data
    assert await storage.stat("ab/x/file.bin") == ObjectInfo("ab/x/file.bin", len(data))


async def test_empty_object(storage: StorageBackend):
    res = await storage.write_bytes("e/empty", b"")
    assert res.size == 0 and res.sha256 == hashlib.sha256(b"").hexdigest()
    assert await storage.read_bytes("e/empty") == b""
    assert (await storage.stat("e/empty")).size == 0


async def test_ranges(storage: StorageBackend):
    data = bytes(range(256)) * 10
    await storage.write_bytes("r/data", data)
    assert b"".join([c async for c in storage.read_stream("r/data", start=10, end=19)]) == data[10:20]
    assert b"".join([c async for c in storage.read_stream("r/data", start=2550)]) == data[2550:]
    assert b"".join([c async for c in storage.read_stream("r/data", start=0, end=0)]) == data[:1]


async def test_overwrite_is_atomic_replace(storage: StorageBackend):
    await storage.write_bytes("o/k", b"old")
    await storage.write_bytes("o/k", b"new content")
    assert await storage.read_bytes("o/k") == b"new content"


async def test_too_large_leaves_nothing(storage: StorageBackend):
    with pytest.raises(ObjectTooLarge):
        await storage.write_stream("big/obj", chunks_of(b"x" * (5 * 1024 * 1024), 65536), max_bytes=5 * 1024 * 1024 - 1)
    assert await storage.stat("big/obj") is None
    assert [o async for o in storage.list()] == []
    if isinstance(storage, LocalStorage):
        assert not any(storage.root.rglob("*")), "temp file or folder left behind"
    else:  # no uncommitted blocks left either (staged blocks of the aborted write were discarded)
        with pytest.raises(ResourceNotFoundError):
            await storage._container.get_blob_client("big/obj").get_block_list("all")


async def test_failed_stream_keeps_previous_version(storage: StorageBackend):
    await storage.write_bytes("f/k", b"v1")

    async def broken():
        yield b"partial"
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        await storage.write_stream("f/k", broken())
    assert await storage.read_bytes("f/k") == b"v1"
    assert [o.key async for o in storage.list()] == ["f/k"]


async def test_missing(storage: StorageBackend):
    assert await storage.stat("no/such") is None
    assert await storage.delete("no/such") is False
    with pytest.raises(ObjectNotFound):
        await storage.read_bytes("no/such")


async def test_delete_and_list(storage: StorageBackend):
    for key in ["aa/1/a.txt", "aa/1.metadata.json", "bb/2/b.txt", "bb/2.metadata.json"]:
        await storage.write_bytes(key, key.encode())
    assert sorted([o.key async for o in storage.list()]) == ["aa/1.metadata.json", "aa/1/a.txt",
                                                           "bb/2.metadata.json", "bb/2/b.txt"]
    assert sorted([o.key async for o in storage.list("aa/")]) == ["aa/1.metadata.json", "aa/1/a.txt"]
    assert await storage.delete("aa/1/a.txt") is True
    assert sorted([o.key async for o in storage.list("aa/")]) == ["aa/1.metadata.json"]


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "../x", "a//b", "./a", "a/.", "a\\b", "a\x00b", "a\nb",
                                 "x" * 2000])
async def test_invalid_keys(storage: StorageBackend, key: str):
    with pytest.raises(InvalidKey):
        await storage.write_bytes(key, b"x")
    with pytest.raises(InvalidKey):
        await storage.stat(key)


async def test_concurrent_writes_distinct_keys(storage: StorageBackend):
    blobs = {f"c/{i}/f": os.urandom(200_000 + i) for i in range(8)}
    await asyncio.gather(*(storage.write_stream(k, chunks_of(v)) for k, v in blobs.items()))
    for k, v in blobs.items():
        assert await storage.read_bytes(k) == v


async def test_local_refuses_symlink_escape(tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    storage = LocalStorage(root)
    await storage.open()
    with pytest.raises(InvalidKey):
        await storage.write_bytes("link/evil", b"x")
    assert not any(outside.iterdir())


async def test_local_writes_are_private_to_group(tmp_path):
    storage = LocalStorage(tmp_path / "r")
    await storage.open()
    await storage.write_bytes("a/b", b"x")
    assert (tmp_path / "r/a/b").stat().st_mode & 0o007 == 0


async def test_azure_auth_order(make_settings, azurite):
    """Connection string first; then account name + key; then account name alone with DefaultAzureCredential."""
    from azure.identity.aio import DefaultAzureCredential
    from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy

    from mydocs.storage.azure_blob import AzureBlobStorage

    key = "a2V5"  # base64
    both = AzureBlobStorage.from_settings(make_settings(MYDOCS_STORAGE_BACKEND="azure_blob",
                                                        AZURE_STORAGE_ACCOUNT_NAME="otheraccount",
                                                        AZURE_STORAGE_ACCOUNT_KEY=key))
    assert both._service.url.startswith(azurite.blob_endpoint)  # the connection string wins
    await both.close()
    named = AzureBlobStorage.from_settings(make_settings(MYDOCS_STORAGE_BACKEND="azure_blob",
                                                         AZURE_STORAGE_CONNECTION_STRING="",
                                                         AZURE_STORAGE_ACCOUNT_NAME="myaccount",
                                                         AZURE_STORAGE_ACCOUNT_KEY=key))
    assert named._service.url == "https://myaccount.blob.core.windows.net/"
    assert isinstance(named._service.credential, SharedKeyCredentialPolicy)
    assert named._service.credential.account_name == "myaccount"
    await named.close()
    identity = AzureBlobStorage.from_settings(make_settings(MYDOCS_STORAGE_BACKEND="azure_blob",
                                                            AZURE_STORAGE_CONNECTION_STRING="",
                                                            AZURE_STORAGE_ACCOUNT_NAME="myaccount"))
    assert isinstance(identity._credential, DefaultAzureCredential)
    assert identity._service.credential is identity._credential
    await identity.close()


async def test_azure_container_refused_is_a_clear_error(make_settings):
    """Wrong account key against the real Azurite: open() says why, in one line, without the key."""
    from mydocs.storage.azure_blob import AzureBlobStorage
    from mydocs.storage.base import StorageUnavailable

    settings = make_settings(MYDOCS_STORAGE_BACKEND="azure_blob")
    conn = settings.AZURE_STORAGE_CONNECTION_STRING.replace("AccountKey=Eby8", "AccountKey=AAAA")
    backend = AzureBlobStorage.from_settings(make_settings(MYDOCS_STORAGE_BACKEND="azure_blob",
                                                           AZURE_STORAGE_CONNECTION_STRING=conn))
    with pytest.raises(StorageUnavailable) as info:
        await backend.open()
    await backend.close()
    message = str(info.value)
    assert "\n" not in message and "AAAA" not in message and "403" in message


# ---- staged writes: a document's file and sidecar are committed while other steps run ------------------------

async def test_staged_stream_and_bytes_commit_and_abort(storage: StorageBackend):
    data = os.urandom(3 * 1024 * 1024 + 5)
    staged = await storage.stage_stream("st/a/file.bin", chunks_of(data, 65536))
    assert (staged.result.size, staged.result.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    side = await storage.stage_bytes("st/a.json", b'{"x": 1}')
    if isinstance(storage, LocalStorage):  # the local backend renames into place only on commit
        assert await storage.stat("st/a/file.bin") is None and await storage.stat("st/a.json") is None
    await asyncio.gather(staged.commit(), side.commit())
    assert await storage.read_bytes("st/a/file.bin") == data
    assert await storage.read_bytes("st/a.json") == b'{"x": 1}'
    # abort after commit removes the object too (what a document's cleanup relies on)
    await asyncio.gather(staged.abort(), side.abort())
    assert [o.key async for o in storage.list("st/")] == []
    # abort before commit leaves nothing, not even a temp file or an empty folder
    again = await storage.stage_stream("st/b/file.bin", chunks_of(data, 65536))
    small = await storage.stage_bytes("st/b.json", b"{}")
    await asyncio.gather(again.abort(), small.abort())
    assert [o.key async for o in storage.list("st/")] == []
    if isinstance(storage, LocalStorage):
        assert not (storage.root / "st").exists()


async def test_local_stream_starts_writeback_of_every_byte_in_order(tmp_path, monkeypatch):
    """Each buffer is handed to the kernel's writeback (sync_file_range) at the offset it was written at, and
    the hash, computed in another thread beside the write, is that of the bytes in file order."""
    import mydocs.storage.local as local

    assert local._sync_file_range is not None, "sync_file_range not found in libc on Linux"
    calls: list[tuple[int, int]] = []
    real = local.start_writeback

    def spy(fd: int, offset: int, length: int) -> None:
        calls.append((offset, length))
        real(fd, offset, length)

    monkeypatch.setattr(local, "start_writeback", spy)
    storage = LocalStorage(tmp_path / "r")
    await storage.open()
    data = os.urandom(5 * 1024 * 1024 + 333)
    res = await storage.write_stream("wb/x/file.bin", chunks_of(data, 300_001))  # odd chunks: uneven buffers
    assert (res.size, res.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert await storage.read_bytes("wb/x/file.bin") == data
    assert calls[0][0] == 0 and sum(n for _, n in calls) == len(data)
    assert all(a + n == b for (a, n), (b, _) in zip(calls, calls[1:])), calls
    local.start_writeback(-1, 0, 4096)  # advisory: a failing call (EBADF) is ignored, never raised


async def test_local_staged_abort_waits_for_a_write_in_flight(tmp_path):
    """An abort while the last write still runs in a pool thread (the request was cancelled) waits for it,
    then removes the temp file: no descriptor is closed under a writing thread, nothing is left."""
    storage = LocalStorage(tmp_path / "r")
    await storage.open()
    started = asyncio.Event()

    async def body():
        yield b"x" * (2 * 1024 * 1024)
        started.set()
        await asyncio.sleep(30)  # the client stalls; the task is cancelled here
        yield b"never"

    task = asyncio.ensure_future(storage.stage_stream("w/x/file.bin", body()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list((tmp_path / "r").rglob("*")) == []
