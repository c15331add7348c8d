"""`mydocs sync run` and `mydocs sync migrate` (registered by mydocs.cli.main through `add_parser`).

Progress goes to stderr: a progress bar on a terminal, plain lines otherwise (logs, CI). The summary
(or the full report with --json) goes to stdout. Exit 0 on success, 1 on failure with a clear message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any, TextIO

from mydocs.settings import Settings, load_settings
from mydocs.storage.base import StorageBackend, StorageError, StorageUnavailable, open_backend

BACKENDS = ("local", "azure_blob")
SHOWN = 20  # items of each list printed in the human summary


class CliFailure(Exception):
    """A failure reported as one line on stderr, exit code 1."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `sync run` and `sync migrate` on the top-level `mydocs` subparsers."""
    sync = subparsers.add_parser("sync", help="rebuild the database from sidecars, migrate between backends")
    ssub = sync.add_subparsers(dest="sync_command", required=True, metavar="SUBCOMMAND")

    run = ssub.add_parser("run", help="make MongoDB agree with one backend's sidecars",
                          description="Scan the sidecars of one backend (and the external-mode sidecars under the "
                          "ingest roots): restore missing records, update changed ones, report records whose "
                          "file is gone (never deleted).")
    run.add_argument("--backend", required=True, choices=BACKENDS, help="the backend to scan")
    run.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    run.add_argument("--json", action="store_true", help="print the full plan/report as JSON")
    run.set_defaults(func=cmd_run)

    mig = ssub.add_parser("migrate", help="copy managed files and sidecars to another backend (storage only)",
                          description="Copy every managed file, then its sidecar, from one backend to the other; "
                          "skip objects already there with the same sha256; verify each copy by reading it back. "
                          "No database writes: run `mydocs sync run --backend TARGET` afterwards.")
    mig.add_argument("--from", dest="source", required=True, choices=BACKENDS, help="source backend")
    mig.add_argument("--to", dest="target", required=True, choices=BACKENDS, help="target backend")
    mig.add_argument("--dry-run", action="store_true", help="print what would be copied, change nothing")
    mig.add_argument("--delete-source", action="store_true",
                     help="delete each source document once its file and sidecar are verified at the target")
    mig.add_argument("--json", action="store_true", help="print the full plan/report as JSON")
    mig.set_defaults(func=cmd_migrate)
    return sync


