"""/api/v1/documents against the real app, FerretDB and both storage backends."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

import pytest
from azure.storage.blob.aio import BlobServiceClient

from bodies import MIB, Payload, upload
from mydocs.sidecar import Sidecar

LIMIT = 100 * MIB


async def stored_keys(api) -> list[str]:
    """Every object in the backend of `api` (files, sidecars, anything left behind)."""
    if api.backend == "local":
        root = api.settings.managed_root
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    async with BlobServiceClient.from_connection_string(api.settings.AZURE_STORAGE_CONNECTION_STRING) as svc:
        container = svc.get_container_client(api.settings.AZURE_STORAGE_CONTAINER_NAME)
        return sorted([b.name async for b in container.list_blobs()])


async def download_sha(api, doc_id: str, headers: dict | None = None) -> tuple[int, str, object]:
    digest = hashlib.sha256()
    size = 0
    async with api.stream("GET", f"/api/v1/documents/{doc_id}/file", headers=headers or {}) as r:
        async for chunk in r.aiter_bytes():
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest(), r


@pytest.mark.parametrize("size", [0, 1, 1234, 3 * MIB + 5])
async def test_round_trip_small(api, size):
    data = os.urandom(size)
    r = await upload(api, ("report.pdf", data), content_type="application/pdf")
    assert r.status_code == 201, r.text
    (res,) = r.json()["results"]
    doc = res["document"]
    assert res["filename"] == "report.pdf" and res["duplicate"] is False
    assert doc["size"] == size and doc["sha256"] == hashlib.sha256(data).hexdigest()
    assert doc["storage_mode"] == "managed" and doc["storage_backend"] == api.backend
    assert doc["content_type"] == "application/pdf"
    got = await api.get(f"/api/v1/documents/{doc['id']}/file")
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"].startswith("application/pdf")
    assert got.headers["content-disposition"] == "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    # file first, then its sidecar: both are in the backend, at the contract's keys
    keys = await stored_keys(api)
    assert keys == sorted([f"{doc['id'][:2]}/{doc['id']}/report.pdf", f"{doc['id'][:2]}/{doc['id']}.metadata.json"])


async def test_round_trip_exactly_limit(api):
    payload = Payload(LIMIT, seed=1)
    r = await upload(api, ("big.bin", payload))
    assert r.status_code == 201, r.text
    doc = r.json()["results"][0]["document"]
    assert (doc["size"], doc["sha256"]) == (LIMIT, payload.sha256)
    size, sha, resp = await download_sha(api, doc["id"])
    assert resp.status_code == 200 and (size, sha) == (LIMIT, payload.sha256)


async def test_limit_plus_one_is_413_and_nothing_is_left(api, mongo_db):
    r = await upload(api, ("small-first.txt", b"kept only if the request succeeds"),
                     ("too-big.bin", Payload(LIMIT + 1, seed=2)))
    assert r.status_code == 413, r.text
    assert r.json()["error_code"] == "file_too_large"
    assert await mongo_db.documents.count_documents({}) == 0
    assert await stored_keys(api) == []  # no file, no sidecar, no temp file
    if api.backend == "local":
        leftovers = [p for p in api.settings.managed_root.rglob("*")] if api.settings.managed_root.exists() else []
        assert leftovers == []


async def test_duplicate_content_returns_existing(api, mongo_db):
    first = (await upload(api, ("a.txt", b"same bytes"))).json()["results"][0]
    second = (await upload(api, ("b.txt", b"same bytes"))).json()["results"][0]
    assert second["duplicate"] is True
    assert second["document"]["id"] == first["document"]["id"]
    assert second["filename"] == "b.txt"
    assert await mongo_db.documents.count_documents({}) == 1
    assert len(await stored_keys(api)) == 2  # one file + one sidecar


async def test_concurrent_uploads(api, mongo_db):
    payloads = [os.urandom(300_000 + i) for i in range(6)]
    rs = await asyncio.gather(*(upload(api, (f"f{i}.bin", p)) for i, p in enumerate(payloads)),
                              *(upload(api, ("same.bin", b"identical")) for _ in range(4)))
    assert all(r.status_code == 201 for r in rs), [r.text for r in rs]
    docs = [r.json()["results"][0] for r in rs]
    assert len({d["document"]["id"] for d in docs[:6]}) == 6
    same = docs[6:]
    assert len({d["document"]["id"] for d in same}) == 1
    assert sum(not d["duplicate"] for d in same) == 1
    assert await mongo_db.documents.count_documents({}) == 7
    for d, p in zip(docs[:6], payloads):
        assert (await api.get(f"/api/v1/documents/{d['document']['id']}/file")).content == p
    assert len(await stored_keys(api)) == 14


HOSTILE = {
    "../../etc/passwd": "passwd",
    "..\\..\\windows\\system32\\cmd.exe": "cmd.exe",
    "/absolute/path.txt": "path.txt",
    "..": "file",
    ".": "file",
    "": "file",
    "nul\x00byte.txt": "nul_byte.txt",
    "tab\tand\nnewline.txt": "tab_and_newline.txt",
    ".hidden": "hidden",
    "\u202eexe.pdf": "exe.pdf",
    "con.txt": "_con.txt",
    "ok name (1).pdf": "ok name (1).pdf",
}


@pytest.mark.parametrize("raw,expected", list(HOSTILE.items()))
async def test_hostile_file_names(api, raw, expected):
    data = f"content for {raw!r}".encode()
    r = await upload(api, (raw, data))
    assert r.status_code == 201, r.text
    doc = r.json()["results"][0]["document"]
    assert doc["name"] == expected
    keys = await stored_keys(api)
    assert f"{doc['id'][:2]}/{doc['id']}/{expected}" in keys
    if api.backend == "local":
        for p in api.settings.DATA_FOLDER.parent.rglob("*"):
            assert api.settings.DATA_FOLDER in p.parents or p == api.settings.DATA_FOLDER or p.parent == \
                api.settings.DATA_FOLDER.parent, p
    assert (await api.get(f"/api/v1/documents/{doc['id']}/file")).content == data


async def test_overlong_name_is_shortened_keeping_extension(api):
    r = await upload(api, ("é" * 300 + ".pdf", b"long"))
    name = r.json()["results"][0]["document"]["name"]
    assert name.endswith(".pdf") and len(name.encode()) <= 200


async def test_unicode_name_content_disposition(api):
    r = await upload(api, ("Bericht über Ärger €.pdf", b"x"))
    doc = r.json()["results"][0]["document"]
    got = await api.get(f"/api/v1/documents/{doc['id']}/file")
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"Bericht _ber _rger _.pdf\"; "
        "filename*=UTF-8''Bericht%20%C3%BCber%20%C3%84rger%20%E2%82%AC.pdf")


async def test_tags_field_before_or_after_files(api):
    r1 = await upload(api, ("a.txt", b"one"), tags="alpha, beta,alpha")
    assert r1.json()["results"][0]["document"]["tags"] == ["alpha", "beta"]
    r2 = await upload(api, ("b.txt", b"two"), tags="gamma", tags_after=True)
    assert r2.json()["results"][0]["document"]["tags"] == ["gamma"]


async def test_upload_errors(client):
    r = await client.post("/api/v1/documents/upload", json={"files": []})
    assert r.status_code == 415 and r.json()["error_code"] == "invalid_multipart"
    r = await client.post("/api/v1/documents/upload", content=b"--x\r\ngarbage",
                          headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400 and r.json()["error_code"] == "invalid_multipart"
    r = await client.post("/api/v1/documents/upload", files={"other": ("a.txt", b"x")})
    assert r.status_code == 422 and r.json()["error_code"] == "no_files"


# ---- list / get / tags / delete ------------------------------------------------------------------------

async def test_list_search_tags_sort_pagination(client):
    names = ["alpha.txt", "beta.pdf", "gamma (copy).txt", "a.b.txt", "Alphabet.md"]
    ids = {}
    for i, n in enumerate(names):
        r = await upload(client, (n, f"doc {i}".encode() * (i + 1)), tags="even" if i % 2 == 0 else "odd")
        ids[n] = r.json()["results"][0]["document"]["id"]
    page = (await client.get("/api/v1/documents", params={"page_size": 2, "sort": "name", "order": "asc"})).json()
    assert page["total"] == 5 and page["page"] == 1 and page["page_size"] == 2
    assert [d["name"] for d in page["items"]] == ["Alphabet.md", "a.b.txt"]  # byte order: upper case first
    page3 = (await client.get("/api/v1/documents", params={"page_size": 2, "page": 3, "sort": "name"})).json()
    assert len(page3["items"]) == 1
    alpha = (await client.get("/api/v1/documents", params={"q": "ALPHA"})).json()
    assert {d["name"] for d in alpha["items"]} == {"alpha.txt", "Alphabet.md"}
    # regex metacharacters are literal: "." matches only a dot, "(" does not break the query
    dot = (await client.get("/api/v1/documents", params={"q": "a.b"})).json()
    assert [d["name"] for d in dot["items"]] == ["a.b.txt"]
    paren = (await client.get("/api/v1/documents", params={"q": "(copy"})).json()
    assert [d["name"] for d in paren["items"]] == ["gamma (copy).txt"]
    star = (await client.get("/api/v1/documents", params={"q": ".*"})).json()
    assert star["total"] == 0
    odd = (await client.get("/api/v1/documents", params={"tag": "odd"})).json()
    assert {d["name"] for d in odd["items"]} == {"beta.pdf", "a.b.txt"}
    by_size = (await client.get("/api/v1/documents", params={"sort": "size", "order": "desc"})).json()
    sizes = [d["size"] for d in by_size["items"]]
    assert sizes == sorted(sizes, reverse=True)


@pytest.mark.parametrize("params", [{"sort": "sha256"}, {"sort": "$where"}, {"order": "up"}, {"page": 0},
                                    {"page_size": 101}, {"page_size": 0}, {"page": "x"}])
async def test_list_bad_query_is_422(client, params):
    r = await client.get("/api/v1/documents", params=params)
    assert r.status_code == 422
    body = r.json()
    assert body["error_code"] == "validation_error" and isinstance(body["detail"], str)


async def test_get_and_404s(client):
    doc = (await upload(client, ("x.txt", b"x"))).json()["results"][0]["document"]
    got = (await client.get(f"/api/v1/documents/{doc['id']}")).json()
    assert got == doc
    assert set(got) == {"id", "name", "size", "sha256", "content_type", "tags", "storage_mode", "storage_backend",
                        "created_at", "updated_at"}
    for path in [f"/api/v1/documents/{'0' * 32}", "/api/v1/documents/not-an-id", f"/api/v1/documents/{'0' * 32}/file"]:
        r = await client.get(path)
        assert r.status_code == 404 and r.json()["error_code"] == "document_not_found"
    r = await client.put(f"/api/v1/documents/{'0' * 32}/tags", json={"tags": ["a"]})
    assert r.status_code == 404 and r.json()["error_code"] == "document_not_found"


async def test_put_tags_updates_sidecar(api):
    doc = (await upload(api, ("t.txt", b"tagged"))).json()["results"][0]["document"]
    r = await api.put(f"/api/v1/documents/{doc['id']}/tags", json={"tags": ["x", " y ", "x"]})
    assert r.status_code == 200, r.text
    assert r.json()["tags"] == ["x", "y"]
    assert r.json()["updated_at"] >= doc["updated_at"] and r.json()["created_at"] == doc["created_at"]
    storage = await api.app.state.ctx.storage()
    sidecar = Sidecar.from_json_bytes(await storage.read_bytes(f"{doc['id'][:2]}/{doc['id']}.metadata.json"))
    assert sidecar.tags == ["x", "y"] and sidecar.sha256 == doc["sha256"] and sidecar.id == doc["id"]
    listed = (await api.get("/api/v1/documents", params={"tag": "y"})).json()
    assert [d["id"] for d in listed["items"]] == [doc["id"]]
    for bad in [{"tags": ["a,b"]}, {"tags": ["x" * 65]}, {"tags": "notalist"}, {"tags": ["\x00"]}, {}]:
        r = await api.put(f"/api/v1/documents/{doc['id']}/tags", json=bad)
        assert r.status_code == 422, bad
        assert r.json()["error_code"] == "validation_error"


async def test_delete_removes_file_sidecar_record(api, mongo_db):
    doc = (await upload(api, ("d.txt", b"to delete"))).json()["results"][0]["document"]
    assert len(await stored_keys(api)) == 2
    r = await api.delete(f"/api/v1/documents/{doc['id']}")
    assert r.status_code == 204
    assert await stored_keys(api) == []
    assert await mongo_db.documents.count_documents({}) == 0
    r = await api.delete(f"/api/v1/documents/{doc['id']}")
    assert r.status_code == 404 and r.json()["error_code"] == "document_not_found"
    # the content can be uploaded again afterwards
    again = await upload(api, ("d.txt", b"to delete"))
    assert again.json()["results"][0]["duplicate"] is False


# ---- Range ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header,status,expected", [
    ("bytes=0-9", 206, (0, 9)),
    ("bytes=10-", 206, (10, 999)),
    ("bytes=-5", 206, (995, 999)),
    ("bytes=990-5000", 206, (990, 999)),
    ("bytes=999-999", 206, (999, 999)),
    ("bytes=-2000", 206, (0, 999)),
    ("bytes=1000-", 416, None),
    ("bytes=5000-6000", 416, None),
    ("bytes=0-1,5-6", 200, None),
    ("items=0-5", 200, None),
    ("bytes=9-3", 200, None),
])
async def test_range_requests(api, header, status, expected):
    data = os.urandom(1000)
    doc = (await upload(api, ("r.bin", data))).json()["results"][0]["document"]
    r = await api.get(f"/api/v1/documents/{doc['id']}/file", headers={"Range": header})
    assert r.status_code == status, r.text
    assert r.headers.get("accept-ranges") == "bytes" or status == 416
    if status == 206:
        s, e = expected
        assert r.content == data[s:e + 1]
        assert r.headers["content-range"] == f"bytes {s}-{e}/1000"
        assert r.headers["content-length"] == str(e - s + 1)
    elif status == 416:
        assert r.headers["content-range"] == "bytes */1000"
        assert r.json()["error_code"] == "range_not_satisfiable"
    else:
        assert r.content == data


# ---- ingest --------------------------------------------------------------------------------------------

@pytest.fixture
def ingest_tree(data_folder: Path) -> Path:
    root = data_folder / "ingest"
    (root / "folder/sub").mkdir(parents=True)
    (root / "folder/a.txt").write_bytes(b"alpha")
    (root / "folder/sub/b.pdf").write_bytes(b"%PDF-1.4 beta")
    (root / "single.md").write_bytes(b"# single")
    return root


async def test_ingest_managed_recursive(api, ingest_tree, mongo_db):
    r = await api.post("/api/v1/documents/ingest", json={"paths": [str(ingest_tree / "folder"), "single.md"],
                                                         "storage_mode": "managed", "tags": ["batch"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["errors"] == []
    names = sorted(x["document"]["name"] for x in body["results"])
    assert names == ["a.txt", "b.pdf", "single.md"]
    for x in body["results"]:
        d = x["document"]
        assert d["storage_mode"] == "managed" and d["tags"] == ["batch"] and d["storage_backend"] == api.backend
        original = Path(x["path"]).read_bytes()
        assert (await api.get(f"/api/v1/documents/{d['id']}/file")).content == original
    assert (ingest_tree / "folder/a.txt").exists()  # managed mode copies; the source stays
    assert await mongo_db.documents.count_documents({"source": "ingest"}) == 3


async def test_ingest_external_keeps_file_and_writes_sidecar_beside_it(api, ingest_tree):
    r = await api.post("/api/v1/documents/ingest", json={"paths": ["folder"], "storage_mode": "external"})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 2
    for x in results:
        d = x["document"]
        assert d["storage_mode"] == "external"
        path = Path(x["path"])
        sidecar = Sidecar.from_json_bytes((path.parent / f"{d['id']}.metadata.json").read_bytes())
        assert sidecar.file_key == str(path.resolve()) and sidecar.sha256 == d["sha256"]
        assert (await api.get(f"/api/v1/documents/{d['id']}/file")).content == path.read_bytes()
    assert await stored_keys(api) == []  # nothing copied into the backend
    # ingesting the same folder again: duplicates, and the sidecars themselves are never ingested
    again = (await api.post("/api/v1/documents/ingest", json={"paths": ["folder"],
                                                              "storage_mode": "external"})).json()
    assert [x["duplicate"] for x in again["results"]] == [True, True]
    # delete keeps the user's original file, removes sidecar and record
    d = results[0]["document"]
    path = Path(results[0]["path"])
    assert (await api.delete(f"/api/v1/documents/{d['id']}")).status_code == 204
    assert path.exists() and not (path.parent / f"{d['id']}.metadata.json").exists()


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc", "../../../etc/passwd", "..", "/", "folder/../../..",
                                  "link-out", "link-out/secret.txt"])
async def test_ingest_outside_roots_is_403(client, ingest_tree, tmp_path, path, mongo_db):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    (ingest_tree / "link-out").symlink_to(outside)
    r = await client.post("/api/v1/documents/ingest", json={"paths": ["single.md", path]})
    assert r.status_code == 403, r.text
    assert r.json()["error_code"] == "path_outside_ingest_roots"
    assert await mongo_db.documents.count_documents({}) == 0  # all paths are checked before any work


async def test_ingest_symlink_inside_folder_is_reported_not_followed(client, ingest_tree, tmp_path):
    outside = tmp_path / "outside2"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    (ingest_tree / "folder/evil.txt").symlink_to(outside / "secret.txt")
    r = await client.post("/api/v1/documents/ingest", json={"paths": ["folder"]})
    body = r.json()
    assert sorted(x["document"]["name"] for x in body["results"]) == ["a.txt", "b.pdf"]
    assert [e["error_code"] for e in body["errors"]] == ["outside_ingest_roots"]


async def test_ingest_missing_and_bad_bodies(client, ingest_tree):
    r = await client.post("/api/v1/documents/ingest", json={"paths": ["nope.txt"]})
    assert r.status_code == 200 and r.json()["errors"][0]["error_code"] == "not_found"
    for bad in [{"paths": []}, {"paths": ["a"], "storage_mode": "cloud"}, {}, {"paths": "a"},
                {"paths": ["a"], "extra": 1}]:
        r = await client.post("/api/v1/documents/ingest", json=bad)
        assert r.status_code == 422 and r.json()["error_code"] == "validation_error", bad
    r = await client.post("/api/v1/documents/ingest", content=b"{not json",
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error_code"] == "validation_error"


async def test_ingest_roots_setting(make_settings, make_client, tmp_path):
    other = tmp_path / "shared-docs"
    other.mkdir()
    (other / "x.txt").write_bytes(b"x")
    settings = make_settings(MYDOCS_INGEST_ROOTS=str(other))
    async with make_client(settings) as c:
        ok = await c.post("/api/v1/documents/ingest", json={"paths": [str(other / "x.txt")]})
        assert ok.status_code == 200 and len(ok.json()["results"]) == 1
        default_root = settings.DATA_FOLDER / "ingest"
        (default_root / "y.txt").write_bytes(b"y")
        denied = await c.post("/api/v1/documents/ingest", json={"paths": [str(default_root / "y.txt")]})
        assert denied.status_code == 403


async def test_sidecar_is_complete_record(api, mongo_db):
    doc = (await upload(api, ("s.txt", b"sidecar"), tags="k")).json()["results"][0]["document"]
    storage = await api.app.state.ctx.storage()
    raw = json.loads(await storage.read_bytes(f"{doc['id'][:2]}/{doc['id']}.metadata.json"))
    assert raw["schema_version"] == 1
    rec = await mongo_db.documents.find_one({"_id": doc["id"]})
    for k in ["name", "size", "sha256", "content_type", "tags", "storage_mode", "file_key", "source"]:
        assert raw[k] == rec[k], k
    assert "storage_backend" not in raw and rec["storage_backend"] == api.backend


async def test_upload_is_streamed_not_buffered(make_settings, make_client):
    """100 MiB through the app while tracing Python allocations: the peak stays a few MiB (chunks), far from
    the file size. (The benchmark measures the same for the uvicorn process: peak RSS with 4 x 100 MiB.)"""
    import tracemalloc

    async with make_client(make_settings()) as c:
        await upload(c, ("warm.txt", b"warm up imports and connections"))
        payload = Payload(LIMIT, seed=9)
        tracemalloc.start()
        try:
            r = await upload(c, ("streamed.bin", payload))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert r.status_code == 201 and r.json()["results"][0]["document"]["sha256"] == payload.sha256
    assert peak < 16 * MIB, f"peak traced allocations {peak / MIB:.1f} MiB for a {LIMIT // MIB} MiB upload"


async def test_client_disconnect_mid_upload_leaves_nothing(api, mongo_db):
    """The ASGI server reports a vanished client as `http.disconnect`: the half-written file must vanish too."""
    from bodies import MultipartBody

    body = MultipartBody([("file", "files", "cut.bin", "application/octet-stream", Payload(8 * MIB, seed=3).chunks())])
    chunks = [c async for c in body.stream()][:4]  # headers + the first 3 MiB, then the client is gone
    messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    messages.append({"type": "http.disconnect"})
    sent: list[dict] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/v1/documents/upload", "raw_path": b"/api/v1/documents/upload", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"content-type", body.content_type.encode())],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "root_path": "",
             "state": {}, "app": api.app}
    await api.app(scope, receive, send)
    assert await mongo_db.documents.count_documents({}) == 0
    assert await stored_keys(api) == []
    if api.backend == "local":
        assert not api.settings.managed_root.exists() or not any(api.settings.managed_root.rglob("*"))


async def test_external_record_outside_roots_is_not_served(client, ingest_tree, mongo_db, tmp_path):
    """A record whose external path lies outside the ingest roots (e.g. restored from a planted sidecar)."""
    doc = (await client.post("/api/v1/documents/ingest", json={"paths": ["single.md"], "storage_mode": "external"})
           ).json()["results"][0]["document"]
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not for you")
    await mongo_db.documents.update_one({"_id": doc["id"]}, {"$set": {"file_key": str(secret)}})
    r = await client.get(f"/api/v1/documents/{doc['id']}/file")
    assert r.status_code == 403 and r.json()["error_code"] == "path_outside_ingest_roots"
    assert b"not for you" not in r.content


# ---- the finishing steps overlap (file commit | sidecar staged; insert | sidecar commit): failures ----------

async def _wait_for_record(mongo_db, tries: int = 300) -> None:
    for _ in range(tries):
        if await mongo_db.documents.count_documents({}):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the record was never inserted")


async def test_sidecar_failing_while_the_insert_runs_leaves_nothing(api, mongo_db, monkeypatch):
    """The sidecar's commit runs beside the record's insert: when it fails after the insert landed, the
    record, the sidecar and the file are all removed and the client hears the storage error."""
    from mydocs.storage.base import StorageUnavailable

    storage = await api.app.state.ctx.storage()
    original = type(storage).stage_bytes
    seen = {}

    async def stage_bytes(self, key, data, **kwargs):
        staged = await original(self, key, data, **kwargs)

        async def commit():
            await _wait_for_record(mongo_db)  # the insert ran concurrently and landed
            seen["record"] = True
            raise StorageUnavailable("injected: the sidecar could not be committed")

        staged.commit = commit
        return staged

    monkeypatch.setattr(type(storage), "stage_bytes", stage_bytes)
    r = await upload(api, ("doc.pdf", b"%PDF-1.4 whose sidecar fails"))
    assert r.status_code == 503 and r.json()["error_code"] == "storage_unavailable", r.text
    assert seen == {"record": True}
    assert await mongo_db.documents.count_documents({}) == 0
    assert await stored_keys(api) == []  # no file, no sidecar, no temp file
    if api.backend == "local":
        assert not any(api.settings.managed_root.rglob("*"))


async def test_file_commit_failing_while_the_sidecar_is_staged_leaves_nothing(client, settings, mongo_db,
                                                                              monkeypatch):
    """Local: the file's fsync fails (EIO) while the sidecar's temp file is written beside it: 503, no record is
    ever inserted, and neither file nor sidecar temp file stays behind."""
    import errno

    from mydocs.storage import local

    original = local.LocalStagedWrite._commit_sync

    def commit_sync(self):
        if not self.path.name.endswith(".metadata.json"):
            raise OSError(errno.EIO, "injected I/O error")
        return original(self)

    inserts = []
    monkeypatch.setattr(local.LocalStagedWrite, "_commit_sync", commit_sync)
    from pymongo.asynchronous.collection import AsyncCollection

    real_insert = AsyncCollection.insert_one

    async def insert_one(self, *args, **kwargs):
        inserts.append(args)
        return await real_insert(self, *args, **kwargs)

    monkeypatch.setattr(AsyncCollection, "insert_one", insert_one)
    r = await upload(client, ("doc.txt", b"never durable"))
    assert r.status_code == 503 and r.json()["error_code"] == "storage_unavailable", r.text
    assert inserts == [] and await mongo_db.documents.count_documents({}) == 0
    assert not any(settings.managed_root.rglob("*"))


async def test_cancelled_while_finishing_removes_the_record_too(client, settings, mongo_db, monkeypatch):
    """A store cancelled while its insert is in flight (an ingest whose client left) waits for the steps, then
    removes the record that landed, the sidecar and the file."""
    from pymongo.asynchronous.collection import AsyncCollection

    from mydocs.services.documents import DocumentService

    real_insert = AsyncCollection.insert_one
    landed = asyncio.Event()

    async def slow_insert(self, *args, **kwargs):
        result = await real_insert(self, *args, **kwargs)
        landed.set()
        await asyncio.sleep(0.3)  # the answer is slow to come back: the cancellation arrives meanwhile
        return result

    monkeypatch.setattr(AsyncCollection, "insert_one", slow_insert)

    async def chunks():
        yield b"content of a document whose store is cancelled"

    service = DocumentService(client.app.state.ctx)
    task = asyncio.ensure_future(service.store_managed(chunks(), filename="c.txt", declared_type=None, tags=[],
                                                       source="ingest", max_bytes=None))
    await landed.wait()
    assert await mongo_db.documents.count_documents({}) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await mongo_db.documents.count_documents({}) == 0
    assert not any(settings.managed_root.rglob("*"))
