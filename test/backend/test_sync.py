"""`sync run` (service, CLI and /api/v1/sync) against real FerretDB, the real disk and real Azurite."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest

from bodies import upload
from mydocs.services.jobs import JobAlreadyRunning, JobRunner, JobStore
from mydocs.services.sync import SyncService
from mydocs.sidecar import (
    Sidecar,
    managed_file_key,
    managed_sidecar_key,
    read_managed_sidecar,
    utcnow,
    write_managed_sidecar,
)
from syncdata import make_documents, opened, poll_job, records, run_cli


async def library(api, data_folder) -> list[dict]:
    """Five managed documents (one empty, tagged) and two external ones under the ingest root."""
    docs = await make_documents(api, 4, size=-1)
    r = await upload(api, ("empty.bin", b""), tags="none")
    assert r.status_code == 201
    folder = data_folder / "ingest" / "ext"
    folder.mkdir()
    (folder / "a.md").write_text("# external a\n")
    (folder / "b.md").write_text("# external b\n")
    r = await api.post("/api/v1/documents/ingest", json={"paths": ["ext"], "storage_mode": "external",
                                                         "tags": ["ext"]})
    assert r.status_code == 200 and len(r.json()["results"]) == 2, r.text
    r = await api.put(f"/api/v1/documents/{docs[0]['id']}/tags", json={"tags": ["changed"]})
    assert r.status_code == 200
    return docs


async def test_sync_restores_wiped_database_exactly(api, mongo_db, data_folder):
    await library(api, data_folder)
    before = await records(mongo_db)
    assert len(before) == 7
    await mongo_db.documents.delete_many({})

    storage = await opened(api.settings, api.backend)
    try:
        service = SyncService(mongo_db, storage, api.settings)
        seen: list[tuple[int, int]] = []

        async def progress(done: int, total: int) -> None:
            seen.append((done, total))

        report = await service.execute(progress)
        assert (report["restored"], report["updated"], report["unchanged"]) == (7, 0, 0)
        assert report["missing_files_count"] == report["conflicts_count"] == report["invalid_sidecars_count"] == 0
        assert await records(mongo_db) == before  # every field, byte for byte
        assert seen and seen[-1][0] == seen[-1][1]
        # a second run finds nothing to do
        again = await service.execute()
        assert (again["restored"], again["updated"], again["unchanged"]) == (0, 0, 7)
    finally:
        await storage.close()
    # and the app serves the restored documents
    listing = (await api.get("/api/v1/documents", params={"page_size": 100})).json()
    assert listing["total"] == 7


async def test_sync_updates_changed_records_and_keeps_others(api, mongo_db, data_folder):
    docs = await make_documents(api, 3)
    # the database drifted from the sidecars: a wrong location and stale tags
    await mongo_db.documents.update_one({"_id": docs[0]["id"]}, {"$set": {"file_key": "xx/elsewhere/f",
                                                                           "tags": ["stale"]}})
    storage = await opened(api.settings, api.backend)
    try:
        plan = (await SyncService(mongo_db, storage, api.settings).plan()).as_dict()
        assert plan["restore"] == [] and plan["unchanged"] == 2
        (upd,) = plan["update"]
        assert upd["id"] == docs[0]["id"] and set(upd["changes"]) == {"file_key", "tags"}
        assert upd["changes"]["tags"] == {"from": ["stale"], "to": ["alpha", "beta"]}
        report = await SyncService(mongo_db, storage, api.settings).execute()
    finally:
        await storage.close()
    assert report["updated"] == 1
    rec = await mongo_db.documents.find_one({"_id": docs[0]["id"]})
    assert rec["file_key"].startswith(f"{docs[0]['id'][:2]}/{docs[0]['id']}/") and rec["tags"] == ["alpha", "beta"]


async def test_missing_files_are_reported_not_deleted(api, mongo_db, data_folder):
    docs = await library(api, data_folder)
    storage = await opened(api.settings, api.backend)
    try:
        recs = {r["_id"]: r for r in await records(mongo_db)}
        gone_file = recs[docs[1]["id"]]                       # sidecar stays, file deleted
        assert await storage.delete(gone_file["file_key"])
        gone_both = recs[docs[2]["id"]]                       # file and sidecar deleted, record stays
        assert await storage.delete(gone_both["file_key"])
        assert await storage.delete(managed_sidecar_key(gone_both["_id"]))
        external = next(r for r in recs.values() if r["storage_mode"] == "external")
        (data_folder / "ingest" / "ext" / external["name"]).unlink()

        report = await SyncService(mongo_db, storage, api.settings).execute()
    finally:
        await storage.close()
    missing = {m["id"]: m for m in report["missing_files"]}
    assert set(missing) == {gone_file["_id"], gone_both["_id"], external["_id"]}
    assert missing[gone_file["_id"]]["has_sidecar"] is True and missing[gone_both["_id"]]["has_sidecar"] is False
    assert all(m["reason"] == "file_missing" and m["has_record"] for m in missing.values())
    assert report["restored"] == 0 and report["updated"] == 0
    assert {r["_id"] for r in await records(mongo_db)} == set(recs)  # nothing deleted


async def test_dry_run_changes_nothing(api, mongo_db, data_folder):
    await library(api, data_folder)
    await mongo_db.documents.delete_many({})
    # the plan endpoint and the CLI's --dry-run compute the plan and write nothing
    r = await api.post("/api/v1/sync/plan", json={"backend": api.backend})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["backend"] == api.backend and plan["restore_count"] == 7 and plan["update"] == []
    assert {i["storage_mode"] for i in plan["restore"]} == {"managed", "external"}
    code, out, err = await run_cli(api.settings, "sync", "run", "--backend", api.backend, "--dry-run")
    assert code == 0, err
    assert "would restore 7" in out and "dry run" in out
    assert await mongo_db.documents.count_documents({}) == 0


async def test_cli_sync_run_restores_and_reports(api, mongo_db, data_folder):
    docs = await library(api, data_folder)
    before = await records(mongo_db)
    await mongo_db.documents.delete_many({})
    code, out, err = await run_cli(api.settings, "sync", "run", "--backend", api.backend, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["restored"] == 7 and report["dry_run"] is False
    assert f"sync {api.backend}: " in err  # plain progress lines when stderr is not a terminal
    assert await records(mongo_db) == before
    # human output names a record whose file is gone
    storage = await opened(api.settings, api.backend)
    try:
        await storage.delete(next(r for r in before if r["_id"] == docs[3]["id"])["file_key"])
    finally:
        await storage.close()
    code, out, err = await run_cli(api.settings, "sync", "run", "--backend", api.backend)
    assert code == 0, err
    assert f"missing file (record kept): {docs[3]['id']}" in out


async def test_cli_errors_are_clear(make_settings):
    settings = make_settings()
    code, out, err = await run_cli(settings, "sync", "run", "--backend", "s3")
    assert code == 2 and "invalid choice: 's3'" in err
    bad = make_settings(MONGO_URL="mongodb://127.0.0.1:9/", MONGO_DB_NAME="x")
    code, out, err = await run_cli(bad, "sync", "run", "--backend", "local", timeout=60)
    assert code == 1 and "MongoDB at MONGO_URL is not reachable" in err and "Traceback" not in err


async def test_hostile_sidecars_are_refused(make_settings, make_client, mongo_db, data_folder):
    """A planted external sidecar must not turn /etc/passwd into a downloadable document."""
    settings = make_settings()
    folder = data_folder / "ingest" / "planted"
    folder.mkdir()
    doc_id = uuid.uuid4().hex
    now = utcnow()
    sc = Sidecar(id=doc_id, name="passwd", size=1, sha256="0" * 64, content_type="text/plain",
                 storage_mode="external", file_key="/etc/passwd", source="ingest", created_at=now, updated_at=now)
    (folder / f"{doc_id}.metadata.json").write_bytes(sc.to_json_bytes())
    (folder / f"{uuid.uuid4().hex}.metadata.json").write_bytes(b"{not json")
    storage = await opened(settings, "local")
    try:
        # a managed sidecar whose file_key points into another document's folder
        other = uuid.uuid4().hex
        bad = sc.model_copy(update={"storage_mode": "managed", "file_key": f"{other[:2]}/{other}/x"})
        await storage.write_bytes(managed_sidecar_key(doc_id), bad.to_json_bytes())
        report = await SyncService(mongo_db, storage, settings).execute()
    finally:
        await storage.close()
    assert report["restored"] == 0 and report["invalid_sidecars_count"] == 3
    errors = " ".join(i["error"] for i in report["invalid_sidecars"])
    assert "under the ingest roots" in errors and "not valid JSON" in errors and "document's folder" in errors
    assert await mongo_db.documents.count_documents({}) == 0


# ---- the HTTP API and jobs ------------------------------------------------------------------------------
async def test_api_execute_job_succeeds(api, mongo_db, data_folder):
    await library(api, data_folder)
    before = await records(mongo_db)
    await mongo_db.documents.delete_many({})
    r = await api.post("/api/v1/sync/execute", json={"backend": api.backend})
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert r.headers["location"] == f"/api/v1/sync/jobs/{job_id}"
    job = await poll_job(api, job_id)
    assert job["status"] == "succeeded", job
    assert job["kind"] == "sync" and job["error"] is None and job["params"] == {"backend": api.backend}
    assert job["report"]["restored"] == 7
    assert job["progress"]["done"] == job["progress"]["total"] > 0
    assert await records(mongo_db) == before
    stored = await mongo_db.jobs.find_one({"_id": job_id})  # the state is in MongoDB: any replica answers
    assert stored["status"] == "succeeded"


@pytest.mark.parametrize("body", [{}, {"backend": "s3"}, {"backend": "local", "extra": 1}, {"backend": None},
                                  [], "local"])
async def test_api_bad_bodies_are_422(client, body):
    for path in ("/api/v1/sync/plan", "/api/v1/sync/execute"):
        r = await client.post(path, json=body)
        assert r.status_code == 422, r.text
        assert r.json()["error_code"] == "validation_error" and r.json()["detail"]


async def test_api_non_json_body_is_422(client):
    r = await client.post("/api/v1/sync/execute", content=b"{oops", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error_code"] == "validation_error"


@pytest.mark.parametrize("job_id", [uuid.uuid4().hex, "nope", "0" * 31 + "g", "A" * 32, "a" * 33])
async def test_api_unknown_job_is_404(client, job_id):
    r = await client.get(f"/api/v1/sync/jobs/{job_id}")
    assert r.status_code == 404 and r.json()["error_code"] == "job_not_found"


async def test_api_storage_not_configured_is_503(make_settings, make_client):
    settings = make_settings(AZURE_STORAGE_CONNECTION_STRING="")
    async with make_client(settings) as c:
        r = await c.post("/api/v1/sync/plan", json={"backend": "azure_blob"})
    assert r.status_code == 503 and r.json()["error_code"] == "storage_unavailable"


async def test_job_failure_is_recorded_and_one_job_at_a_time(mongo_db):
    runner = JobRunner()
    release = asyncio.Event()

    async def slow(progress):
        await progress(1, 2)
        await release.wait()
        return {"ok": True}

    first = await runner.start(mongo_db, "sync", {"backend": "local"}, slow)
    with pytest.raises(JobAlreadyRunning):
        await runner.start(mongo_db, "migrate", {}, slow)
    release.set()
    await runner.wait_all()
    done = await JobStore(mongo_db).get(first["_id"])
    assert done["status"] == "succeeded" and done["report"] == {"ok": True}

    async def broken(progress):
        raise ValueError("the sidecar area is unreadable")

    failed = await runner.start(mongo_db, "sync", {"backend": "local"}, broken)
    await runner.wait_all()
    doc = await JobStore(mongo_db).get(failed["_id"])
    assert doc["status"] == "failed" and doc["error"] == "the sidecar area is unreadable"

    async def crash(progress):
        raise RuntimeError("mongodb://user:secret@host")  # an unexpected error's text is never shown

    crashed = await runner.start(mongo_db, "sync", {}, crash)
    await runner.wait_all()
    doc = await JobStore(mongo_db).get(crashed["_id"])
    assert doc["status"] == "failed" and "secret" not in doc["error"] and "RuntimeError" in doc["error"]


async def test_job_of_a_dead_process_is_reported_failed(client, mongo_db):
    """A job left `running` by a replica that died (no heartbeat) is not shown as running forever."""
    store = JobStore(mongo_db)
    job = await store.create("migrate", {"source_backend": "local", "target_backend": "azure_blob"})
    await store.running(job["_id"])
    old = utcnow() - timedelta(minutes=5)
    await mongo_db.jobs.update_one({"_id": job["_id"]}, {"$set": {"heartbeat_at": old}})
    r = await client.get(f"/api/v1/sync/jobs/{job['_id']}")
    assert r.status_code == 200
    assert r.json()["status"] == "failed" and r.json()["error"].startswith("abandoned")
    # and it no longer blocks a new job
    r = await client.post("/api/v1/sync/execute", json={"backend": "local"})
    assert r.status_code == 202
    assert (await poll_job(client, r.json()["job_id"]))["status"] == "succeeded"


async def test_a_late_running_or_progress_write_never_reopens_a_finished_job(mongo_db):
    """A job cancelled while its `running` (or progress) write is still in flight records `failed`; that write
    can still reach the database afterwards, on another connection (seen: a cancelled ingest job read back as
    `running` right after its cancel answered). It must not turn the finished job back into a running one."""
    store = JobStore(mongo_db)
    job = await store.create("ingest", {"paths": ["many"]})
    await store.finish(job["_id"], report=None, error="cancelled by request", progress=(3, 400))
    await store.running(job["_id"])  # the late write
    await store.progress(job["_id"], 5, 400)
    doc = await store.get(job["_id"])
    assert (doc["status"], doc["error"], doc["progress"]) == ("failed", "cancelled by request",
                                                              {"done": 3, "total": 400})
    fresh = await store.create("sync", {})
    await store.running(fresh["_id"])
    await store.progress(fresh["_id"], 1, 2)
    doc = await store.get(fresh["_id"])
    assert (doc["status"], doc["progress"]) == ("running", {"done": 1, "total": 2})


async def test_a_cancelled_job_records_its_end_after_its_writes_in_flight(mongo_db, monkeypatch):
    """Cancelled while a progress write is in flight (a pymongo call goes on at the server when its caller is
    cancelled; here a detached slow write stands for it), the runner waits for that write, then finish()."""
    order: list[str] = []
    real_progress, real_finish = JobStore.progress, JobStore.finish

    def slow_progress(self, job_id, done, total):
        async def write():
            order.append("progress sent")
            await asyncio.sleep(0.3)
            await real_progress(self, job_id, done, total)
            order.append("progress landed")
        return asyncio.ensure_future(write())  # goes on when its awaiter is cancelled, as a sent command does

    async def spy_finish(self, job_id, **end):
        order.append("finish")
        await real_finish(self, job_id, **end)

    monkeypatch.setattr(JobStore, "progress", slow_progress)
    monkeypatch.setattr(JobStore, "finish", spy_finish)
    runner = JobRunner()
    started = asyncio.Event()

    async def work(progress):
        started.set()
        await progress(1, 10)
        await asyncio.sleep(30)
        return {}

    job = await runner.start(mongo_db, "ingest", {}, work)
    await started.wait()
    await asyncio.sleep(0.05)  # the progress write is in flight
    assert runner.cancel(job["_id"])
    await runner.wait(job["_id"])
    assert order == ["progress sent", "progress landed", "finish"], order
    doc = await JobStore(mongo_db).get(job["_id"])
    assert (doc["status"], doc["error"]) == ("failed", "cancelled by request")


async def test_duplicate_content_is_a_conflict_not_a_second_record(api, mongo_db):
    (doc,) = await make_documents(api, 1)
    storage = await opened(api.settings, api.backend)
    try:
        sc = await read_managed_sidecar(storage, doc["id"])
        twin = uuid.uuid4().hex
        key = managed_file_key(twin, sc.name)
        await storage.write_bytes(key, await storage.read_bytes(sc.file_key))
        await write_managed_sidecar(storage, sc.model_copy(update={"id": twin, "file_key": key}))
        kept = await SyncService(mongo_db, storage, api.settings).execute()
        assert (kept["restored"], kept["unchanged"], kept["conflicts_count"]) == (0, 1, 1)
        assert kept["conflicts"][0] == {"id": twin, "where": f"{api.backend}:{managed_sidecar_key(twin)}",
                                        "reason": "duplicate_content", "existing_id": doc["id"]}
        await mongo_db.documents.delete_many({})
        wiped = await SyncService(mongo_db, storage, api.settings).execute()
    finally:
        await storage.close()
    assert (wiped["restored"], wiped["conflicts_count"]) == (1, 1)
    assert await mongo_db.documents.count_documents({}) == 1