# ---- progress ---------------------------------------------------------------------------------------------
class ProgressOutput:
    """A rich progress bar on a TTY, else plain lines (every 10 % or 2 s, and at the end)."""

    def __init__(self, label: str, stream: TextIO | None = None):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._bar: Any = None
        self._task: Any = None
        self._last_line = 0.0
        self._last_decile = -1
        self._last: tuple[int, int] | None = None

    def __enter__(self) -> ProgressOutput:
        if self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=None)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()

    async def __call__(self, done: int, total: int) -> None:
        if (done, total) == self._last:
            return
        self._last = (done, total)
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total or None)
            return
        now = time.monotonic()
        decile = (done * 10 // total) if total else 10
        if done >= total or decile != self._last_decile or now - self._last_line >= 2:
            self._last_decile, self._last_line = decile, now
            print(f"{self.label}: {done}/{total}", file=self.stream, flush=True)


# ---- commands ---------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    return _main(lambda settings: _run(settings, args))


def cmd_migrate(args: argparse.Namespace) -> int:
    if args.source == args.target:
        print(f"mydocs sync migrate: --from and --to are both {args.source}; choose two different backends",
              file=sys.stderr)
        return 1
    if args.dry_run and args.delete_source:
        print("mydocs sync migrate: --dry-run deletes nothing; --delete-source is ignored", file=sys.stderr)
    return _main(lambda settings: _migrate(settings, args))


def _main(body: Callable[[Settings], Coroutine[Any, Any, int]]) -> int:
    settings = load_settings()  # ConfigError: mydocs.cli.main prints one line per problem, exit 1
    try:
        return asyncio.run(body(settings))
    except CliFailure as exc:
        print(f"mydocs: {exc}", file=sys.stderr)
        return 1
    except StorageError as exc:
        print(f"mydocs: storage error: {exc}", file=sys.stderr)
        return 1


async def _open_storage(stack: AsyncExitStack, name: str, settings: Settings) -> StorageBackend:
    try:
        backend = open_backend(name, settings)
        await backend.open()
    except StorageUnavailable as exc:
        raise CliFailure(f"storage backend {name} is not usable: {exc}") from None
    stack.push_async_callback(backend.close)
    return backend


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from mydocs import db as dbmod
    from mydocs.services.sync import SyncService

    async with AsyncExitStack() as stack:
        client = dbmod.create_client(settings)
        stack.push_async_callback(client.close)
        db = dbmod.get_database(client, settings)
        try:
            await dbmod.ping(db, timeout=10)
            await dbmod.ensure_indexes(db)
        except dbmod.DatabaseUnavailable as exc:
            raise CliFailure(f"MongoDB at MONGO_URL is not reachable ({exc})") from None
        storage = await _open_storage(stack, args.backend, settings)
        service = SyncService(db, storage, settings)
        label = f"sync {args.backend}" + (" (dry run)" if args.dry_run else "")
        with ProgressOutput(label) as progress:
            if args.dry_run:
                result = (await service.plan(progress)).as_dict()
                result["dry_run"] = True
            else:
                result = await service.execute(progress)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        _print_sync(result)
    return 0


def _print_sync(r: dict[str, Any]) -> None:
    verb = "would restore" if r.get("dry_run") else "restored"
    restored = r["restore_count"] if r.get("dry_run") else r["restored"]
    updated = r["update_count"] if r.get("dry_run") else r["updated"]
    print(f"sync {r['backend']}{' (dry run: nothing changed)' if r.get('dry_run') else ''}: "
          f"{r['scanned_sidecars']} sidecars scanned; {verb} {restored}, "
          f"{'would update' if r.get('dry_run') else 'updated'} {updated}, unchanged {r['unchanged']}, "
          f"records of the other backend {r['other_backend']}")
    for item in r["update"][:SHOWN]:
        print(f"  update {item['id']} {item['name']}: {', '.join(sorted(item['changes']))}")
    for item in r["missing_files"][:SHOWN]:
        print(f"  missing file (record kept): {item['id']} {item.get('name')} {item.get('file_key')} "
              f"[{item['reason']}]")
    for item in r["missing_sidecars"][:SHOWN]:
        print(f"  record without sidecar: {item['id']} {item.get('name')}")
    for item in r["conflicts"][:SHOWN]:
        print(f"  conflict: {item['id']}: {item['reason']}")
    for item in r["invalid_sidecars"][:SHOWN]:
        print(f"  invalid sidecar: {item['error']}")
    for item in r.get("orphan_files", [])[:SHOWN]:
        print(f"  file without sidecar (not indexed, not deleted): {item['key']} ({item['size']} bytes)")
    print(f"missing files: {r['missing_files_count']}, records without sidecar: {r['missing_sidecars_count']}, "
          f"conflicts: {r['conflicts_count']}, invalid sidecars: {r['invalid_sidecars_count']}, "
          f"files without sidecar: {r.get('orphan_files_count', 0)}")


async def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from mydocs.services.migrate import MigrateService

    async with AsyncExitStack() as stack:
        source = await _open_storage(stack, args.source, settings)
        target = await _open_storage(stack, args.target, settings)
        service = MigrateService(source, target)
        label = f"migrate {args.source} -> {args.target}" + (" (dry run)" if args.dry_run else "")
        with ProgressOutput(label) as progress:
            if args.dry_run:
                result = await service.plan(delete_source=args.delete_source, progress=progress)
            else:
                result = await service.execute(delete_source=args.delete_source, progress=progress)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        _print_migrate(result)
    if result["errors_count"]:
        print(f"mydocs: {result['errors_count']} document(s) could not be migrated (listed above); "
              "nothing was deleted for them", file=sys.stderr)
        return 1
    return 0


def _print_migrate(r: dict[str, Any]) -> None:
    head = f"migrate {r['source_backend']} -> {r['target_backend']}"
    if r["dry_run"]:
        print(f"{head} (dry run: nothing changed): {r['documents']} documents; would copy {r['copy_count']} "
              f"objects ({r['bytes_to_copy']} bytes), skip {r['skip_count']} already at the target")
        for item in r["copy"][:SHOWN]:
            print(f"  copy {item['kind']} {item['key']} ({item['size']} bytes, target {item['reason']})")
    else:
        print(f"{head}: {r['documents']} documents, {r['completed_documents']} complete at the target; copied "
              f"{r['copied']} objects ({r['bytes_copied']} bytes), skipped {r['skip_count']} already there, "
              f"verified {r['verified']}, source documents deleted {r['deleted_source']}")
        if r["completed_documents"]:
            print(f"next: mydocs sync run --backend {r['target_backend']}  (points the records at the target)")
    for item in r["errors"][:SHOWN]:
        print(f"  error: {item['error']}")
    if r["orphans_count"]:
        print(f"  {r['orphans_count']} object(s) without a sidecar in {r['source_backend']} were not copied "
              f"(e.g. {', '.join(r['orphans'][:3])})")
