"""Feed replay cost: how fast a subscriber resuming from an old cursor catches up.

    python bench/bench_feed_replay.py                  # 2,000 sessions x 5 and x 20 changes
    python bench/bench_feed_replay.py --repeat 1       # quick look

Per size, in a throwaway database: sessions are created and updated (each update one
``feed_events`` row), then the replay a resuming subscription does is timed — each session's
latest event after the cursor, page by page, plus loading those session rows — and the
webhook dispatcher's read (every event, not collapsed). Medians of --repeat runs, both sizes
in one run so the ratio is side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))

import asyncpg  # noqa: E402
from sqlalchemy import select  # noqa: E402

from observatory.db.engine import asyncpg_dsn, make_engine, make_session_factory  # noqa: E402
from observatory.db.migrate import upgrade_async  # noqa: E402
from observatory.db.models import Session  # noqa: E402
from observatory.feeds import log  # noqa: E402
from observatory.feeds.cursor import Position  # noqa: E402

SERVER = os.environ.get(
    "OBSERVATORY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _db_url(name: str) -> str:
    base, _, query = SERVER.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(SERVER))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _fill(url: str, sessions: int, changes: int) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        src = await conn.fetchval(
            "INSERT INTO sync_sources (name, kind) VALUES ('bench', 'test') RETURNING id"
        )
        await conn.execute("INSERT INTO agents (id) VALUES ('sofia')")
        await conn.execute(
            "INSERT INTO sessions (source_id, key, agent_id, kind, status, started_at, updated_at) "
            "SELECT $1, 'agent:sofia:subagent:' || g, 'sofia', 'task', 'running', now(), now() "
            "FROM generate_series(1, $2) g",
            src,
            sessions,
        )
        for i in range(changes):  # one statement per round: every session changes once
            await conn.execute("UPDATE sessions SET title = $1", f"round {i}")
        return int(await conn.fetchval("SELECT count(*) FROM feed_events"))
    finally:
        await conn.close()


async def _replay(factory: object, page: int = 500) -> tuple[float, int]:
    f = factory  # async_sessionmaker
    started = time.perf_counter()
    delivered = 0
    async with f() as db:  # type: ignore[operator]
        below = await log.horizon(db)
    start, page_after = Position(0, 0), None
    while True:
        async with f() as db:  # type: ignore[operator]
            changes = await log.latest(
                db, ("session_created", "session_updated"), start, below, page_after, page
            )
            ids = [c.entity_id for c in changes]
            rows = (await db.execute(select(Session).where(Session.id.in_(ids)))).scalars().all()
        delivered += len(rows)
        if len(changes) < page:
            break
        page_after = changes[-1].position
    return time.perf_counter() - started, delivered


async def _every(factory: object, page: int = 500) -> float:
    f = factory
    started = time.perf_counter()
    pos = Position(0, 0)
    while True:
        async with f() as db:  # type: ignore[operator]
            changes = await log.every(db, pos, page)
        if not changes:
            break
        pos = changes[-1].position
    return time.perf_counter() - started


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print("| sessions x changes | events in log | replay (latest per session) | events/s | "
          "webhook read (every event) | events/s |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- |")
    for changes in (5, 20):
        name = f"obs_bench_feed_{uuid.uuid4().hex[:8]}"
        await _admin(f'CREATE DATABASE "{name}"')
        url = _db_url(name)
        try:
            await upgrade_async(url)
            events = await _fill(url, args.sessions, changes)
            engine = make_engine(url, pool_size=2, app_name="bench-feed")
            factory = make_session_factory(engine)
            replays, reads = [], []
            for _ in range(args.repeat):
                took, delivered = await _replay(factory)
                assert delivered == args.sessions, delivered
                replays.append(took)
                reads.append(await _every(factory))
            await engine.dispose()
            r, w = statistics.median(replays), statistics.median(reads)
            print(f"| {args.sessions} x {changes + 1} | {events} | {r * 1000:.0f} ms | "
                  f"{events / r:,.0f} | {w * 1000:.0f} ms | {events / w:,.0f} |")  # fmt: skip
        finally:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
