"""What the running app holds: settings, the MongoDB client and database, the storage backends."""

from __future__ import annotations

import asyncio
import logging

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from mydocs import db as dbmod
from mydocs.parser_config import ParserConfig
from mydocs.settings import Settings
from mydocs.storage.base import StorageBackend, StorageUnavailable, open_backend

log = logging.getLogger("mydocs")
STARTUP_TIMEOUT_SECONDS = 5.0


class AppContext:
    """Created by the app factory (connects to nothing); `start()`/`stop()` run in the lifespan."""

    def __init__(self, settings: Settings, parser_config: ParserConfig | None = None):
        self.settings = settings
        self.parser_config = parser_config or ParserConfig()
        self.mongo: AsyncMongoClient | None = None
        self._db: AsyncDatabase | None = None
        self._storages: dict[str, StorageBackend] = {}
        self._opened: set[str] = set()
        self._lock = asyncio.Lock()
        self._indexes_ready = False

    @property
    def db(self) -> AsyncDatabase:
        if self._db is None:
            raise RuntimeError("the app is not started")
        return self._db

    @property
    def storage_backend_name(self) -> str:
        return self.settings.MYDOCS_STORAGE_BACKEND

    async def start(self) -> None:
        """Open what can be opened; a dependency that is down is reported by readiness, not fatal."""
        self.mongo = dbmod.create_client(self.settings)
        self._db = dbmod.get_database(self.mongo, self.settings)
        for root in self.settings.ingest_roots:
            if root == self.settings.DATA_FOLDER / "ingest":
                try:
                    root.mkdir(parents=True, exist_ok=True)
                except OSError:
                    pass
        await asyncio.gather(self._start_mongo(), self._start_storage())

    async def _start_mongo(self) -> None:
        try:
            await asyncio.wait_for(self.ensure_indexes(), STARTUP_TIMEOUT_SECONDS)
        except Exception as exc:  # readiness reports it; indexes are retried there
            log.error("MongoDB not reachable at start-up (%s); /health/ready reports it until it is",
                      type(exc).__name__)

    async def _start_storage(self) -> None:
        try:
            await asyncio.wait_for(self.storage(), STARTUP_TIMEOUT_SECONDS)
        except (StorageUnavailable, asyncio.TimeoutError) as exc:
            log.error("storage backend %s not usable at start-up (%s); /health/ready reports it until it is",
                      self.storage_backend_name, str(exc) or "timeout")

    async def ensure_indexes(self) -> None:
        if not self._indexes_ready:
            await asyncio.wait_for(dbmod.ensure_indexes(self.db), 10)
            self._indexes_ready = True

    async def storage(self, name: str | None = None) -> StorageBackend:
        """The backend `name` (default: MYDOCS_STORAGE_BACKEND), opened on first use."""
        name = name or self.storage_backend_name
        async with self._lock:
            backend = self._storages.get(name)
            if backend is None:
                backend = open_backend(name, self.settings)
                self._storages[name] = backend
            if name not in self._opened:
                await backend.open()
                self._opened.add(name)
        return backend

    async def check_storage(self) -> None:
        """Readiness of the configured backend (opens it if start-up could not)."""
        backend = await self.storage()
        await backend.check()

    async def check_mongo(self) -> None:
        await dbmod.ping(self.db)
        await self.ensure_indexes()

    async def stop(self) -> None:
        for backend in self._storages.values():
            try:
                await backend.close()
            except Exception as exc:  # closing must not mask the shutdown
                log.warning("closing storage %s: %s", backend.name, type(exc).__name__)
        self._storages.clear()
        self._opened.clear()
        if self.mongo is not None:
            await self.mongo.close()
            self.mongo = None
