"""The AI endpoint's request rate, held in PostgreSQL so every process shares it.

One row per endpoint (``ai_rate_limits``): ``next_at`` is the next free request slot. Taking a
slot is one atomic upsert that moves ``next_at`` on by ``60 / rpm`` seconds, so N API workers
and review workers together never start more than ``rpm`` requests a minute (an in-process
limiter would allow N times that). A 429 sets ``paused_until``: every process waits it out.
The waiting itself happens outside the transaction; no lock is held while sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Sleep = Callable[[float], Awaitable[None]]

_TAKE = text(
    """
    INSERT INTO ai_rate_limits AS l (key, next_at) VALUES (:key, now() + :step)
    ON CONFLICT (key) DO UPDATE
      SET next_at = greatest(l.next_at, now(), coalesce(l.paused_until, now())) + :step
    RETURNING extract(epoch FROM (l.next_at - :step - now())) AS wait
    """
)
_PAUSE = text(
    """
    INSERT INTO ai_rate_limits AS l (key, paused_until) VALUES (:key, now() + :pause)
    ON CONFLICT (key) DO UPDATE
      SET paused_until = greatest(coalesce(l.paused_until, now()), now() + :pause)
    """
)


class SharedRateLimiter:
    """Same interface as ``client.RateLimiter``, across processes."""

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        key: str,
        requests_per_minute: int,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.factory = factory
        self.key = key[:300]
        self.step = timedelta(seconds=60.0 / requests_per_minute if requests_per_minute > 0 else 0)
        self._sleep = sleep

    async def acquire(self) -> None:
        async with self.factory() as db, db.begin():
            wait = await db.scalar(_TAKE, {"key": self.key, "step": self.step})
        if wait is not None and float(wait) > 0:
            await self._sleep(float(wait))

    async def pause(self, seconds: float) -> None:
        async with self.factory() as db, db.begin():
            await db.execute(_PAUSE, {"key": self.key, "pause": timedelta(seconds=seconds)})
