"""Read replicas: read-only GraphQL queries go to a streaming replica that is up and caught up.

Everything else (mutations, sync, LISTEN, review jobs, subscriptions) stays on the primary. A
caller reads its own writes: after a mutation we note the primary's WAL position for that API
key (and return it in ``X-Observatory-Write-Lsn``); a later read by the same key, or carrying
``X-Observatory-Min-Lsn`` (for a client whose next request lands on another worker), goes only to
a replica whose replay position has passed it, else to the primary. Nothing ever waits on lag.

Each replica is polled every ``replica_poll_s`` (default 0.5 s) for its replay position; one that
fails a poll, or drops a request's connection, is marked down at once and reads fall back to
the primary until a poll succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from observatory.db.engine import make_engine, make_session_factory

log = logging.getLogger(__name__)

SessionSource = Callable[[], AsyncSession]
_RECENT_WRITERS = 10_000  # API keys whose last write position we remember (LRU)
MIN_LSN_HEADER = "x-observatory-min-lsn"
WRITE_LSN_HEADER = "x-observatory-write-lsn"


def parse_lsn(value: str | None) -> int | None:
    """'16/B374D848' -> its 64-bit position; None for anything else."""
    if not value or "/" not in value:
        return None
    hi, _, lo = value.partition("/")
    try:
        return (int(hi, 16) << 32) + int(lo, 16)
    except ValueError:
        return None


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


@dataclass(eq=False)
class Replica:
    name: str  # host:port/db, never the password
    engine: AsyncEngine
    factory: async_sessionmaker[AsyncSession]
    up: bool = False
    replay_lsn: int | None = None
    error: str | None = None

    def mark_down(self, reason: str) -> None:
        if self.up:
            log.warning("read replica %s down: %s", self.name, reason)
        self.up = False
        self.error = reason


@dataclass(eq=False)
class ReadPool:
    primary: async_sessionmaker[AsyncSession]
    replicas: list[Replica]
    poll_s: float = 0.5
    _writes: OrderedDict[int, int] = field(default_factory=OrderedDict)
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _task: asyncio.Task[None] | None = None

    @classmethod
    def from_urls(
        cls, primary: async_sessionmaker[AsyncSession], urls: tuple[str, ...], poll_s: float
    ) -> ReadPool:
        replicas = []
        for url in urls:
            u = make_url(url)
            engine = make_engine(url, app_name="observatory-api-read")
            replica = Replica(
                f"{u.host}:{u.port or 5432}/{u.database}", engine, make_session_factory(engine)
            )
            event.listen(engine.sync_engine, "handle_error", _on_error(replica))
            replicas.append(replica)
        return cls(primary, replicas, poll_s)

    async def start(self) -> None:
        await self.poll()
        self._task = asyncio.create_task(self._poll_forever(), name="replica-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for r in self.replicas:
            await r.engine.dispose()

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            await self.poll()

    async def poll(self) -> None:
        await asyncio.gather(*(self._poll_one(r) for r in self.replicas))

    async def _poll_one(self, replica: Replica) -> None:
        try:
            async with asyncio.timeout(max(1.0, 2 * self.poll_s)), replica.engine.connect() as c:
                row = (
                    await c.execute(
                        text("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text")
                    )
                ).one()
        except Exception as exc:  # any failure means: do not read there
            replica.mark_down(f"{type(exc).__name__}: {exc}"[:200])
            return
        if not row[0]:
            replica.mark_down("not in recovery (promoted?)")
            return
        if not replica.up:
            log.info("read replica %s up", replica.name)
        replica.up, replica.error = True, None
        replica.replay_lsn = parse_lsn(row[1])

    def source(self, key_id: int | None, min_lsn: int | None = None) -> SessionSource:
        """Where a read-only request of this caller goes: a caught-up replica, else the primary."""
        need = max(self._writes.get(key_id, 0) if key_id is not None else 0, min_lsn or 0)
        ready = [r for r in self.replicas if r.up and (need == 0 or (r.replay_lsn or 0) >= need)]
        if not ready:
            return self.primary
        return ready[next(self._turn) % len(ready)].factory

    async def note_write(self, key_id: int | None) -> int:
        """After a caller's mutation: remember the primary's WAL position for its next reads."""
        async with self.primary() as db:
            lsn = parse_lsn(await db.scalar(text("SELECT pg_current_wal_lsn()::text"))) or 0
        if key_id is not None:
            self._writes[key_id] = lsn
            self._writes.move_to_end(key_id)
            while len(self._writes) > _RECENT_WRITERS:
                self._writes.popitem(last=False)
        return lsn

    async def status(self) -> list[dict[str, Any]]:
        primary_lsn: int | None = None
        with contextlib.suppress(Exception):
            async with self.primary() as db:
                primary_lsn = parse_lsn(await db.scalar(text("SELECT pg_current_wal_lsn()::text")))
        return [
            {
                "name": r.name,
                "status": "up" if r.up else "down",
                "lagBytes": (
                    max(0, primary_lsn - r.replay_lsn)
                    if r.up and primary_lsn is not None and r.replay_lsn is not None
                    else None
                ),
                **({"error": r.error} if r.error else {}),
            }
            for r in self.replicas
        ]


def _on_error(replica: Replica) -> Callable[[Any], None]:
    def handle(context: Any) -> None:
        if context.is_disconnect:
            replica.mark_down(f"connection lost: {context.original_exception}"[:200])

    return handle


class Route:
    """A request's session source, chosen once at the first statement: the primary unless the
    operation was marked read-only (then ``pick`` decides)."""

    def __init__(self, primary: async_sessionmaker[AsyncSession]) -> None:
        self._primary = primary
        self.pick: Callable[[], SessionSource] | None = None
        self._chosen: SessionSource | None = None

    def __call__(self) -> AsyncSession:
        if self._chosen is None:
            self._chosen = self.pick() if self.pick is not None else self._primary
        return self._chosen()

    @property
    def on_primary(self) -> bool:
        return self._chosen is None or self._chosen is self._primary
