"""Backend benchmark (prints figures; not a timed test).

Starts FerretDB and the real backend (uvicorn, local storage backend) on free ports, then measures:
  1. upload throughput (MB/s) for 1 MiB and 100 MiB files, beside a raw disk write (write + fsync) of the same
     bytes in the same run, on the same file system;
  2. the backend's peak RSS (VmHWM) while 4 clients upload 100 MiB each at once (target <= 200 MiB);
  3. GET /health requests per second (16 concurrent keep-alive clients).

Run: bash scripts/setup-python.sh && .venv/bin/python test/bench/backend_bench.py [--quick]
Needs FerretDB (scripts/install-test-services.sh) or MONGO_URL pointing at a MongoDB-wire server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test" / "backend"))
from bodies import MIB, MultipartBody, Payload  # noqa: E402
from conftest import FerretDBServer, free_port, stop_process, wait_port  # noqa: E402


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    """Samples VmRSS every 10 ms (VmHWM gives the exact peak; the samples show the shape)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._halt = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


async def upload_one(client: httpx.AsyncClient, payload: Payload, name: str) -> None:
    body = MultipartBody([("file", "files", name, "application/octet-stream", payload.chunks())])
    r = await client.post("/api/v1/documents/upload", content=body.stream(),
                          headers={"Content-Type": body.content_type})
    if r.status_code != 201:
        raise RuntimeError(f"upload failed: {r.status_code} {r.text[:200]}")
    doc = r.json()["results"][0]["document"]
    if doc["sha256"] != payload.sha256 or doc["size"] != payload.size:
        raise RuntimeError("upload stored different bytes")


def raw_disk_write(folder: Path, payload: Payload) -> float:
    path = folder / f"raw-{payload.size}-{time.monotonic_ns()}"
    t = time.perf_counter()
    with open(path, "wb") as f:
        for chunk in payload.chunks():
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    elapsed = time.perf_counter() - t
    path.unlink()
    return elapsed


async def bench_uploads(base: str, data_dir: Path, size: int, count: int) -> tuple[float, float]:
    payloads = [Payload(size, seed=1000 + size % 997 + i) for i in range(count)]  # distinct: no dedup
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        await upload_one(client, Payload(4096, seed=size), "warmup.bin")
        t = time.perf_counter()
        for i, p in enumerate(payloads):
            await upload_one(client, p, f"f{i}.bin")
        api = time.perf_counter() - t
    raw = sum(raw_disk_write(data_dir, p) for p in payloads)
    mb = size * count / 1e6
    return mb / api, mb / raw


async def bench_concurrent_rss(base: str, pid: int, size: int, clients: int) -> tuple[int, int, float]:
    before = rss_kib(pid)
    sampler = RssSampler(pid)
    sampler.start()
    t = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        await asyncio.gather(*(upload_one(client, Payload(size, seed=5000 + i), f"c{i}.bin") for i in range(clients)))
    elapsed = time.perf_counter() - t
    sampler.stop()
    return before, rss_kib(pid, "VmHWM"), size * clients / 1e6 / elapsed


async def bench_health(base: str, seconds: float, concurrency: int = 16) -> float:
    done = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:
        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                r = await client.get("/health")
                assert r.status_code == 200
                done += 1

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - t)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer and smaller runs (smoke check of the bench)")
    args = ap.parse_args()
    big = 20 * MIB if args.quick else 100 * MIB
    work = Path(tempfile.mkdtemp(prefix="mydocs-bench-"))
    fdb = None
    server = None
    try:
        mongo_url = os.environ.get("MONGO_URL")
        if not mongo_url:
            fdb = FerretDBServer(work / "ferretdb")
            fdb.start()
            mongo_url = fdb.url
        port = free_port()
        data = work / "data"
        (work / "config").mkdir()
        env = {**os.environ, "MONGO_URL": mongo_url, "MONGO_DB_NAME": f"bench{os.getpid()}",
               "DATA_FOLDER": str(data), "CONFIG_ROOT": str(work / "config"), "MYDOCS_STORAGE_BACKEND": "local",
               "ENTRA_TENANT_ID": "", "MYDOCS_LOG_LEVEL": "warning"}
        log = work / "uvicorn.log"
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "mydocs.backend.app:create_app", "--factory",
                                   "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                                   "--no-access-log"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        wait_port(port, server, "uvicorn", log)
        base = f"http://127.0.0.1:{port}"
        data.mkdir(parents=True, exist_ok=True)
        print(f"backend pid {server.pid}; RSS after start {rss_kib(server.pid) / 1024:.1f} MiB; data on "
              f"{data} ({shutil.disk_usage(data).free // MIB} MiB free)")

        small_api, small_raw = await bench_uploads(base, data, 1 * MIB, 10 if args.quick else 50)
        print(f"upload 1 MiB files:   {small_api:8.1f} MB/s via the API   | raw disk write {small_raw:8.1f} MB/s")
        big_api, big_raw = await bench_uploads(base, data, big, 1 if args.quick else 3)
        print(f"upload {big // MIB} MiB files: {big_api:8.1f} MB/s via the API   | raw disk write {big_raw:8.1f} MB/s")
        before, peak, conc = await bench_concurrent_rss(base, server.pid, big, 4)
        verdict = "OK" if peak / 1024 <= 200 else "OVER TARGET"
        print(f"4 concurrent {big // MIB} MiB uploads: backend RSS before {before / 1024:.1f} MiB, peak (VmHWM) "
              f"{peak / 1024:.1f} MiB (target <= 200 MiB: {verdict}); aggregate {conc:.1f} MB/s")
        rps = await bench_health(base, 2 if args.quick else 5)
        print(f"GET /health: {rps:8.0f} requests/s (16 concurrent clients, one uvicorn worker)")
        return 0 if peak / 1024 <= 200 else 1
    finally:
        stop_process(server)
        if fdb is not None:
            fdb.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
