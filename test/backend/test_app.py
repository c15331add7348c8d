"""Health, readiness against dependencies that really go down, info, JSON errors, auth mounting."""

from __future__ import annotations

import pytest

from conftest import AzuriteServer, FerretDBServer, free_port


async def test_health_needs_nothing(make_settings, make_client):
    # a database and a blob endpoint where nothing listens: liveness still answers
    dead = f"mongodb://127.0.0.1:{free_port()}"
    settings = make_settings(MONGO_URL=dead, MYDOCS_STORAGE_BACKEND="azure_blob",
                             AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=x;"
                             f"AccountKey=eA==;BlobEndpoint=http://127.0.0.1:{free_port()}/x;")
    async with make_client(settings) as c:
        r = await c.get("/health")
        assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_ready_ok(client):
    r = await client.get("/health/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {"mongo": "ok", "storage": "ok"}}


async def test_ready_503_when_ferretdb_goes_down(make_settings, make_client, tmp_path):
    server = FerretDBServer(tmp_path / "fdb")
    server.start()
    try:
        settings = make_settings(MONGO_URL=server.url)
        async with make_client(settings) as c:
            assert (await c.get("/health/ready")).status_code == 200
            server.stop()
            r = await c.get("/health/ready")
            assert r.status_code == 503
            body = r.json()
            assert body["error_code"] == "not_ready" and body["checks"]["mongo"] != "ok"
            assert body["checks"]["storage"] == "ok" and "mongo" in body["detail"]
            assert (await c.get("/health")).status_code == 200
    finally:
        server.stop()


async def test_ready_503_when_azurite_goes_down_and_recovers(make_settings, make_client, tmp_path):
    server = AzuriteServer(tmp_path / "azurite")
    server.start()
    try:
        settings = make_settings(MYDOCS_STORAGE_BACKEND="azure_blob",
                                 AZURE_STORAGE_CONNECTION_STRING=server.connection_string)
        async with make_client(settings) as c:
            assert (await c.get("/health/ready")).status_code == 200
            server.stop()
            r = await c.get("/health/ready")
            assert r.status_code == 503
            assert r.json()["checks"] == {"mongo": "ok", "storage": r.json()["checks"]["storage"]}
            assert r.json()["checks"]["storage"] != "ok"
            # an API call that needs storage is a 503 with the JSON shape, not a 500
            up = await c.post("/api/v1/documents/upload", files={"files": ("a.txt", b"a")})
            assert up.status_code == 503 and up.json()["error_code"] == "storage_unavailable"
    finally:
        server.stop()


async def test_ready_503_when_storage_down_at_start(make_settings, make_client):
    settings = make_settings(MYDOCS_STORAGE_BACKEND="azure_blob",
                             AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=x;"
                             f"AccountKey=eA==;BlobEndpoint=http://127.0.0.1:{free_port()}/x;")
    async with make_client(settings) as c:  # start-up does not fail: readiness reports it
        r = await c.get("/health/ready")
        assert r.status_code == 503 and r.json()["checks"]["storage"] != "ok"


async def test_container_created_when_missing(make_settings, make_client, azurite, container_name):
    from azure.storage.blob.aio import BlobServiceClient

    settings = make_settings(MYDOCS_STORAGE_BACKEND="azure_blob")
    async with make_client(settings) as c:
        assert (await c.get("/health/ready")).status_code == 200
    async with BlobServiceClient.from_connection_string(azurite.connection_string) as svc:
        assert (await svc.get_container_client(container_name).exists())


async def test_info(make_settings, make_client):
    settings = make_settings(MYDOCS_STORAGE_BACKEND="azure_blob", MYDOCS_MAX_UPLOAD_BYTES="1000")
    async with make_client(settings) as c:
        r = await c.get("/api/v1/info")
        assert r.status_code == 200
        body = r.json()
        assert body["auth_enabled"] is False and body["storage_backend"] == "azure_blob"
        assert body["max_upload_bytes"] == 1000 and isinstance(body["version"], str)


async def test_upload_limit_is_a_setting(make_settings, make_client):
    async with make_client(make_settings(MYDOCS_MAX_UPLOAD_BYTES="10")) as c:
        ok = await c.post("/api/v1/documents/upload", files={"files": ("a.txt", b"0123456789")})
        assert ok.status_code == 201
        big = await c.post("/api/v1/documents/upload", files={"files": ("b.txt", b"0123456789A")})
        assert big.status_code == 413 and big.json()["error_code"] == "file_too_large"


@pytest.mark.parametrize("method,path,status,code", [
    ("GET", "/nope", 404, "not_found"),
    ("GET", "/api/v1/nope", 404, "not_found"),
    ("DELETE", "/health", 405, "method_not_allowed"),
    ("PATCH", "/api/v1/documents", 405, "method_not_allowed"),
    ("GET", "/api/v1/documents?page=-1", 422, "validation_error"),
])
async def test_errors_are_json(client, method, path, status, code):
    r = await client.request(method, path)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["error_code"] == code and isinstance(body["detail"], str) and body["detail"]


async def test_auth_on_protects_api_not_health(make_settings, make_client):
    settings = make_settings(ENTRA_TENANT_ID="11111111-2222-3333-4444-555555555555",
                             ENTRA_CLIENT_ID="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
    async with make_client(settings) as c:
        assert (await c.get("/health")).status_code == 200
        for method, path in [("GET", "/api/v1/info"), ("GET", "/api/v1/documents"),
                             ("POST", "/api/v1/documents/upload"), ("GET", f"/api/v1/documents/{'a' * 32}/file"),
                             ("DELETE", f"/api/v1/documents/{'a' * 32}")]:
            r = await c.request(method, path)
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["error_code"] and "Bearer" in r.headers["www-authenticate"]
        r = await c.get("/api/v1/info", headers={"Authorization": "Bearer not.a.jwt"})
        assert r.status_code == 401


async def test_json_bodies_are_bounded(client):
    big = {"paths": ["x" * 1000] * 1100}  # > 1 MiB of JSON
    r = await client.post("/api/v1/documents/ingest", json=big)
    assert r.status_code == 413 and r.json()["error_code"] == "payload_too_large"

    async def chunked():
        yield b'{"tags": ["'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"]}'

    r = await client.put(f"/api/v1/documents/{'a' * 32}/tags", content=chunked(),
                         headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error_code"] == "payload_too_large"


async def test_operation_ids_are_stable(client):
    spec = (await client.get("/api/openapi.json")).json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"list_documents", "upload_documents", "ingest_documents", "get_document", "download_document",
            "put_tags", "delete_document", "health", "ready", "info"} <= ids
