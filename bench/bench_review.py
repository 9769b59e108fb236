"""Review-loop benchmark on demo data: queue, claims, comparison, patterns, suggestions, prompts.

    python bench/bench_review.py [--sessions 20000] [--database-url URL] [--keep]

Without --database-url a throwaway database is created on OBSERVATORY_TEST_DATABASE_URL's server
(default 127.0.0.1:5432), loaded with the demo loader, and dropped afterwards. Reports the median
and worst of a few timed repeats per operation.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from sqlalchemy import text  # noqa: E402

from observatory.db.engine import asyncpg_dsn, make_engine, make_session_factory  # noqa: E402
from observatory.db.migrate import upgrade_async  # noqa: E402
from observatory.demo import DemoConfig, load_demo  # noqa: E402
from observatory.improve.agreement import judge_agreement  # noqa: E402
from observatory.improve.compare import Window, compare_periods  # noqa: E402
from observatory.improve.patterns import find_patterns  # noqa: E402
from observatory.improve.suggestions import generate_suggestions  # noqa: E402
from observatory.review.claims import claim_next_queue_item  # noqa: E402
from observatory.review.jobs import claim_jobs  # noqa: E402
from observatory.review.policy import enqueue_since  # noqa: E402
from observatory.review.prompt import build_prompt  # noqa: E402
from observatory.review.queue import list_review_queue, queue_counts  # noqa: E402
from observatory.review.transcript import load_target  # noqa: E402

SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def timed(label: str, repeats: int, fn: Callable[[], Awaitable[object]]) -> object:
    result = await fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        result = await fn()
        times.append((time.perf_counter() - t) * 1000)
    print(f"  {label:48} median {statistics.median(times):8.1f} ms   max {max(times):8.1f} ms")
    return result


async def main() -> None:
    import os

    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20000)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    server = os.environ.get("OBSERVATORY_TEST_DATABASE_URL", SERVER)
    url, created = args.database_url, False
    if not url:
        name = f"obs_bench_review_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(asyncpg_dsn(server))
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url, created = server.rsplit("/", 1)[0] + "/" + name, True
    anchor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    try:
        await upgrade_async(url)
        conn = await asyncpg.connect(asyncpg_dsn(url))
        empty = not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM sessions)")
        await conn.close()
        if empty:
            t = time.perf_counter()
            cfg = DemoConfig(sessions=args.sessions, anchor=anchor, transcripts=2000)
            report = await load_demo(asyncpg_dsn(url), cfg)
            print(
                f"demo: {sum(report.sessions.values())} sessions, {report.runs} runs, "
                f"{report.messages} messages in {time.perf_counter() - t:.1f}s"
            )
        engine = make_engine(url, pool_size=8, app_name="bench-review")
        factory = make_session_factory(engine)
        r = args.repeats
        since, until = anchor - timedelta(days=14), anchor
        async with factory() as db:
            await timed("queue: first page (50)", r, lambda: list_review_queue(db, api_key_id=None))
            await timed("queue: counts per reason", r, lambda: queue_counts(db, api_key_id=None))
            await timed(
                "compare: 2 x 14 days by agent",
                r,
                lambda: compare_periods(
                    db,
                    Window(since - (until - since), since),
                    Window(since, until),
                    group_by="agent",
                ),
            )
            await timed(
                "compare: 2 x 14 days overall",
                r,
                lambda: compare_periods(
                    db, Window(since - (until - since), since), Window(since, until)
                ),
            )
            await timed("patterns: 14 days", r, lambda: find_patterns(db, since=since, until=until))
            await timed(
                "agreement: 30 days by week",
                r,
                lambda: judge_agreement(db, since=anchor - timedelta(days=30), until=anchor),
            )
            biggest = await db.scalar(
                text("SELECT session_id FROM messages GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
            )

            async def prompt() -> object:
                info, msgs, total = await load_target(db, biggest)
                return build_prompt(info, msgs, total, budget=12000)

            p = await timed(f"prompt: largest transcript (session {biggest})", r, prompt)
            print(
                f"    {p.total_messages} messages, {p.shown_messages} shown, ~{p.estimated_tokens} tokens"
            )  # type: ignore[attr-defined]
        async with factory() as db, db.begin():
            await timed(
                "suggestions: generate (14 days)",
                1,
                lambda: generate_suggestions(db, since=since, until=until),
            )
            await db.rollback()
        async with factory() as db, db.begin():
            ids = await enqueue_since(db, anchor - timedelta(days=30))
        print(f"  enqueued {len(ids)} review jobs")

        async def claimer(name: str) -> int:
            n = 0
            while True:
                async with factory() as db, db.begin():
                    got = await claim_jobs(db, name, 4)
                if not got:
                    return n
                n += len(got)

        t = time.perf_counter()
        counts = await asyncio.gather(*(claimer(f"w{i}") for i in range(4)))
        secs = time.perf_counter() - t
        print(
            f"  claims: 4 workers claimed {sum(counts)} jobs in {secs:.2f}s ({sum(counts) / secs:.0f}/s), split {counts}"
        )
        async with factory() as db, db.begin():
            await timed("queue: claim next", r, lambda: claim_next_queue_item(db, api_key_id=None))
            await db.rollback()
        await engine.dispose()
    finally:
        if created and not args.keep:
            conn = await asyncpg.connect(asyncpg_dsn(server))
            await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
