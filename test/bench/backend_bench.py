"""Backend benchmark: prints figures; not a timed test and not part of any test command.

In ONE run, against the real service (uvicorn from .venv, `mydocs.backend.app:create_app --factory`, local storage
backend, a real FerretDB started here unless MONGO_URL is given), it measures side by side:
  1. upload throughput (MB/s, median of a few repetitions) for 1 MiB and 100 MiB files, and a raw disk write
     (write + fsync) of the same bytes into the same file system, interleaved with the uploads; reported as a ratio;
     then where one 1 MiB upload's time goes: the API upload beside the same client's upload of the same body to
     a bare ASGI app under the same uvicorn (the HTTP transfer alone), the backend's store_managed run in-process
     without HTTP (file, sidecar and record made durable), one FerretDB insert alone, and the raw write;
  2. the backend's peak RSS (VmHWM of the uvicorn process and any children, reset just before the phase) while
     4 clients upload 100 MiB each at once; target <= 200 MiB, printed as PASS/FAIL;
  3. GET /health requests per second over a bounded number of requests (and a time cap) from concurrent clients;
     and with Debian's `wrk` (when installed) for a fixed time, against this backend and, side by side in the same
     run, against a second one started with plain uvicorn's pure-Python stack (`--http h11 --loop asyncio`, what
     the backend ran on before httptools/uvloop were dependencies).

Request bodies are streamed from generators: the client never holds a whole file in memory. Uploads are measured
with two clients: a raw HTTP/1.1 one sending the Content-Length up front (as browsers and curl do; little CPU of its
own), by which the targets are judged, and httpx sending chunked (what the bench used first).
Exit code: 0 when the run completed (whatever the figures), 1 when the run itself broke (it says why).

Run: bash scripts/setup-python.sh && .venv/bin/python test/bench/backend_bench.py [--quick] [--workdir DIR]
Needs FerretDB (bash scripts/install-test-services.sh; found like test/backend/conftest.py finds it) or MONGO_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_UVICORN = ROOT / ".venv" / "bin" / "uvicorn"
RSS_TARGET_MIB = 200

try:
    import httpx
    from pymongo import MongoClient

    sys.path.insert(0, str(ROOT / "test" / "backend"))
    from bodies import MIB, MultipartBody, Payload  # streamed bodies shared with the backend tests
    from conftest import FerretDBServer, free_port, wait_port  # the same FerretDB discovery and start-up
except ImportError as e:  # run with the wrong interpreter
    sys.exit(f"backend_bench: {e}; run it with .venv/bin/python (bash scripts/setup-python.sh creates .venv)")


# ---------------------------------------------------------------------------------------------------------------
# process memory, from /proc (no psutil in the locked dependencies)

def proc_status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """pid and all its live descendants (uvicorn with --workers or --reload forks; one worker does not)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the comm field may hold spaces and parentheses
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def tree_kib(pid: int, field: str) -> int:
    return sum(proc_status_kib(p, field) for p in process_tree(pid))


CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """user + system CPU time of the tree (utime, stime of /proc/PID/stat): the work done, whatever the load."""
    ticks = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5), counted after the comm field
    return ticks / CLK_TCK


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class CpuClock:
    """Wall time, the backend's CPU time and this client's CPU time over a block."""

    def __init__(self, pid: int):
        self.pid = pid

    def __enter__(self) -> CpuClock:
        self.wall, self.server, self.client = time.perf_counter(), tree_cpu_seconds(self.pid), own_cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.server = tree_cpu_seconds(self.pid) - self.server
        self.client = own_cpu_seconds() - self.client


