"""`sync migrate` (service, CLI, /api/v1/sync/migrate) between the real disk and real Azurite."""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal

import pytest

from bodies import MIB
from mydocs.services.jobs import JobRunner, JobStore
from mydocs.services.migrate import MigrateService, SameBackend
from mydocs.services.sync import SyncService
from mydocs.sidecar import MANAGED_SIDECAR_RE, read_managed_sidecar
from syncdata import MYDOCS, cli_env, make_documents, object_sums, opened, poll_job, records, run_cli


@pytest.fixture
async def backends(make_settings):
    """(settings, local, azure_blob): both backends opened on this test's folder and container."""
    settings = make_settings()
    local, blob = await opened(settings, "local"), await opened(settings, "azure_blob")
    yield settings, local, blob
    await local.close()
    await blob.close()


async def library_on_local(make_settings, make_client, count: int = 5, size: int = -1) -> list[dict]:
    async with make_client(make_settings(MYDOCS_STORAGE_BACKEND="local")) as c:
        docs = await make_documents(c, count, size=size)
        if size == -1:  # one multi-block file and one empty file too
            docs += await make_documents(c, 1, size=5 * MIB + 3, seed=7)
            from bodies import upload

            r = await upload(c, ("empty.bin", b""))
            assert r.status_code == 201
            docs.append(r.json()["results"][0]["document"])
    return docs


def without_backend(recs: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "storage_backend"} for r in recs]


async def test_round_trip_local_azure_local_with_checksums(backends, make_settings, make_client, mongo_db):
    settings, local, blob = backends
    docs = await library_on_local(make_settings, make_client)
    original = await records(mongo_db)
    sums = await object_sums(local)
    assert len(sums) == 2 * len(docs) == 14

    # local -> azure_blob, deleting the source once verified
    report = await MigrateService(local, blob).execute(delete_source=True)
    assert report["errors_count"] == 0 and report["documents"] == 7
    assert (report["copied"], report["verified"], report["deleted_source"]) == (14, 14, 7)
    assert await object_sums(blob) == sums          # every object, byte for byte (sha256 read back)
    assert await object_sums(local) == {}
    assert await records(mongo_db) == original      # storage only: no database write

    # a second run copies nothing
    again = await MigrateService(local, blob).execute()
    assert again["documents"] == 0 and again["copied"] == 0

    # sync on the target points every record at azure_blob (a non-empty database)
    sync = await SyncService(mongo_db, blob, settings).execute()
    assert (sync["updated"], sync["restored"], sync["missing_files_count"]) == (7, 0, 0)
    moved = await records(mongo_db)
    assert {r["storage_backend"] for r in moved} == {"azure_blob"}
    assert without_backend(moved) == without_backend(original)
    async with make_client(make_settings(MYDOCS_STORAGE_BACKEND="azure_blob")) as c:
        for doc in docs:
            got = await c.get(f"/api/v1/documents/{doc['id']}/file")
            assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == doc["sha256"]

    # and back: azure_blob -> local
    back = await MigrateService(blob, local).execute(delete_source=True)
    assert (back["copied"], back["deleted_source"], back["errors_count"]) == (14, 7, 0)
    assert await object_sums(local) == sums and await object_sums(blob) == {}
    await SyncService(mongo_db, local, settings).execute()
    assert await records(mongo_db) == original      # exactly where we started


async def test_second_run_skips_by_sha256_and_plan_writes_nothing(backends, make_settings, make_client):
    settings, local, blob = backends
    await library_on_local(make_settings, make_client, count=3, size=2000)
    plan = await MigrateService(local, blob).plan()
    assert plan["dry_run"] is True and plan["copy_count"] == 6 and plan["skip_count"] == 0
    assert plan["bytes_to_copy"] == sum(i["size"] for i in plan["copy"])
    assert await object_sums(blob) == {}  # the plan wrote nothing
    code, out, err = await run_cli(settings, "sync", "migrate", "--from", "local", "--to", "azure_blob", "--dry-run",
                                   "--delete-source", "--json")
    assert code == 0, err
    assert json.loads(out)["copy_count"] == 6 and "deletes nothing" in err
    assert await object_sums(blob) == {} and len(await object_sums(local)) == 6
    first = await MigrateService(local, blob).execute()
    assert (first["copied"], first["skip_count"]) == (6, 0)
    second = await MigrateService(local, blob).execute()
    assert (second["copied"], second["skip_count"], second["verified"]) == (0, 6, 6)
    assert {i["reason"] for i in second["skip"]} == {"same_sha256"}
    assert await object_sums(local) == await object_sums(blob)  # no --delete-source: both hold everything


