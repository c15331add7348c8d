"""Issue 12: faults and hostile inputs, each against the real app (FerretDB, real files, FIFOs, mounts)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from bodies import MIB, MultipartBody, Payload, upload
from conftest import FerretDBServer
from mydocs import fileio
from oidc_provider import OidcProvider


def managed_files(settings) -> list[Path]:
    root = settings.managed_root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def call_asgi(app, method: str, path: str, messages: list[dict], *, headers: list[tuple[bytes, bytes]],
                    after=None) -> list[dict]:
    """One request straight through the ASGI app with the given receive messages; `after` runs when they are
    used up (default: the client disconnects)."""
    sent: list[dict] = []

    async def receive():
        if messages:
            return messages.pop(0)
        if after is not None:
            await after()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"testserver"), *headers], "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80), "root_path": "", "state": {}, "app": app}
    await app(scope, receive, send)
    return sent


# ---- 1. ingest opens each file without following a symlink swapped in after the walk -------------------

async def test_ingest_refuses_symlink_swapped_in_while_it_runs(client, settings, tmp_path, mongo_db):
    root = settings.ingest_roots[0]
    (root / "batch").mkdir()
    big = Payload(64 * MIB, seed=12)
    with (root / "batch/a-big.bin").open("wb") as f:
        for chunk in big.chunks():
            f.write(chunk)
    (root / "batch/z-small.txt").write_bytes(b"harmless")
    secret = tmp_path / "secret.env"
    secret.write_bytes(b"MONGO_PASSWORD=not-for-clients")

    task = asyncio.create_task(client.post("/api/v1/documents/ingest", json={"paths": ["batch"]}))
    # the walk is over once the first copy has a temp file; z-small.txt is opened only after a-big.bin
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".tmp-") for p in settings.managed_root.rglob("*")):
        assert time.monotonic() < deadline and not task.done(), "the ingest never started copying"
        await asyncio.sleep(0.002)
    (root / "batch/z-small.txt").unlink()
    (root / "batch/z-small.txt").symlink_to(secret)
    r = await task
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["document"]["name"] for x in body["results"]] == ["a-big.bin"]
    assert [e["error_code"] for e in body["errors"]] == ["not_a_file"]
    assert await mongo_db.documents.count_documents({"size": secret.stat().st_size}) == 0
    for p in managed_files(settings):
        assert b"not-for-clients" not in p.read_bytes()


# ---- 2. roles: ingest, sync and migrate need the admin role ----------------------------------------------

@pytest.fixture
def idp():
    with OidcProvider() as provider:
        yield provider


@pytest.mark.parametrize("role_setting", [None, "Docs.Operator"])
async def test_admin_role_needed_for_ingest_sync_migrate(make_settings, make_client, idp, role_setting):
    extra = {"MYDOCS_ADMIN_ROLE": role_setting} if role_setting else {}
    settings = make_settings(ENTRA_TENANT_ID=idp.tenant, ENTRA_CLIENT_ID=idp.client_id, ENTRA_ISSUER=idp.issuer,
                             **extra)
    role = role_setting or "MyDocs.Admin"
    (settings.ingest_roots[0] / "x.txt").write_bytes(b"x")
    calls = [("/api/v1/documents/ingest", {"paths": ["x.txt"]}),
             ("/api/v1/sync/plan", {"backend": "local"}),
             ("/api/v1/sync/execute", {"backend": "local"}),
             ("/api/v1/sync/migrate/plan", {"source_backend": "local", "target_backend": "azure_blob",
                                            "delete_source": True}),
             ("/api/v1/sync/migrate/execute", {"source_backend": "local", "target_backend": "azure_blob"})]
    async with make_client(settings) as c:
        for roles in (None, [], ["Reader"], ["mydocs.admin"] if role == "MyDocs.Admin" else ["MyDocs.Admin"],
                      role):  # a string instead of the list Entra sends
            user = {"Authorization": f"Bearer {idp.token(roles=roles)}"}
            for path, body in calls:
                r = await c.post(path, json=body, headers=user)
                assert r.status_code == 403, (roles, path, r.text)
                assert r.json()["error_code"] == "missing_role" and role in r.json()["detail"]
                assert r.headers["www-authenticate"].startswith('Bearer error="insufficient_scope"')
            # the ordinary API stays open to any signed-in user
            assert (await c.get("/api/v1/documents", headers=user)).status_code == 200
            assert (await upload(c, ("u.txt", f"{roles}".encode()), headers=user)).status_code == 201
        admin = {"Authorization": f"Bearer {idp.token(roles=['Reader', role])}"}
        r = await c.post("/api/v1/documents/ingest", json={"paths": ["x.txt"]}, headers=admin)
        assert r.status_code == 200 and len(r.json()["results"]) == 1, r.text
        assert (await c.post("/api/v1/sync/plan", json={"backend": "local"}, headers=admin)).status_code == 200
        r = await c.post("/api/v1/sync/migrate/plan", json={"source_backend": "local",
                                                           "target_backend": "azure_blob"}, headers=admin)
        assert r.status_code == 200, r.text


def test_admin_role_setting_is_validated(make_settings):
    from mydocs.settings import ConfigError

    with pytest.raises(ConfigError) as info:
        make_settings(MYDOCS_ADMIN_ROLE="bad role with spaces")
    assert info.value.problems[0].startswith("MYDOCS_ADMIN_ROLE:")


# ---- 3. active content types are never served as such; CSP sandbox on files -------------------------------

@pytest.mark.parametrize("declared,served", [
    ("text/html", "application/octet-stream"), ("image/svg+xml", "application/octet-stream"),
    ("application/javascript", "application/octet-stream"), ("text/xml", "application/octet-stream"),
    ("application/xhtml+xml", "application/octet-stream"), ("application/pdf", "application/pdf"),
    ("image/png", "image/png"), ("text/plain", "text/plain"),
])
async def test_files_served_with_safe_type_and_sandbox(api, declared, served):
    doc = (await upload(api, ("page.bin", b"<script>alert(document.domain)</script>"), content_type=declared)
           ).json()["results"][0]["document"]
    assert doc["content_type"] == declared  # the metadata keeps what the client said
    r = await api.get(f"/api/v1/documents/{doc['id']}/file")
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == served
    assert r.headers["content-security-policy"].startswith("sandbox")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("attachment;")


# ---- 4. FIFOs answer at once; file I/O in its own bounded pool; liveness notices a starved pool ----------

async def test_external_file_replaced_by_fifo_answers_409_at_once(client, settings):
    root = settings.ingest_roots[0]
    (root / "doc.txt").write_bytes(b"soon a pipe")
    doc = (await client.post("/api/v1/documents/ingest", json={"paths": ["doc.txt"], "storage_mode": "external"})
           ).json()["results"][0]["document"]
    (root / "doc.txt").unlink()
    os.mkfifo(root / "doc.txt")
    try:
        for _ in range(fileio.FILE_IO_THREADS + 4):  # more than the pool has threads: none may be held
            r = await asyncio.wait_for(client.get(f"/api/v1/documents/{doc['id']}/file"), 10)
            assert r.status_code == 409 and r.json()["error_code"] == "file_not_regular", r.text
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/health/ready")).status_code == 200
    finally:
        with contextlib.suppress(OSError):  # release any reader that did block in open()
            os.close(os.open(root / "doc.txt", os.O_RDWR | os.O_NONBLOCK))


async def test_ingest_of_fifo_is_reported_not_read(client, settings):
    root = settings.ingest_roots[0]
    os.mkfifo(root / "pipe.txt")
    r = await asyncio.wait_for(client.post("/api/v1/documents/ingest", json={"paths": ["pipe.txt"]}), 10)
    assert r.status_code == 200 and [e["error_code"] for e in r.json()["errors"]] == ["not_a_file"]


async def test_liveness_fails_while_the_file_pool_is_starved(client):
    assert (await client.get("/health")).status_code == 200
    release = threading.Event()
    stuck = [fileio.pool().submit(release.wait, 60) for _ in range(fileio.FILE_IO_THREADS)]
    try:
        r = await client.get("/health")
        assert r.status_code == 503 and r.json()["error_code"] == "file_io_starved"
    finally:
        release.set()
    for f in stuck:
        await asyncio.wrap_future(f)
    assert (await client.get("/health")).status_code == 200


# ---- 5. ingest is bounded, de-duplicated and stops when the client leaves -------------------------------

async def test_ingest_same_folder_and_file_many_times_is_done_once(client, settings, mongo_db):
    root = settings.ingest_roots[0]
    (root / "f").mkdir()
    for i in range(5):
        (root / f"f/{i}.txt").write_bytes(f"file {i}".encode())
    r = await client.post("/api/v1/documents/ingest",
                          json={"paths": ["f"] * 100 + [str(root / "f")] * 10 + ["f/0.txt"] * 200})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 5 and not any(x["duplicate"] for x in results)
    assert await mongo_db.documents.count_documents({}) == 5


async def test_ingest_bytes_are_capped_per_request(make_settings, make_client, mongo_db):
    settings = make_settings(MYDOCS_MAX_INGEST_BYTES=str(4 * MIB))
    root = settings.ingest_roots[0]
    (root / "small.txt").write_bytes(b"small")
    with (root / "sparse.bin").open("wb") as f:  # 256 MiB apparent size, no blocks on disk
        f.truncate(256 * MIB)
    async with make_client(settings) as c:
        r = await c.post("/api/v1/documents/ingest", json={"paths": ["small.txt", "sparse.bin"]})
        assert r.status_code == 413, r.text
        assert r.json()["error_code"] == "ingest_too_large"
        assert await mongo_db.documents.count_documents({}) == 0
        assert managed_files(settings) == []
        assert (await c.post("/api/v1/documents/ingest", json={"paths": ["small.txt"]})).status_code == 200


async def test_ingest_stops_when_the_client_leaves(client, settings, mongo_db):
    root = settings.ingest_roots[0]
    (root / "many").mkdir()
    for i in range(60):
        (root / f"many/{i:03}.txt").write_bytes(os.urandom(2048))
    body = json.dumps({"paths": ["many"]}).encode()
    sent = await call_asgi(client.app, "POST", "/api/v1/documents/ingest",
                           [{"type": "http.request", "body": body, "more_body": False}],
                           headers=[(b"content-type", b"application/json")])
    await asyncio.sleep(0.5)  # anything still running would go on here
    count = await mongo_db.documents.count_documents({})
    assert count < 60, "the ingest went on after the client left"
    assert sent and sent[0]["status"] == 400
    # what was stored is whole: each record has its file and sidecar, no file without both
    assert len(managed_files(settings)) == 2 * count


async def poll_job(c, job_id: str) -> dict:
    for _ in range(600):
        job = (await c.get(f"/api/v1/sync/jobs/{job_id}")).json()
        if job["status"] not in ("queued", "running"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end: {job}")


async def test_background_ingest_job_and_its_cancellation(client, settings, mongo_db):
    root = settings.ingest_roots[0]
    (root / "few").mkdir()
    for i in range(3):
        (root / f"few/{i}.txt").write_bytes(f"few {i}".encode())
    r = await client.post("/api/v1/documents/ingest", json={"paths": ["few", "few"], "background": True})
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/api/v1/sync/jobs/{r.json()['job_id']}"
    job = await poll_job(client, r.json()["job_id"])
    assert job["kind"] == "ingest" and job["status"] == "succeeded", job
    assert job["report"]["results_count"] == 3 and job["progress"] == {"done": 3, "total": 3}
    # refused paths are refused at once, not in a job
    r = await client.post("/api/v1/documents/ingest", json={"paths": ["/etc"], "background": True})
    assert r.status_code == 403 and r.json()["error_code"] == "path_outside_ingest_roots"

    (root / "many").mkdir()
    for i in range(400):
        (root / f"many/{i:03}.txt").write_bytes(os.urandom(1024))
    r = await client.post("/api/v1/documents/ingest", json={"paths": ["many"], "background": True})
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    r = await client.post(f"/api/v1/sync/jobs/{job_id}/cancel")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "failed" and r.json()["error"] == "cancelled by request"
    count = await mongo_db.documents.count_documents({"name": {"$regex": r"^\d{3}\.txt$"}})
    await asyncio.sleep(0.3)
    assert count == await mongo_db.documents.count_documents({"name": {"$regex": r"^\d{3}\.txt$"}}) < 400
    assert len(managed_files(settings)) == 2 * (count + 3)  # whole documents only: file and sidecar each
    r = await client.post(f"/api/v1/sync/jobs/{job_id}/cancel")
    assert r.status_code == 409 and r.json()["error_code"] == "job_finished"


# ---- 6 + 7. database down: fast 503 with Retry-After, nothing left behind, recovery without restart ---------

async def test_database_down_is_503_and_leaves_no_file(make_settings, make_client, tmp_path):
    server = FerretDBServer(tmp_path / "fdb")
    server.start()
    try:
        settings = make_settings(MONGO_URL=server.url)
        async with make_client(settings) as c:
            doc = (await upload(c, ("kept.txt", b"before the outage"))).json()["results"][0]["document"]
            server.stop()
            for method, path in [("GET", "/api/v1/documents"), ("GET", f"/api/v1/documents/{doc['id']}"),
                                 ("GET", f"/api/v1/documents/{doc['id']}/file"),
                                 ("DELETE", f"/api/v1/documents/{doc['id']}")]:
                r = await c.request(method, path)
                assert r.status_code == 503, (path, r.text)
                assert r.json()["error_code"] == "database_unavailable" and r.headers["retry-after"] == "5"
            r = await upload(c, ("lost.txt", b"written while the database is down"))
            assert r.status_code == 503 and r.json()["error_code"] == "database_unavailable"
            assert sorted(p.name for p in managed_files(settings)) == sorted([f"{doc['id']}.metadata.json",
                                                                              "kept.txt"])
            server.start()  # same port: the driver reconnects by itself
            r = await c.get(f"/api/v1/documents/{doc['id']}")
            assert r.status_code == 200, r.text
    finally:
        server.stop()


async def test_stale_temp_files_are_swept_at_start(make_settings, make_client):
    settings = make_settings()
    folder = settings.managed_root / "ab" / ("ab" + "0" * 30)
    folder.mkdir(parents=True)
    stale, fresh = folder / ".tmp-dead.part", folder / ".tmp-live.part"
    stale.write_bytes(b"half an upload from a crashed process")
    fresh.write_bytes(b"an upload in progress elsewhere")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    async with make_client(settings):
        assert not stale.exists() and fresh.exists()


async def test_sync_plan_reports_files_without_sidecar(api):
    doc = (await upload(api, ("ok.txt", b"indexed"))).json()["results"][0]["document"]
    storage = await api.app.state.ctx.storage()
    orphan_id = "cd" + "1" * 30
    await storage.write_bytes(f"cd/{orphan_id}/orphan.pdf", b"no sidecar, no record")
    plan = (await api.post("/api/v1/sync/plan", json={"backend": api.backend})).json()
    assert plan["orphan_files_count"] == 1
    assert plan["orphan_files"] == [{"key": f"cd/{orphan_id}/orphan.pdf", "id": orphan_id, "size": 21,
                                     "reason": "no_sidecar"}]
    assert plan["unchanged"] == 1 and doc["id"] not in json.dumps(plan["orphan_files"])


# ---- 8 + 9. storage full / read-only / vanished ----------------------------------------------------------

@contextlib.contextmanager
def mounted_tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if r.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs here (the test runs as root, as .ci/run does): {r.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


async def test_disk_full_is_507_and_leaves_nothing(make_settings, make_client, mongo_db):
    settings = make_settings()
    with mounted_tmpfs(settings.managed_root, "1m"):
        async with make_client(settings) as c:
            r = await upload(c, ("fits.txt", b"small"), ("too-big.bin", Payload(3 * MIB, seed=4)))
            assert r.status_code == 507, r.text
            assert r.json()["error_code"] == "storage_full" and "full" in r.json()["detail"]
            assert managed_files(settings) == []
            assert await mongo_db.documents.count_documents({}) == 0


async def test_read_only_storage_is_503(make_settings, make_client, mongo_db):
    settings = make_settings()
    with mounted_tmpfs(settings.managed_root, "4m"):
        async with make_client(settings) as c:
            subprocess.run(["mount", "-o", "remount,ro", str(settings.managed_root)], check=True)
            r = await upload(c, ("ro.txt", b"nowhere to go"))
            assert r.status_code == 503, r.text
            assert r.json()["error_code"] == "storage_unavailable" and r.headers["retry-after"]
            assert managed_files(settings) == [] and await mongo_db.documents.count_documents({}) == 0


async def test_vanished_storage_root_refuses_writes_and_is_not_recreated(make_settings, make_client):
    settings = make_settings()
    async with make_client(settings) as c:
        assert (await c.get("/health/ready")).status_code == 200
        shutil.rmtree(settings.managed_root)  # the volume came unmounted
        r = await upload(c, ("lost.txt", b"would land on the wrong disk"))
        assert r.status_code == 503 and r.json()["error_code"] == "storage_unavailable", r.text
        assert not settings.managed_root.exists()
        assert (await c.get("/health/ready")).status_code == 503
        settings.managed_root.mkdir()  # mounted again
        assert (await upload(c, ("ok.txt", b"back"))).status_code == 201


# ---- 10. the small ones -----------------------------------------------------------------------------------

async def test_range_with_thousands_of_digits_is_ignored(client):
    doc = (await upload(client, ("r.bin", b"0123456789"))).json()["results"][0]["document"]
    for header in ("bytes=" + "9" * 5000 + "-", "bytes=0-" + "1" * 5000, "bytes=-" + "7" * 5000):
        r = await client.get(f"/api/v1/documents/{doc['id']}/file", headers={"Range": header})
        assert r.status_code == 200 and r.content == b"0123456789", r.text


async def test_ingest_unusable_path_is_422(client):
    r = await client.post("/api/v1/documents/ingest", json={"paths": ["x" * 300 + ".txt"]})
    assert r.status_code == 422 and r.json()["error_code"] == "invalid_path", r.text
    r = await client.post("/api/v1/documents/ingest", json={"paths": ["/".join(["d" * 250] * 16)]})
    assert r.status_code == 200 and r.json()["errors"][0]["error_code"] == "not_found", r.text


async def test_stalled_upload_body_times_out_and_leaves_nothing(make_settings, make_client, mongo_db):
    settings = make_settings(MYDOCS_BODY_IDLE_TIMEOUT_SECONDS="0.5")
    body = MultipartBody([("file", "files", "slow.bin", "application/octet-stream", Payload(4 * MIB).chunks())])
    chunks = [c async for c in body.stream()][:3]
    async with make_client(settings) as c:
        sent = await asyncio.wait_for(call_asgi(
            c.app, "POST", "/api/v1/documents/upload",
            [{"type": "http.request", "body": ch, "more_body": True} for ch in chunks],
            headers=[(b"content-type", body.content_type.encode())], after=lambda: asyncio.sleep(3600)), 30)
    assert sent[0]["status"] == 408
    assert json.loads(sent[1]["body"])["error_code"] == "body_timeout"
    assert managed_files(settings) == [] and await mongo_db.documents.count_documents({}) == 0


async def test_head_etag_304_and_if_range(client):
    data = bytes(range(256)) * 4
    doc = (await upload(client, ("h.bin", data))).json()["results"][0]["document"]
    url = f"/api/v1/documents/{doc['id']}/file"
    etag = f"\"{doc['sha256']}\""
    r = await client.head(url)
    assert r.status_code == 200 and r.content == b"" and r.headers["content-length"] == str(len(data))
    assert r.headers["etag"] == etag and r.headers["content-security-policy"].startswith("sandbox")
    assert (await client.head(f"/api/v1/documents/{doc['id']}")).status_code == 200
    assert (await client.head("/api/v1/documents")).status_code == 200
    for inm in (etag, f"W/{etag}", f"\"other\", {etag}", "*"):
        r = await client.get(url, headers={"If-None-Match": inm})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag, inm
    assert (await client.get(url, headers={"If-None-Match": "\"other\""})).status_code == 200
    r = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": "\"stale\""})
    assert r.status_code == 200 and r.content == data
    r = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert r.status_code == 200 and r.content == data
    r = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert r.status_code == 206 and r.content == data[:10]


async def test_folder_symlink_outside_roots_is_reported(client, settings, tmp_path):
    root = settings.ingest_roots[0]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    (root / "tree").mkdir()
    (root / "tree/ok.txt").write_bytes(b"ok")
    (root / "tree/escape").symlink_to(outside, target_is_directory=True)
    body = (await client.post("/api/v1/documents/ingest", json={"paths": ["tree"]})).json()
    assert [x["document"]["name"] for x in body["results"]] == ["ok.txt"]
    assert body["errors"] == [{"path": str(root / "tree/escape"), "error_code": "outside_ingest_roots",
                               "detail": "symbolic link to a folder outside the ingest roots (not followed)"}]


async def test_tags_lose_bidi_and_zero_width_characters(client):
    r = await upload(client, ("t.txt", b"t"), tags="in\u202evoice,\u200bsecret\u200d,plain")
    assert r.json()["results"][0]["document"]["tags"] == ["invoice", "secret", "plain"]
    doc = r.json()["results"][0]["document"]
    r = await client.put(f"/api/v1/documents/{doc['id']}/tags", json={"tags": ["a\u2066b\u2069", "\ufeff"]})
    assert r.status_code == 200 and r.json()["tags"] == ["ab"]


@pytest.mark.parametrize("raw,expected", [("NUL.tar.gz", "_NUL.tar.gz"), ("CONOUT$.txt", "_CONOUT$.txt"),
                                          ("conin$", "_conin$"), ("com0.log", "_com0.log"),
                                          ("LPT\u00b9.txt", "_LPT\u00b9.txt"), ("aux .txt", "_aux .txt"),
                                          ("console.txt", "console.txt"), ("nullable.txt", "nullable.txt")])
async def test_windows_device_names(client, raw, expected):
    r = await upload(client, (raw, raw.encode()))
    assert r.json()["results"][0]["document"]["name"] == expected