def reset_hwm(pid: int) -> bool:
    """Reset VmHWM to the current RSS for the tree (`echo 5 > /proc/PID/clear_refs`, Linux >= 4.0)."""
    try:
        for p in process_tree(pid):
            Path(f"/proc/{p}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """Samples the tree's VmRSS every 10 ms: a cross-check of VmHWM (a sampler can only miss a peak)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._halt = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_kib(self.pid, "VmRSS"))
            self._halt.wait(0.01)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


# ---------------------------------------------------------------------------------------------------------------
# measurements

class Seeds:
    """Distinct payload seeds, so no upload is answered by deduplication instead of a write."""

    def __init__(self) -> None:
        self.n = int(time.time())

    def payload(self, size: int) -> Payload:
        self.n += 1
        return Payload(size, seed=self.n)


class RawConnection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: a client that costs little CPU (httpx spends several
    times the backend's CPU per small request, and 2-5 ms per MB it uploads, so it would measure itself)."""

    def __init__(self, base: str):
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> RawConnection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()

    async def get(self, path: str) -> tuple[int, bytes]:
        assert self.writer is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        return await self._answer("GET", path)

    async def post(self, path: str, body: MultipartBody) -> tuple[int, bytes]:
        """POST a multipart body with its Content-Length, streamed: each chunk written once the socket drained."""
        assert self.writer is not None
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: "
                          f"{body.content_type}\r\nContent-Length: {body.content_length()}\r\n\r\n".encode())
        async for chunk in body.stream():
            self.writer.write(chunk)
            await self.writer.drain()
        return await self._answer("POST", path)

    async def _answer(self, method: str, path: str) -> tuple[int, bytes]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" not in headers:
            raise RuntimeError(f"{method} {path}: no Content-Length in the answer ({lines[0]})")
        return status, await self.reader.readexactly(int(headers["content-length"]))


async def upload_one(client: httpx.AsyncClient | RawConnection, payload: Payload, name: str,
                     path: str = "/api/v1/documents/upload") -> dict:
    """One streamed multipart upload: with httpx, chunked from a generator; with a RawConnection, with its
    Content-Length up front, as browsers (FormData) and curl -F send it. Checks the stored bytes' sha256."""
    body = MultipartBody([("file", "files", name, "application/octet-stream", payload)])
    if isinstance(client, RawConnection):
        status, raw = await client.post(path, body)
        text = raw.decode("utf-8", "replace")
    else:
        r = await client.post(path, content=body.stream(), headers={"Content-Type": body.content_type})
        status, text = r.status_code, r.text
    if status != 201:
        raise RuntimeError(f"upload of {name} to {path} answered {status}: {text[:300]}")
    answer = json.loads(text)
    if path != "/api/v1/documents/upload":  # the bare ASGI app: it answers how many bytes it read
        if answer.get("read") != body.content_length():
            raise RuntimeError(f"the bare ASGI app read {answer} of a {body.content_length()}-byte body")
        return answer
    result = answer["results"][0]
    doc = result.get("document") or {}
    if doc.get("sha256") != payload.sha256 or doc.get("size") != payload.size:
        raise RuntimeError(f"upload of {name} stored different bytes: {result}")
    return answer


def raw_disk_write(folder: Path, payload: Payload) -> None:
    path = folder / f"raw-{time.monotonic_ns()}"
    with open(path, "wb") as f:
        for chunk in payload.chunks():
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    path.unlink()


async def bench_uploads(client: httpx.AsyncClient | RawConnection, pid: int, raw_dir: Path, seeds: Seeds, size: int,
                        files: int, reps: int) -> tuple[list[float], list[float], float, float]:
    """`reps` repetitions; each uploads `files` files of `size` bytes one after the other, then writes the very
    same bytes raw (write + fsync per file). Returns the MB/s of each repetition (api, raw), and the backend's and
    the client's CPU seconds per MB uploaded."""
    api_rates, raw_rates = [], []
    server_cpu = client_cpu = 0.0
    mb = size * files / 1e6
    for rep in range(reps):
        payloads = [seeds.payload(size) for _ in range(files)]  # made (and hashed) before the clock starts
        with CpuClock(pid) as clock:
            for i, p in enumerate(payloads):
                await upload_one(client, p, f"bench-{size}-{rep}-{i}.bin")
        api_rates.append(mb / clock.wall)
        server_cpu += clock.server
        client_cpu += clock.client
        t = time.perf_counter()
        for p in payloads:
            await asyncio.to_thread(raw_disk_write, raw_dir, p)
        raw_rates.append(mb / (time.perf_counter() - t))
    return api_rates, raw_rates, server_cpu / (mb * reps), client_cpu / (mb * reps)


# A bare ASGI app under the same uvicorn (httptools + uvloop picked the same way as for the backend): it reads the
# whole request body and throws it away. Timing the bench client's very same upload against it gives what the HTTP
# transfer alone costs, beside the backend's upload of the same bytes.
DRAIN_APP = """
import sys, uvicorn
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            await send({"type": m["type"] + ".complete"})
            if m["type"] == "lifespan.shutdown":
                return
    n, more = 0, True
    while more:
        m = await receive()
        n += len(m.get("body", b""))
        more = m.get("more_body", False)
    body = b'{"read": %d}' % n
    await send({"type": "http.response.start", "status": 201,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


async def bench_small_breakdown(client: RawConnection, raw_dir: Path, work: Path, mongo_url: str, db_name: str,
                                seeds: Seeds, files: int) -> dict:
    """Where one 1 MiB upload's time goes, each step timed `files` times in a row in this run (medians, ms):
    the raw write + fsync; the API upload (the raw client); the same kind of upload to a bare ASGI app that only
    reads the body (the HTTP transfer alone), from the raw client and from httpx; the backend's own work for one
    document without HTTP (`DocumentService.store_managed` in this process from bytes in memory: the durable
    file, sidecar and record, against the same FerretDB and file system); and one insert of such a record alone."""
    from mydocs.backend.context import AppContext
    from mydocs.services.documents import DocumentService
    from mydocs.settings import load_settings

    from mydocs.storage.local import LocalStorage

    out: dict[str, list[float]] = {k: [] for k in ("raw", "api", "http", "http_httpx", "service", "insert", "files")}
    port = free_port()
    log = work / "drain.log"
    with log.open("wb") as f:
        drain = subprocess.Popen([sys.executable, "-c", DRAIN_APP, str(port)], stdout=f, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
    (work / "svc" / "fs").mkdir(parents=True)
    settings = load_settings({"MONGO_URL": mongo_url, "MONGO_DB_NAME": db_name + "_svc",
                              "DATA_FOLDER": str(work / "svc" / "data"), "CONFIG_ROOT": str(work / "svc" / "config"),
                              "MYDOCS_STORAGE_BACKEND": "local"})
    ctx = AppContext(settings)
    try:
        wait_port(port, drain, "bare ASGI app", log)
        await ctx.start()
        service = DocumentService(ctx)
        fs = LocalStorage(work / "svc" / "fs")
        await fs.open()
        bare_base = f"http://127.0.0.1:{port}"
        async with RawConnection(bare_base) as bare, httpx.AsyncClient(base_url=bare_base, timeout=900) as bare_httpx:
            for i in range(files + 1):  # the first round warms up and is not counted
                p, q, q2, r = (seeds.payload(MIB) for _ in range(4))

                async def chunks(payload: Payload = r):
                    for chunk in payload.chunks():
                        yield chunk

                times = {}
                t = time.perf_counter()

                def lap(step: str) -> None:
                    nonlocal t
                    now = time.perf_counter()
                    times[step], t = (now - t) * 1000, now

                await upload_one(client, p, f"breakdown-{i}.bin")
                lap("api")
                await asyncio.to_thread(raw_disk_write, raw_dir, p)
                lap("raw")
                await upload_one(bare, q, f"breakdown-{i}.bin", path="/")
                lap("http")
                await upload_one(bare_httpx, q2, f"breakdown-{i}.bin", path="/")
                lap("http_httpx")
                stored = await service.store_managed(chunks(), filename=f"breakdown-{i}.bin",
                                                     declared_type="application/octet-stream", tags=[],
                                                     source="upload", max_bytes=None)
                lap("service")
                probe = {**stored.document, "_id": f"probe{i:027d}", "sha256": f"{i:064x}"}
                probe.pop("id")
                await ctx.db["documents"].insert_one(probe)  # the same collection and indexes as a real record
                lap("insert")
                # the file and sidecar steps alone, overlapped as store_managed does them, without the database
                doc = stored.document["id"][::-1]
                staged = await fs.stage_stream(f"{doc[:2]}/{doc}/f.bin", chunks())
                side = asyncio.ensure_future(fs.stage_bytes(f"{doc[:2]}/{doc}.metadata.json", b"{}" * 200))
                await asyncio.gather(staged.commit(), side)
                await side.result().commit()
                lap("files")
                if i:
                    for k, ms in times.items():
                        out[k].append(ms)
    finally:
        stop_group(drain)
        try:
            await ctx.db.client.drop_database(db_name + "_svc")
        except Exception:
            pass
        await ctx.stop()
    return {k: statistics.median(v) for k, v in out.items()}


async def bench_concurrent(base: str, pid: int, seeds: Seeds, size: int, clients: int) -> dict:
    payloads = [seeds.payload(size) for _ in range(clients)]
    before = tree_kib(pid, "VmRSS")
    reset = reset_hwm(pid)
    hwm_after_reset = tree_kib(pid, "VmHWM")
    sampler = RssSampler(pid)
    sampler.start()
    t = time.perf_counter()
    cpu = tree_cpu_seconds(pid)
    try:
        async def one(i: int) -> None:  # four clients: a client (and a connection) each
            async with httpx.AsyncClient(base_url=base, timeout=900) as own:
                await upload_one(own, payloads[i], f"concurrent-{i}.bin")

        await asyncio.gather(*(one(i) for i in range(clients)))
    finally:
        sampled = sampler.stop()
    elapsed = time.perf_counter() - t
    cpu = tree_cpu_seconds(pid) - cpu
    return {"cpu_ms_per_mb": cpu * 1000 / (size * clients / 1e6), "before": before, "hwm": tree_kib(pid, "VmHWM"), "sampled": sampled, "reset": reset,
            "hwm_after_reset": hwm_after_reset, "procs": len(process_tree(pid)),
            "rate": size * clients / 1e6 / elapsed, "seconds": elapsed}


async def bench_health(base: str, pid: int, client_kind: str, total: int, concurrency: int,
                       cap_seconds: float) -> dict:
    """`total` GET /health requests shared by `concurrency` keep-alive connections (raw HTTP/1.1 or an httpx
    AsyncClient); stops early at the time cap."""
    issued = done = 0
    latencies: list[float] = []

    async def worker(get) -> None:
        nonlocal issued, done
        while issued < total and time.perf_counter() < deadline:
            issued += 1
            t = time.perf_counter()
            status, body = await get("/health")
            latencies.append(time.perf_counter() - t)
            if status != 200:
                raise RuntimeError(f"GET /health answered {status}: {body[:200]!r}")
            done += 1

    async def raw_worker() -> None:
        async with RawConnection(base) as conn:
            await conn.get("/health")  # connection set up (and one request) before the count starts
            await ready.wait()
            await worker(conn.get)

    ready = asyncio.Event()
    deadline = time.perf_counter() + cap_seconds + 60
    if client_kind == "raw":
        tasks = [asyncio.create_task(raw_worker()) for _ in range(concurrency)]
        await asyncio.sleep(0.5)
        with CpuClock(pid) as clock:
            deadline = time.perf_counter() + cap_seconds
            ready.set()
            await asyncio.gather(*tasks)
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:
            async def get(path: str) -> tuple[int, bytes]:
                r = await client.get(path)
                return r.status_code, r.content

            await asyncio.gather(*(client.get("/health") for _ in range(concurrency)))  # connections opened
            with CpuClock(pid) as clock:
                deadline = time.perf_counter() + cap_seconds
                await asyncio.gather(*(worker(get) for _ in range(concurrency)))
    latencies.sort()
    return {"done": done, "seconds": clock.wall, "rps": done / clock.wall, "capped": done < total,
            "server_ms": clock.server / done * 1000, "client_ms": clock.client / done * 1000,
            "p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000}


# ---------------------------------------------------------------------------------------------------------------
# the backend process

def start_backend(work: Path, mongo_url: str, db_name: str,
                  extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str, Path]:
    if not VENV_UVICORN.exists():
        raise RuntimeError(f"{VENV_UVICORN} missing: run bash scripts/setup-python.sh")
    data, config = work / "data", work / "config"
    data.mkdir()
    config.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "AZURE_", "ENTRA_", "MYDOCS_"))}
    env.update({"MONGO_URL": mongo_url, "MONGO_DB_NAME": db_name, "DATA_FOLDER": str(data),
                "CONFIG_ROOT": str(config), "MYDOCS_STORAGE_BACKEND": "local", "ENTRA_TENANT_ID": ""})
    log = work / "uvicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(VENV_UVICORN), "mydocs.backend.app:create_app", "--factory",
                                 "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                                 "--no-access-log", *extra], env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=work, start_new_session=True)
    wait_port(port, proc, "uvicorn", log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:  # ready means MongoDB answered and the storage backend is usable
        r = httpx.get(base + "/health/ready", timeout=5)
        if r.status_code == 200:
            break
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"backend not ready: {r.status_code} {r.text[:300]}\n{log.read_text()[-2000:]}")
        time.sleep(0.2)
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
    if not any(b"uvicorn" in part for part in cmdline):  # the pid we measure is uvicorn itself, not a wrapper
        raise RuntimeError(f"pid {proc.pid} is not uvicorn: {cmdline}")
    return proc, base, data


def stop_group(proc: subprocess.Popen | None, grace: float = 5.0) -> None:
    """SIGTERM to the process group we created (uvicorn and any children), SIGKILL after a grace period."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass


def mount_of(path: Path) -> str:
    best = ("?", "?", "")
    for line in Path("/proc/mounts").read_text().splitlines():
        dev, mnt, fstype = line.split()[:3]
        if str(path).startswith(mnt.rstrip("/") + "/") and len(mnt) >= len(best[2]):
            best = (dev, fstype, mnt)
    return f"{best[1]} on {best[2] or '/'}"


def bench_wrk(base: str, pid: int, seconds: int, connections: int) -> dict | None:
    """GET /health with wrk (one thread, `connections` keep-alive connections) for `seconds`; None without wrk."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    with CpuClock(pid) as clock:
        r = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", base + "/health"],
                           capture_output=True, text=True, timeout=seconds + 30)
    if r.returncode != 0:
        raise RuntimeError(f"wrk failed: {r.stderr[-300:]}")
    out = r.stdout
    rps = float(out.split("Requests/sec:")[1].split()[0])
    done = int(out.split(" requests in ")[0].split()[-1])
    errors = "Non-2xx" in out or "Socket errors" in out
    import re

    p50 = m.group(1) if (m := re.search(r"^\s+50%\s+(\S+)", out, re.M)) else "?"
    p99 = m.group(1) if (m := re.search(r"^\s+99%\s+(\S+)", out, re.M)) else "?"
    return {"rps": rps, "done": done, "errors": errors, "p50": p50, "p99": p99,
            "server_ms": clock.server / max(done, 1) * 1000}


def fmt(rates: list[float]) -> str:
    return f"{statistics.median(rates):8.1f} MB/s (runs: {', '.join(f'{r:.1f}' for r in rates)})"


async def run(args: argparse.Namespace) -> None:
    big = (20 if args.quick else 100) * MIB
    small_files, small_reps, big_reps = (5, 3, 1) if args.quick else (20, 5, 5)
    health_total = 1000 if args.quick else 5000
    work = Path(tempfile.mkdtemp(prefix="mydocs-bench-", dir=args.workdir))
    fdb: FerretDBServer | None = None
    server: subprocess.Popen | None = None
    db_name = f"bench_{os.getpid()}"
    mongo_url = os.environ.get("MONGO_URL", "")
    try:
        if mongo_url:
            mongo_desc = "MONGO_URL (given)"
        else:
            fdb = FerretDBServer(work / "ferretdb")
            fdb.start()
            mongo_url, mongo_desc = fdb.url, f"FerretDB {fdb.binary} (SQLite in the work dir)"
        server, base, data = start_backend(work, mongo_url, db_name)
        raw_dir = work / "raw"
        raw_dir.mkdir()
        print(f"date {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; {platform.node()}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; Python {platform.python_version()}")
        print(f"backend: uvicorn pid {server.pid} ({len(process_tree(server.pid))} process), local storage, "
              f"MongoDB: {mongo_desc}; RSS after start {tree_kib(server.pid, 'VmRSS') / 1024:.1f} MiB")
        print(f"data and raw writes in {work} ({mount_of(work)}, {shutil.disk_usage(work).free // MIB} MiB free)")
        print()

        seeds = Seeds()
        async with RawConnection(base) as raw_client, \
                httpx.AsyncClient(base_url=base, timeout=900) as httpx_client:
            clients = ((raw_client, "raw HTTP/1.1 client, Content-Length up front as browsers and curl send"),
                       (httpx_client, "httpx AsyncClient, chunked from a generator"))
            for client, _ in clients:
                await upload_one(client, seeds.payload(64 * 1024), "warmup.bin")
            for size, files, reps in ((MIB, small_files, small_reps), (big, 1, big_reps)):
                print(f"upload {size // MIB} MiB files ({files} per run, {reps} runs, median)")
                for client, label in clients:
                    api, raw, server_cpu, client_cpu = await bench_uploads(client, server.pid, raw_dir, seeds, size,
                                                                           files, reps)
                    pairs = sorted(a / r for a, r in zip(api, raw))
                    print(f"  {label}:")
                    print(f"    via the API     {fmt(api)}")
                    print(f"    raw disk write  {fmt(raw)}")
                    of_medians = statistics.median(api) / statistics.median(raw)
                    print(f"    ratio API/raw   {of_medians:8.2f} (of the medians); "
                          f"{statistics.median(pairs):.2f} (median of each run against the raw write right after it: "
                          f"{', '.join(f'{p:.2f}' for p in pairs)})")
                    print(f"    CPU per MB uploaded: backend {server_cpu * 1000:.1f} ms, bench client "
                          f"{client_cpu * 1000:.1f} ms")

            b = await bench_small_breakdown(raw_client, raw_dir, work, mongo_url, db_name, seeds, small_files)
            print(f"where a 1 MiB upload's time goes ({small_files} rounds, each step one after the other, medians; "
                  f"the raw client unless named)")
            print(f"  raw write + fsync                      {b['raw']:7.2f} ms")
            print(f"  upload through the API                 {b['api']:7.2f} ms  (ratio raw/API {b['raw'] / b['api']:.2f})")
            print(f"  the same upload to a bare ASGI app     {b['http']:7.2f} ms  (HTTP only: the client, "
                  f"uvicorn, reading the body; ratio raw/this {b['raw'] / b['http']:.2f})")
            print(f"    the same from httpx                  {b['http_httpx']:7.2f} ms")
            print(f"  store_managed in-process, no HTTP      {b['service']:7.2f} ms  (file, sidecar and record durable)")
            print(f"    its steps alone: file + sidecar durable, overlapped, no database {b['files']:.2f} ms; "
                  f"one FerretDB insert of such a record {b['insert']:.2f} ms")
            print(f"  HTTP only + store_managed              {b['http'] + b['service']:7.2f} ms  "
                  f"(ratio raw/this {b['raw'] / (b['http'] + b['service']):.2f})")

        c = await bench_concurrent(base, server.pid, seeds, big, 4)
        peak_mib = c["hwm"] / 1024
        verdict = "PASS" if peak_mib <= RSS_TARGET_MIB else "FAIL"
        print(f"4 concurrent clients uploading {big // MIB} MiB each ({c['seconds']:.1f} s, "
              f"aggregate {c['rate']:.1f} MB/s, backend CPU {c['cpu_ms_per_mb']:.1f} ms per MB)")
        if c["reset"]:
            print(f"  backend RSS before {c['before'] / 1024:.1f} MiB; VmHWM reset to "
                  f"{c['hwm_after_reset'] / 1024:.1f} MiB just before the uploads")
        else:
            print(f"  backend RSS before {c['before'] / 1024:.1f} MiB; VmHWM could not be reset: the peak below "
                  f"is the whole life of the process (an upper bound)")
        print(f"  peak RSS (VmHWM, {c['procs']} process) {peak_mib:.1f} MiB; sampled every 10 ms "
              f"{c['sampled'] / 1024:.1f} MiB")
        print(f"  target <= {RSS_TARGET_MIB} MiB: {verdict}"
              + (" (--quick: files are smaller than 100 MiB, the target is not judged by this run)"
                 if args.quick else ""))

        for kind, label in (("raw", "raw keep-alive HTTP/1.1 client"), ("httpx", "httpx AsyncClient")):
            h = await bench_health(base, server.pid, kind, health_total, args.concurrency, args.health_cap)
            print(f"GET /health, {label}: {h['rps']:8.0f} requests/s ({h['done']} requests in {h['seconds']:.2f} s, "
                  f"{args.concurrency} concurrent keep-alive connections, one uvicorn worker"
                  + ("; stopped at the time cap" if h["capped"] else "") + ")")
            print(f"  latency p50 {h['p50_ms']:.1f} ms, p99 {h['p99_ms']:.1f} ms; CPU per request: backend "
                  f"{h['server_ms']:.2f} ms, bench client {h['client_ms']:.2f} ms")
        print("  (1000 / backend CPU ms per request = what one idle core could serve)")
        w = bench_wrk(base, server.pid, args.wrk_seconds, args.concurrency)
        if w is None:
            print("GET /health with wrk: not measured (wrk not installed: apt-get install wrk)")
        else:
            (work / "h11").mkdir()
            old, old_base, _ = start_backend(work / "h11", mongo_url, db_name, ("--http", "h11", "--loop", "asyncio"))
            try:
                w_old = bench_wrk(old_base, old.pid, args.wrk_seconds, args.concurrency)
            finally:
                stop_group(old)
            assert w_old is not None
            for label, m in (("httptools + uvloop (this backend)", w), ("h11 + asyncio (plain uvicorn)", w_old)):
                print(f"GET /health, wrk -t1 -c{args.concurrency} -d{args.wrk_seconds}s, {label}: {m['rps']:8.0f} "
                      f"requests/s; latency p50 {m['p50']}, p99 {m['p99']}; backend CPU {m['server_ms']:.2f} ms "
                      f"per request" + ("; ERRORS reported by wrk" if m["errors"] else ""))
            print(f"  ratio httptools+uvloop / h11+asyncio {w['rps'] / w_old['rps']:8.2f}")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
        print(f"bench client peak RSS (VmHWM) {proc_status_kib(os.getpid(), 'VmHWM') / 1024:.1f} MiB")
    finally:
        stop_group(server)
        if fdb is not None:
            fdb.stop()
        elif mongo_url and server is not None:  # a given server: drop the bench database
            with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as mc:
                mc.drop_database(db_name)
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description="MyDocs backend benchmark (prints figures; not a timed test)")
    ap.add_argument("--quick", action="store_true", help="fewer and smaller runs (a smoke check of the bench)")
    ap.add_argument("--workdir", default=None, help="parent of the temporary work dir (default: the system temp "
                    "dir); data and raw writes go there, so this chooses the file system measured")
    ap.add_argument("--concurrency", type=int, default=16, help="concurrent connections for /health (default 16)")
    ap.add_argument("--health-cap", type=float, default=30.0, help="time cap in seconds for /health (default 30)")
    ap.add_argument("--wrk-seconds", type=int, default=10, help="duration of each wrk /health run (default 10)")
    args = ap.parse_args()
    if not 1 <= args.concurrency <= 256 or not 0 < args.health_cap <= 300:
        ap.error("--concurrency must be 1..256 and --health-cap 0..300 seconds")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))  # clean up on TERM too
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        print("backend_bench: interrupted; processes stopped and work dir removed", file=sys.stderr)
        return 130
    except Exception as e:  # the run broke (not a figure over target): say why, exit 1
        print(f"backend_bench: run failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
