"""Process-wide services owned by the app lifespan (no module globals)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from observatory.auth.keys import KeyResolver
from observatory.db.replicas import ReadPool
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
    reads: ReadPool | None = None  # read replicas, when configured
    live_auth: Any = None  # observatory.auth.live.LiveAuth once started
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    manual_syncs: dict[int, asyncio.Task[Any]] = field(default_factory=dict)

    def start_sync(self, source_id: int) -> bool:
        """Sync one source now, in the background (mutation ``syncSource``); False when a pass
        this process started is still running. Other processes are kept out by the source's
        advisory lock."""
        running = self.manual_syncs.get(source_id)
        if running is not None and not running.done():
            return False
        from observatory.sync.circuit import Policy
        from observatory.sync.runner import sync_source

        task = asyncio.create_task(
            sync_source(
                self.engine, source_id, policy=Policy.from_settings(self.settings), force=True
            ),
            name=f"sync-source-{source_id}",
        )
        self.manual_syncs[source_id] = task
        task.add_done_callback(lambda t: _log_failure(t, source_id))
        return True

    @contextlib.asynccontextmanager
    async def run(self, *, background: bool = True) -> AsyncIterator[None]:
        from observatory.events import EventHub

        self.events = EventHub(self.database_url, self.session_factory, self.settings)
        await self.events.start()
        if self.reads is not None:
            await self.reads.start()
        from observatory.auth.live import LiveAuth

        self.live_auth = LiveAuth(self.keys, self.events)
        live_auth = asyncio.create_task(self.live_auth.run(), name="live-auth")
        stop = asyncio.Event()
        if background:
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
            for task in self.manual_syncs.values():
                task.cancel()
            for task in self.manual_syncs.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            live_auth.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await live_auth
            await self.live_auth.stop()
            await self.events.stop()
            if self.reads is not None:
                await self.reads.stop()


def _log_failure(task: asyncio.Task[Any], source_id: int) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("manual sync of source %s failed", source_id, exc_info=task.exception())


def _background_tasks(services: Services, stop: asyncio.Event) -> list[asyncio.Task[Any]]:
    """Sync (unless switched off), the review worker when an AI endpoint is configured, and
    alert evaluation + webhook delivery (unless switched off)."""
    tasks: list[asyncio.Task[Any]] = []
    if services.settings.sync_enabled:
        from observatory.sync.runner import run_forever

        tasks.append(
            asyncio.create_task(
                run_forever(services.session_factory, stop, services.settings), name="sync-runner"
            )
        )
        if services.settings.sync_push:
            tasks.append(asyncio.create_task(_live_sync(services, stop), name="sync-live"))
    if services.settings.ai_base_url:
        from observatory.review.worker import run_review_worker

        tasks.append(
            asyncio.create_task(
                run_review_worker(services.session_factory, services.settings, stop),
                name="review-worker",
            )
        )
    if services.settings.alerts_enabled:
        tasks.extend(_alert_tasks(services, stop))
    return tasks


async def _live_sync(services: Services, stop: asyncio.Event) -> None:
    from observatory.sync.circuit import Policy
    from observatory.sync.live import LiveSync

    settings = services.settings
    live = LiveSync(
        services.engine, policy=Policy.from_settings(settings), debounce_s=settings.sync_debounce_s
    )
    await live.run(stop)


def _alert_tasks(services: Services, stop: asyncio.Event) -> list[asyncio.Task[Any]]:
    """Every worker evaluates (an advisory lock picks one per pass) and sends (SKIP LOCKED)."""
    from observatory.alerts.engine import run_alerts
    from observatory.feeds.webhooks import run_dispatcher
    from observatory.monitoring import gauges
    from observatory.outbox.sender import OutboxPolicy, run_outbox

    s = services.settings
    policy = OutboxPolicy(
        timeout_s=s.outbox_timeout_s,
        max_attempts=s.outbox_max_attempts,
        disable_after=s.outbox_disable_after,
    )
    return [
        asyncio.create_task(
            run_alerts(services.session_factory, stop, s.alerts_interval_s, on_pass=gauges.refresh),
            name="alerts",
        ),
        asyncio.create_task(
            run_outbox(services.session_factory, stop, poll_s=s.outbox_poll_s, policy=policy),
            name="outbox",
        ),
        # Session/run events into the same outbox (the mark row lets one worker at a time).
        asyncio.create_task(
            run_dispatcher(
                services.session_factory,
                stop,
                poll_s=s.outbox_poll_s / 2,
                keep=timedelta(days=s.feed_retention_days),
            ),
            name="feed-webhooks",
        ),
    ]
