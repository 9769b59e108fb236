"""The hourly run roll-up stays exactly equal to aggregating the runs themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory import metrics
from observatory.db.engine import asyncpg_dsn, make_session_factory
from observatory.demo import DemoConfig, load_demo

ANCHOR = datetime(2026, 11, 10, tzinfo=UTC)

FROM_RUNS = """
SELECT date_trunc('hour', r.started_at, 'UTC') AS bucket, r.agent_id, coalesce(r.model, '') AS model,
       s.kind, r.trigger, count(*) AS run_count, count(*) FILTER (WHERE r.status = 'failed') AS failed,
       coalesce(sum(r.input_tokens), 0) AS input_tokens, coalesce(sum(r.cost), 0) AS cost,
       count(r.duration_ms) AS duration_runs,
       array_agg(observatory_hist_bucket(r.duration_ms) ORDER BY r.id) FILTER (WHERE r.duration_ms IS NOT NULL) AS b
FROM runs r JOIN sessions s ON s.id = r.session_id GROUP BY 1, 2, 3, 4, 5
"""
FROM_ROLLUP = """
SELECT bucket, agent_id, model, kind, trigger, run_count, failed_runs AS failed, input_tokens, cost,
       duration_runs, ARRAY[{hist}] AS h FROM run_rollups
""".format(hist=", ".join(f"h{i}" for i in range(32)))


async def _compare(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        expected = {}
        for r in (await conn.execute(text(FROM_RUNS))).mappings():
            hist = [0] * 32
            for b in r["b"] or []:
                hist[b] += 1
            key = (r["bucket"], r["agent_id"], r["model"], r["kind"], r["trigger"])
            expected[key] = (
                r["run_count"],
                r["failed"],
                r["input_tokens"],
                r["cost"],
                r["duration_runs"],
                hist,
            )
        actual = {
            (r["bucket"], r["agent_id"], r["model"], r["kind"], r["trigger"]): (
                r["run_count"],
                r["failed"],
                r["input_tokens"],
                r["cost"],
                r["duration_runs"],
                list(r["h"]),
            )
            for r in (await conn.execute(text(FROM_ROLLUP))).mappings()
        }
    assert actual == expected


async def test_rollup_follows_inserts_updates_and_deletes(
    clean_db: AsyncEngine, db_url: str
) -> None:
    await load_demo(asyncpg_dsn(db_url), DemoConfig(sessions=40, seed=5, anchor=ANCHOR, days=5))
    await _compare(clean_db)
    async with clean_db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE runs SET cost = cost * 2, duration_ms = duration_ms + 100000, status = 'failed', "
                "started_at = started_at + interval '90 minutes' WHERE id % 7 = 0"
            )
        )
        await conn.execute(text("DELETE FROM runs WHERE id % 11 = 0"))
        await conn.execute(
            text("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions s WHERE kind = 'task' "
                 "AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.session_id = s.id) LIMIT 5)")
        )  # fmt: skip
    await _compare(clean_db)
    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE runs CASCADE"))
        assert await conn.scalar(text("SELECT count(*) FROM run_rollups")) == 0


async def test_aggregate_over_unaligned_range_equals_raw(
    clean_db: AsyncEngine, db_url: str
) -> None:
    await load_demo(asyncpg_dsn(db_url), DemoConfig(sessions=40, seed=6, anchor=ANCHOR, days=5))
    start = ANCHOR - timedelta(days=3, minutes=17)
    end = ANCHOR - timedelta(hours=5, minutes=41)
    async with make_session_factory(clean_db)() as db:
        found = await metrics.aggregate(db, start, end, metrics.MetricFilter(), group_by="agent")
        raw = (
            await db.execute(
                text(
                    "SELECT agent_id, count(*), sum(cost), sum(output_tokens) FROM runs "
                    "WHERE started_at >= :s AND started_at < :e GROUP BY 1"
                ),
                {"s": start, "e": end},
            )
        ).all()
    assert {g: (a.run_count, a.cost, a.output_tokens) for (_b, g), a in found.items()} == {
        r[0]: (r[1], r[2], r[3]) for r in raw
    }


def test_percentile_from_histogram() -> None:
    hist = [0] * 32
    hist[10] = 100  # all runs in [50*1.5^9, 50*1.5^10) ms
    p50 = metrics.percentile(hist, 0.5)
    assert p50 is not None and 50 * 1.5**9 <= p50 < 50 * 1.5**10
    assert metrics.percentile([0] * 32, 0.5) is None


async def test_latest_review_is_kept_on_the_session(clean_db: AsyncEngine, db_url: str) -> None:
    await load_demo(asyncpg_dsn(db_url), DemoConfig(sessions=8, seed=7, anchor=ANCHOR, days=2))
    async with clean_db.begin() as conn:
        sid = await conn.scalar(
            text("SELECT id FROM sessions WHERE kind = 'task' ORDER BY id LIMIT 1")
        )
        await conn.execute(text("DELETE FROM reviews WHERE session_id = :s"), {"s": sid})

        async def latest() -> tuple[object, object]:
            row = (
                await conn.execute(
                    text("SELECT latest_review_id, latest_verdict FROM sessions WHERE id = :s"),
                    {"s": sid},
                )
            ).one()
            return row[0], row[1]

        assert await latest() == (None, None)
        insert = text(
            "INSERT INTO reviews (session_id, verdict, rating, reviewer_kind, created_at) "
            "VALUES (:s, :v, 3, :k, :t) RETURNING id"
        )
        human = await conn.scalar(insert, {"s": sid, "v": "partial", "k": "human", "t": ANCHOR})
        await conn.scalar(
            insert, {"s": sid, "v": "failed", "k": "ai", "t": ANCHOR + timedelta(hours=1)}
        )
        assert await latest() == (human, "partial")  # a human review wins over a newer AI one
        await conn.execute(text("DELETE FROM reviews WHERE id = :h"), {"h": human})
        assert (await latest())[1] == "failed"