async def test_corrupt_source_is_not_copied_nor_deleted(backends, make_settings, make_client):
    settings, local, blob = backends
    docs = await library_on_local(make_settings, make_client, count=3, size=4000)
    bad = docs[1]
    sidecar = await read_managed_sidecar(local, bad["id"])
    path = local.path_for(sidecar.file_key)
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF  # same size, different content: only a checksum finds it
    path.write_bytes(bytes(data))
    report = await MigrateService(local, blob).execute(delete_source=True)
    assert report["errors_count"] == 1 and bad["id"] in report["errors"][0]["id"]
    assert "does not match" in report["errors"][0]["error"]
    assert report["deleted_source"] == 2
    assert path.exists() and (await local.stat(f"{bad['id'][:2]}/{bad['id']}.metadata.json")) is not None
    assert await blob.stat(sidecar.file_key) is None  # no bad copy left at the target
    keys = {k for k in await object_sums(blob)}
    assert not any(bad["id"] in k for k in keys) and len(keys) == 4
    # the CLI reports it and fails
    code, out, err = await run_cli(settings, "sync", "migrate", "--from", "local", "--to", "azure_blob")
    assert code == 1 and "could not be migrated" in err and "does not match" in out


async def test_target_newer_sidecar_is_kept(backends, make_settings, make_client, mongo_db):
    """Tags changed on the target after a migrate are not overwritten by a later migrate of the old source."""
    settings, local, blob = backends
    docs = await library_on_local(make_settings, make_client, count=2, size=3000)
    await MigrateService(local, blob).execute()
    await SyncService(mongo_db, blob, settings).execute()
    async with make_client(make_settings(MYDOCS_STORAGE_BACKEND="azure_blob")) as c:
        r = await c.put(f"/api/v1/documents/{docs[0]['id']}/tags", json={"tags": ["newer"]})
        assert r.status_code == 200
    report = await MigrateService(local, blob).execute()
    assert report["copied"] == 0 and report["errors_count"] == 0
    assert {"id": docs[0]["id"], "kind": "sidecar", "key": f"{docs[0]['id'][:2]}/{docs[0]['id']}.metadata.json",
            "reason": "target_newer"} in report["skip"]
    assert (await read_managed_sidecar(blob, docs[0]["id"])).tags == ["newer"]


async def test_same_backend_is_refused(backends, make_settings, make_client):
    settings, local, _ = backends
    with pytest.raises(SameBackend, match="same backend"):
        MigrateService(local, local)
    code, out, err = await run_cli(settings, "sync", "migrate", "--from", "local", "--to", "local")
    assert code == 1 and "choose two different backends" in err
    async with make_client(settings) as c:
        for path in ("/api/v1/sync/migrate/plan", "/api/v1/sync/migrate/execute"):
            r = await c.post(path, json={"source_backend": "azure_blob", "target_backend": "azure_blob"})
            assert r.status_code == 422 and r.json()["error_code"] == "validation_error"
            assert "must be different" in r.json()["detail"]


@pytest.mark.parametrize("body", [{}, {"source_backend": "local"}, {"source_backend": "local", "target_backend": "s3"},
                                  {"source_backend": "local", "target_backend": "azure_blob", "delete_source": "maybe"},
                                  {"source_backend": "local", "target_backend": "azure_blob", "from": "x"}])
async def test_api_bad_migrate_bodies_are_422(client, body):
    r = await client.post("/api/v1/sync/migrate/execute", json=body)
    assert r.status_code == 422 and r.json()["error_code"] == "validation_error", r.text


async def test_api_migrate_plan_then_job(make_settings, make_client, mongo_db, backends):
    settings, local, blob = backends
    docs = await library_on_local(make_settings, make_client, count=3, size=1500)
    async with make_client(make_settings()) as c:
        r = await c.post("/api/v1/sync/migrate/plan", json={"source_backend": "local", "target_backend": "azure_blob"})
        assert r.status_code == 200 and r.json()["copy_count"] == 6, r.text
        r = await c.post("/api/v1/sync/migrate/execute",
                         json={"source_backend": "local", "target_backend": "azure_blob", "delete_source": True})
        assert r.status_code == 202, r.text
        job = await poll_job(c, r.json()["job_id"])
        assert job["status"] == "succeeded", job
        assert job["kind"] == "migrate" and job["params"]["delete_source"] is True
        assert job["report"]["copied"] == 6 and job["report"]["deleted_source"] == 3
        assert job["progress"] == {"done": 3, "total": 3}
        # then the sync job on the target
        r = await c.post("/api/v1/sync/execute", json={"backend": "azure_blob"})
        job = await poll_job(c, r.json()["job_id"])
        assert job["status"] == "succeeded" and job["report"]["updated"] == 3
    assert {r["storage_backend"] for r in await records(mongo_db)} == {"azure_blob"}
    assert len(await object_sums(blob)) == 2 * len(docs)


