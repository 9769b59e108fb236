"""Live events over PostgreSQL LISTEN/NOTIFY, fanned out to bounded per-subscriber queues.

Database triggers (migration 0002) NOTIFY the ids of changed rows on commit, so any process's
writes reach every API worker. One dedicated asyncpg connection per process listens; if it drops,
the hub reconnects with backoff and replays what changed meanwhile (sessions.changed_at).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.db.engine import asyncpg_dsn
from observatory.monitoring import prom
from observatory.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = "observatory_events"
KINDS = (
    "session_created",
    "session_updated",
    "sync_status",
    "api_key",
    "alert_fired",
    "review_job",
    "feed",
)


@dataclass(frozen=True)
class Event:
    kind: str
    ids: tuple[int, ...]
    # Work shared by every subscriber of this event (the rows it names, their loaders), so a
    # thousand subscribers cost one query, not a thousand.
    shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def once(self, key: str, make: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
        task = self.shared.get(key)
        if task is None:
            task = self.shared[key] = asyncio.ensure_future(make())
        return task


class SubscriberDropped(Exception):
    """The subscriber's queue overflowed: it is too slow and was disconnected."""


class Subscription:
    def __init__(self, hub: EventHub, kinds: frozenset[str], maxsize: int) -> None:
        self.hub = hub
        self.kinds = kinds
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize)
        self.dropped = False
        self.error: BaseException | None = None

    def fail(self, error: BaseException) -> None:
        """End the subscriber with ``error`` (its key was revoked), waking it if it waits."""
        self.error = error
        self.dropped = True
        try:
            self.queue.put_nowait(None)
        except asyncio.QueueFull:  # it is not waiting: it will see the error on its next get
            self.queue = asyncio.Queue(1)
            self.queue.put_nowait(None)

    def offer(self, event: Event) -> None:
        if self.dropped or event.kind not in self.kinds:
            return
        if event.kind == "feed" and not self.queue.empty():
            return  # a wake-up: feed followers re-read the log, one pending is enough
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A slow client never stalls the others: drop it, it gets a clear close.
            self.dropped = True
            self.queue = asyncio.Queue(1)
            self.queue.put_nowait(None)

    async def next(self) -> Event:
        """The next event. Safe to cancel (e.g. under ``asyncio.wait_for``), unlike a step of
        the async iterator, whose cancellation closes it."""
        event = await self.queue.get()
        if self.error is not None:
            raise self.error
        if event is None:
            raise SubscriberDropped("subscriber too slow: event queue overflowed")
        return event

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.next()


class EventHub:
    def __init__(
        self,
        database_url: str,
        session_factory: async_sessionmaker[AsyncSession],
        settings: Settings,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._factory = session_factory
        self._queue_size = settings.subscriber_queue_size
        self._subs: set[Subscription] = set()
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._last_seen = datetime.now(UTC)
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="event-hub")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), 10)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()

    @contextlib.contextmanager
    def subscribe(self, *kinds: str) -> Any:
        sub = Subscription(self, frozenset(kinds or KINDS), self._queue_size)
        self._subs.add(sub)
        prom.subscribers.inc()
        try:
            yield sub
        finally:
            self._subs.discard(sub)
            prom.subscribers.dec()

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    def listening(self, kind: str) -> int:
        """How many subscriptions receive events of `kind` (tests wait on it, not on sleeps)."""
        return sum(1 for sub in self._subs if kind in sub.kinds)

    def _dispatch(self, event: Event) -> None:
        for sub in list(self._subs):
            sub.offer(event)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            data = json.loads(payload)
            event = Event(str(data["kind"]), tuple(int(i) for i in data.get("ids") or ()))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring malformed event payload %r", payload[:200])
            return
        self._last_seen = datetime.now(UTC)
        if isinstance(data.get("at"), int | float):
            prom.event_delay_seconds.observe(max(0.0, time.time() - data["at"]))
        self._dispatch(event)

    def _on_termination(self, _conn: Any) -> None:
        self._lost.set()

    async def _supervise(self) -> None:
        attempt = 0
        first = True
        while True:
            try:
                conn = await asyncpg.connect(
                    self._dsn, server_settings={"application_name": "observatory-listener"}
                )
            except (OSError, asyncpg.PostgresError) as exc:
                attempt += 1
                delay = min(30.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.0)
                log.warning("event listener cannot connect (%s); retry in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                continue
            attempt = 0
            self._conn = conn
            self._lost.clear()
            conn.add_termination_listener(self._on_termination)
            await conn.add_listener(CHANNEL, self._on_notify)
            self.connected.set()
            if not first:
                await self._catch_up()
            first = False
            await self._lost.wait()
            self.connected.clear()
            conn.terminate()
            log.warning("event listener connection lost; reconnecting")

    async def _catch_up(self) -> None:
        """Replay changes committed while the listener was away (NOTIFYs then are lost)."""
        since = self._last_seen - timedelta(seconds=2)
        async with self._factory() as db:
            rows = (
                await db.execute(
                    text(
                        "SELECT id, created_at >= :since AS is_new FROM sessions "
                        "WHERE changed_at >= :since OR created_at >= :since ORDER BY id"
                    ),
                    {"since": since},
                )
            ).all()
            sources = (await db.execute(text("SELECT id FROM sync_sources"))).scalars().all()
            keys = (await db.execute(text("SELECT id FROM api_keys"))).scalars().all()
            alerts = (
                (
                    await db.execute(
                        text("SELECT id FROM alerts WHERE fired_at >= :since ORDER BY id"),
                        {"since": since},
                    )
                )
                .scalars()
                .all()
            )
            jobs = (
                (
                    await db.execute(
                        text(
                            "SELECT id FROM review_jobs WHERE status IN ('queued', 'running') "
                            "OR finished_at >= :since ORDER BY id"
                        ),
                        {"since": since},
                    )
                )
                .scalars()
                .all()
            )
        created = tuple(r.id for r in rows if r.is_new)
        updated = tuple(r.id for r in rows if not r.is_new)
        if created:
            self._dispatch(Event("session_created", created))
        if updated:
            self._dispatch(Event("session_updated", updated))
        if sources:
            self._dispatch(Event("sync_status", tuple(sources)))
        self._dispatch(Event("feed", ()))  # feed followers re-read their log position
        if keys:  # revocations meanwhile: every key is re-read (cached keys, open sockets)
            self._dispatch(Event("api_key", tuple(keys)))
        if alerts:
            self._dispatch(Event("alert_fired", tuple(alerts)))
        if jobs:
            self._dispatch(Event("review_job", tuple(jobs)))
        self._last_seen = datetime.now(UTC)
