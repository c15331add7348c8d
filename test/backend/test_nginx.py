"""deploy/nginx.conf in front of the real backend: a real nginx (the host's, as the image's) proxying to a real
uvicorn serving the app (FerretDB from conftest). Its own errors are JSON, a 16 KiB token reaches the backend,
headers are not doubled."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import free_port, stop_process, wait_port

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if os.path.exists(p)), None)


def nginx_config(work: Path, backend_port: int, port: int) -> Path:
    site = (ROOT / "deploy/nginx.conf").read_text()
    site = site.replace("server backend:8000;", f"server 127.0.0.1:{backend_port};")
    site = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    site = site.replace("root /usr/share/nginx/html;", f"root {work / 'html'};")
    (work / "html").mkdir()
    (work / "html/index.html").write_text("<!doctype html><title>MyDocs</title>")
    (work / "site.conf").write_text(site)
    main = (ROOT / "deploy/nginx-main.conf").read_text()
    main = main.replace("/tmp/", f"{work}/").replace("/etc/nginx/conf.d/*.conf", str(work / "site.conf"))
    main = main.replace("include /etc/nginx/mime.types;", "")
    main = main.replace("error_log /dev/stderr notice;", f"error_log {work}/error.log notice;")
    main = main.replace("access_log /dev/stdout;", "access_log off;")
    (work / "nginx.conf").write_text(main)
    return work / "nginx.conf"


@pytest.fixture
def stack(settings, tmp_path):
    """(nginx base URL, backend base URL, Settings) with auth on against a real key server."""
    from oidc_provider import OidcProvider

    if NGINX is None:
        pytest.fail("nginx is not installed: apt-get install nginx-light (.ci/run does)")
    with OidcProvider() as idp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "MYDOCS_", "ENTRA_", "AZURE_"))}
        env.update({"MONGO_URL": settings.MONGO_URL, "MONGO_DB_NAME": settings.MONGO_DB_NAME,
                    "DATA_FOLDER": str(settings.DATA_FOLDER), "CONFIG_ROOT": str(settings.CONFIG_ROOT),
                    "ENTRA_TENANT_ID": idp.tenant, "ENTRA_CLIENT_ID": idp.client_id, "ENTRA_ISSUER": idp.issuer})
        backend_port, port = free_port(), free_port()
        log = tmp_path / "uvicorn.log"
        backend = subprocess.Popen([str(Path(sys.executable).parent / "uvicorn"), "mydocs.backend.app:create_app",
                                    "--factory", "--host", "127.0.0.1", "--port", str(backend_port)],
                                   env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        conf = nginx_config(tmp_path, backend_port, port)
        nginx = None
        try:
            wait_port(backend_port, backend, "uvicorn", log)
            nginx = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=(tmp_path / "nginx.out").open("ab"), stdin=subprocess.DEVNULL)
            wait_port(port, nginx, "nginx", tmp_path / "nginx.out")
            yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{backend_port}", idp
        finally:
            stop_process(nginx)
            stop_process(backend)


def raw_request(base: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(data)
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_nginx_errors_are_json_and_tokens_fit(stack):
    base, backend, idp = stack
    with httpx.Client(base_url=base, timeout=30) as c:
        # a 16 KiB token passes nginx and reaches the backend, which answers its own JSON 401
        big = "eyJ" + "a" * (17 * 1024) + ".b.c"
        r = c.get("/api/v1/documents", headers={"Authorization": f"Bearer {big}"})
        assert r.status_code == 401 and r.json()["error_code"] == "invalid_token", r.text
        good = {"Authorization": f"Bearer {idp.token(roles=['MyDocs.Admin'])}"}
        assert c.get("/api/v1/documents", headers=good).status_code == 200

        # a header far past any token: nginx refuses it, as JSON
        r = c.get("/api/v1/documents", headers={"X-Junk": "j" * (40 * 1024)})
        assert r.status_code == 400 and r.json()["error_code"] == "bad_request", r.text

        r = c.get("/api/v1/documents/" + "x" * (40 * 1024))
        assert r.status_code in (400, 414) and "error_code" in r.json(), r.text

        # downloads carry nosniff once, the backend's CSP sandbox as well
        up = c.post("/api/v1/documents/upload", files={"files": ("x.html", b"<b>x</b>", "text/html")}, headers=good)
        assert up.status_code == 201, up.text
        doc = up.json()["results"][0]["document"]
        r = c.get(f"/api/v1/documents/{doc['id']}/file", headers=good)
        assert r.status_code == 200 and r.headers.get_list("x-content-type-options") == ["nosniff"]
        assert r.headers["content-type"] == "application/octet-stream"
        assert any(v.startswith("sandbox") for v in r.headers.get_list("content-security-policy"))
        assert c.get("/health").headers.get_list("x-content-type-options") == ["nosniff"]

    # a body over nginx's limit, declared up front: 413 as JSON before any byte of it is sent
    status, headers, body = raw_request(base, b"POST /api/v1/documents/upload HTTP/1.1\r\nHost: x\r\n"
                                        b"Content-Type: multipart/form-data; boundary=b\r\n"
                                        b"Content-Length: 209715200\r\nConnection: close\r\n\r\n")
    assert status == 413 and headers["content-type"] == "application/json", body
    assert b'"error_code":"payload_too_large"' in body

    # a broken request line
    status, headers, body = raw_request(base, b"GARBAGE\r\n\r\n")
    assert status == 400 and headers["content-type"] == "application/json" and b"bad_request" in body
