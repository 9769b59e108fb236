"""Per-key fairness: one API key holds at most ``key_db_concurrency`` database sessions at once.

Issue 10: one viewer's query held every pooled connection (20) for 31 to 36 s while everyone else
waited. With this cap a key's extra resolvers queue behind its own sessions, and the rest of the
pool stays free for other keys. Waiting longer than the statement timeout is TOO_MANY_REQUESTS
(a resolver that holds a session while waiting for another could otherwise wait forever).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.graphql.errors import TooManyRequests

SessionOpener = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class KeyedOpener:
    def __init__(
        self, base: SessionOpener, semaphore: asyncio.Semaphore, limit: int, wait_s: float
    ) -> None:
        self._base = base
        self._semaphore = semaphore
        self._limit = limit
        self._wait_s = wait_s

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._session()

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self._wait_s)
        except TimeoutError:
            raise TooManyRequests(
                f"this API key already holds {self._limit} database sessions; retry later"
            ) from None
        try:
            async with self._base() as db:
                yield db
        finally:
            self._semaphore.release()


class KeyLimiter:
    def __init__(
        self, factory: async_sessionmaker[AsyncSession], limit: int, wait_s: float
    ) -> None:
        self.factory = factory
        self._limit = max(1, limit)
        self._wait_s = wait_s
        self._semaphores: dict[int | None, asyncio.Semaphore] = {}  # one per key (keys are few)

    def opener(self, key_id: int | None, base: SessionOpener | None = None) -> KeyedOpener:
        """Sessions from ``base`` (a read route, else the primary) under the key's cap."""
        semaphore = self._semaphores.get(key_id)
        if semaphore is None:
            semaphore = self._semaphores[key_id] = asyncio.Semaphore(self._limit)
        return KeyedOpener(base or self.factory, semaphore, self._limit, self._wait_s)
