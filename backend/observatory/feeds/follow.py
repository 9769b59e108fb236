"""Following a feed: replay from a cursor, then live, as one loop.

Replay and live are the same read — "each entity's latest event after my position, below the
commit horizon" — repeated whenever a ``feed`` NOTIFY arrives (or every ``poll_s`` as a safety
net: a NOTIFY is sent at commit, possibly while an older transaction still holds the horizon
back). Because there is no switch from a replay source to a live source, there is no seam to
lose or double an event at, and it works the same on every API worker: the log is in
PostgreSQL, the position in the cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from observatory.events import Subscription
from observatory.feeds import log
from observatory.feeds.cursor import Position

T = TypeVar("T")

Load = Callable[[list[int]], Awaitable[dict[int, T]]]


async def follow(
    db: Callable[[], AsyncSession],
    sub: Subscription,
    kinds: Sequence[str],
    after: Position | None,
    load: Load[T],
    poll_s: float = 1.0,
    page: int = 500,
) -> AsyncIterator[tuple[Position, T]]:
    """Yield ``(position, item)`` for each entity's latest change after ``after`` (or from
    now), in position order; ``load`` turns entity ids into items (those it leaves out — not
    matching the subscriber's filter — are skipped)."""
    async with db() as s:
        if after is None:
            pos = await log.start_now(s)
        else:
            await log.check_retained(s, after)
            pos = after
    while True:
        async with db() as s:
            below = await log.horizon(s)
        start, page_after = pos, None
        while True:
            # No connection is held while the consumer takes its time over a yield.
            async with db() as s:
                changes = await log.latest(s, kinds, start, below, page_after, limit=page)
            if changes:
                items = await load([c.entity_id for c in changes])
                for c in changes:
                    item = items.get(c.entity_id)
                    if item is not None:
                        yield c.position, item
                page_after = pos = changes[-1].position
            if len(changes) < page:
                break
        # Every event below ``below`` is now behind us, delivered or not matching.
        pos = max(pos, log.now_position(below))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sub.next(), poll_s)
        while not sub.queue.empty():  # a burst of NOTIFYs is one re-read
            await sub.next()
