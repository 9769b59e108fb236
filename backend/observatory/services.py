"""Process-wide services owned by the app lifespan (no module globals)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from observatory.auth.keys import KeyResolver
from observatory.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    database_url: str
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    keys: KeyResolver
    events: Any = None  # observatory.events.EventHub once started
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @contextlib.asynccontextmanager
    async def run(self, *, background: bool = True) -> AsyncIterator[None]:
        from observatory.events import EventHub

        self.events = EventHub(self.database_url, self.session_factory, self.settings)
        await self.events.start()
        stop = asyncio.Event()
        if background and self.settings.sync_enabled:
            self.tasks.extend(_background_tasks(self, stop))
        try:
            yield
        finally:
            stop.set()
            for task in self.tasks:
                task.cancel()
            for task in self.tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.events.stop()


def _background_tasks(services: Services, stop: asyncio.Event) -> list[asyncio.Task[Any]]:
    tasks: list[asyncio.Task[Any]] = []
    for module, name in (("observatory.sync.runner", "run_forever"),):
        try:
            fn = getattr(__import__(module, fromlist=[name]), name)
        except (ImportError, AttributeError):
            continue
        tasks.append(asyncio.create_task(fn(services.session_factory, stop), name=module))
    return tasks
