"""Migration 0002's triggers NOTIFY committed session and review changes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.db.engine import asyncpg_dsn
from observatory.events import CHANNEL

NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def _next(queue: asyncio.Queue[dict[str, object]]) -> dict[str, object]:
    event = await asyncio.wait_for(queue.get(), timeout=5)
    if event.get("kind") != "mark":  # the test's own marker is sent by hand
        # `at`: the writing transaction's start, for the delivery-delay metric.
        at = event.pop("at")
        assert isinstance(at, float) and abs(time.time() - at) < 60
    return event


MARK = {"kind": "mark", "ids": []}


def _collect(queue: asyncio.Queue[dict[str, object]]) -> Callable[..., None]:
    """Queue every payload but the feed log's wake-ups (tests/graphql/test_feeds.py covers them)."""

    def on_notify(*args: object) -> None:
        payload = json.loads(str(args[3]))
        if payload["kind"] != "feed":
            queue.put_nowait(payload)

    return on_notify


async def _nothing_before_mark(
    conn: asyncpg.Connection, queue: asyncio.Queue[dict[str, object]]
) -> None:
    """NOTIFY a marker from another connection: a listener gets notifications in commit order,
    so if the marker comes next, nothing else was delivered before it (no timed wait)."""
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, json.dumps(MARK))
    assert await _next(queue) == MARK


async def test_session_insert_and_review_notify(clean_db: AsyncEngine, db_url: str) -> None:
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    listener = await asyncpg.connect(asyncpg_dsn(db_url))
    writer = await asyncpg.connect(asyncpg_dsn(db_url))
    marker = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await listener.add_listener(CHANNEL, _collect(queue))
        async with writer.transaction():
            source_id = await writer.fetchval(
                "INSERT INTO sync_sources (name, kind) VALUES ('n', 'openclaw') RETURNING id"
            )
            await writer.execute("INSERT INTO agents (id) VALUES ('sofia')")
        assert await _next(queue) == {"kind": "sync_status", "ids": [source_id]}

        async with writer.transaction():
            session_id = await writer.fetchval(
                "INSERT INTO sessions (source_id, key, agent_id, kind, status, started_at, "
                "updated_at) VALUES ($1, 'agent:sofia:main', 'sofia', 'main', 'running', $2, $2) "
                "RETURNING id",
                source_id,
                NOW,
            )
            # Nothing arrives before COMMIT.
            await _nothing_before_mark(marker, queue)
        assert await _next(queue) == {"kind": "session_created", "ids": [session_id]}

        await writer.execute(
            "INSERT INTO reviews (session_id, verdict, rating, reviewer_kind) "
            "VALUES ($1, 'partial', 3, 'human')",
            session_id,
        )
        assert await _next(queue) == {"kind": "session_updated", "ids": [session_id]}
        await _nothing_before_mark(marker, queue)  # one event per change, not one per trigger
    finally:
        await listener.close()
        await writer.close()
        await marker.close()