async def test_migrate_killed_midway_resumes_without_loss(backends, make_settings, make_client, mongo_db):
    """A real `mydocs sync migrate` process is SIGKILLed after a few documents; the next run completes."""
    settings, local, blob = backends
    count = 24
    docs = await library_on_local(make_settings, make_client, count=count, size=2 * MIB)
    sums = await object_sums(local)

    proc = await asyncio.create_subprocess_exec(
        MYDOCS, "sync", "migrate", "--from", "local", "--to", "azure_blob", "--delete-source",
        env=cli_env(settings), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    deadline = asyncio.get_running_loop().time() + 120
    while True:
        done = [k async for k in _keys(blob) if MANAGED_SIDECAR_RE.match(k)]
        if len(done) >= 3 or proc.returncode is not None:
            break
        assert asyncio.get_running_loop().time() < deadline, "the migration made no progress"
        await asyncio.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the migration finished before it could be killed"

    # midway: some documents moved, the rest not; every sidecar at the target has its verified file
    at_target = await object_sums(blob)
    moved = [k for k in at_target if MANAGED_SIDECAR_RE.match(k)]
    assert 3 <= len(moved) < count
    for key in moved:
        sc = await read_managed_sidecar(blob, MANAGED_SIDECAR_RE.match(key).group(2))
        assert at_target[sc.file_key] == (sc.size, sc.sha256)
    # nothing is lost: each document is complete in the source, at the target, or both
    at_source = await object_sums(local)
    assert {**at_source, **at_target} == sums
    left_in_source = [k for k in at_source if MANAGED_SIDECAR_RE.match(k)]

    code, out, err = await run_cli(settings, "sync", "migrate", "--from", "local", "--to", "azure_blob",
                                   "--delete-source", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["errors_count"] == 0 and report["documents"] == len(left_in_source)
    assert report["copied"] == len(set(sums) - set(at_target))  # what was complete is not copied again
    assert report["deleted_source"] == len(left_in_source)
    assert await object_sums(blob) == sums and await object_sums(local) == {}
    code, out, err = await run_cli(settings, "sync", "migrate", "--from", "local", "--to", "azure_blob", "--json")
    assert code == 0 and json.loads(out)["copied"] == 0
    # the records follow with one sync run
    code, out, err = await run_cli(settings, "sync", "run", "--backend", "azure_blob", "--json")
    assert code == 0, err
    assert json.loads(out)["updated"] == count
    assert {r["storage_backend"] for r in await records(mongo_db)} == {"azure_blob"}
    assert {d["id"] for d in docs} == {r["_id"] for r in await records(mongo_db)}


async def _keys(storage):
    async for info in storage.list():
        yield info.key


async def test_cancelled_migrate_job_resumes_without_loss(backends, make_settings, make_client, mongo_db):
    """A migrate job cancelled midway (what a server shutdown does) records why; a new job completes it."""
    settings, local, blob = backends
    count = 12
    await library_on_local(make_settings, make_client, count=count, size=MIB + 1)
    sums = await object_sums(local)
    runner = JobRunner()
    reached = asyncio.Event()

    async def work(progress):
        async def watch(done: int, total: int) -> None:
            await progress(done, total)
            if done >= 3:
                reached.set()

        return await MigrateService(local, blob).execute(delete_source=True, progress=watch)

    params = {"source_backend": "local", "target_backend": "azure_blob", "delete_source": True}
    job = await runner.start(mongo_db, "migrate", params, work)
    await asyncio.wait_for(reached.wait(), 120)
    await runner.shutdown()
    stopped = await JobStore(mongo_db).get(job["_id"])
    assert stopped["status"] == "failed" and stopped["error"].startswith("cancelled"), stopped
    at_target = await object_sums(blob)
    assert 3 <= len([k for k in at_target if MANAGED_SIDECAR_RE.match(k)]) < count
    assert {**await object_sums(local), **at_target} == sums  # nothing lost

    again = await runner.start(mongo_db, "migrate", params, work)
    await runner.wait_all()
    done = await JobStore(mongo_db).get(again["_id"])
    assert done["status"] == "succeeded" and done["report"]["errors_count"] == 0, done
    assert await object_sums(blob) == sums and await object_sums(local) == {}


async def test_app_shutdown_cancels_a_running_job(make_settings, make_client, mongo_db, backends):
    """Stopping the app while a migration runs records it as cancelled (not `running` forever)."""
    settings, local, blob = backends
    await library_on_local(make_settings, make_client, count=20, size=MIB + 1)
    body = {"source_backend": "local", "target_backend": "azure_blob"}
    async with make_client(settings) as c:
        r = await c.post("/api/v1/sync/migrate/execute", json=body)
        assert r.status_code == 202
        job_id = r.json()["job_id"]
        while (await c.get(f"/api/v1/sync/jobs/{job_id}")).json()["status"] == "queued":
            await asyncio.sleep(0.01)
    job = await JobStore(mongo_db).get(job_id)
    assert job["status"] == "failed" and job["error"].startswith("cancelled"), job
    async with make_client(settings) as c:  # a new job (another replica would do the same) completes it
        r = await c.post("/api/v1/sync/migrate/execute", json=body)
        assert r.status_code == 202
        assert (await poll_job(c, r.json()["job_id"]))["status"] == "succeeded"
    assert await object_sums(blob) == await object_sums(local)
