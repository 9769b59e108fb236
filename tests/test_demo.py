"""The demo loader: deterministic for a seed and anchor, and it loads what its report says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select

from observatory.db.engine import asyncpg_dsn, make_engine, make_session_factory
from observatory.db.enums import CircuitState
from observatory.db.migrate import upgrade_async
from observatory.db.models import SyncSource
from observatory.demo import SILENT_AGENT, STATUS_MIX, DemoConfig, DemoReport, load_demo
from observatory.graphql.types.sync import SyncSourceStatus
from observatory.improve.agreement import judge_agreement
from observatory.improve.patterns import find_patterns
from observatory.review.queue import QueueReason, list_review_queue
from observatory.settings import load_settings
from observatory.sync.runner import sync_once
from tests.conftest import create_database, drop_database

ANCHOR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CONFIG = DemoConfig(sessions=30, runs_per_session=3, seed=11, anchor=ANCHOR, days=5)
TABLES = ("agents", "sync_sources", "api_keys", "sessions", "runs", "messages", "reviews")
# Random by design (the demo key's secret) or stamped by the server at insert time.
IGNORED = {
    "api_keys": {"prefix", "hash", "created_at"},
    "sync_sources": {"created_at", "last_attempt_at", "last_success_at"},
    "sessions": {"created_at", "changed_at"},
}


async def _dump(dsn: str) -> dict[str, list[dict[str, Any]]]:
    conn = await asyncpg.connect(dsn)
    try:
        dump = {}
        for table in TABLES:
            rows = await conn.fetch(f"SELECT * FROM {table} ORDER BY id")
            drop = IGNORED.get(table, set())
            dump[table] = [{k: v for k, v in r.items() if k not in drop} for r in rows]
        return dump
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def loaded() -> AsyncIterator[list[tuple[str, DemoReport]]]:
    """The same config loaded into two fresh databases, plus another seed into a third."""
    urls = [await create_database("obs_demo") for _ in range(3)]
    try:
        out = []
        for url, seed in zip(urls, (CONFIG.seed, CONFIG.seed, CONFIG.seed + 1), strict=True):
            await upgrade_async(url)
            dsn = asyncpg_dsn(url)
            cfg = DemoConfig(**{**CONFIG.__dict__, "seed": seed})
            out.append((dsn, await load_demo(dsn, cfg)))
        yield out
    finally:
        for url in urls:
            await drop_database(url)


async def test_same_seed_and_anchor_give_identical_rows(
    loaded: list[tuple[str, DemoReport]],
) -> None:
    (first, report1), (second, report2), (other, _r) = loaded
    dump1, dump2 = await _dump(first), await _dump(second)
    assert report1 == report2
    for table in TABLES:
        assert dump1[table] == dump2[table], f"{table} differs between two loads"
    assert (await _dump(other))["sessions"] != dump1["sessions"], "the seed changes nothing"


async def _counts(conn: asyncpg.Connection, sql: str) -> dict[str, int]:
    return {k: n for k, n in await conn.fetch(sql)}


async def test_loads_what_the_report_says(loaded: list[tuple[str, DemoReport]]) -> None:
    dsn, report = loaded[0]
    conn = await asyncpg.connect(dsn)
    try:
        assert report.agents == await conn.fetchval("SELECT count(*) FROM agents")
        kinds = await _counts(conn, "SELECT kind, count(*) FROM sessions GROUP BY kind")
        assert kinds == dict(report.sessions)
        statuses = await _counts(conn, "SELECT status, count(*) FROM sessions GROUP BY status")
        assert statuses == dict(report.statuses)
        triggers = await _counts(conn, "SELECT trigger, count(*) FROM runs GROUP BY trigger")
        assert triggers == dict(report.triggers)
        assert report.messages == await conn.fetchval("SELECT count(*) FROM messages")
        reviewers = await _counts(
            conn, "SELECT reviewer_kind, count(*) FROM reviews GROUP BY reviewer_kind"
        )
        assert reviewers == dict(report.reviews)

        # What the demo promises: every status, heartbeats in main sessions, tool calls,
        # both kinds of review, unknown (null) usage for a provider that reports none.
        task_statuses = await _counts(
            conn, "SELECT status, count(*) FROM sessions WHERE kind = 'task' GROUP BY status"
        )
        assert set(task_statuses) == set(STATUS_MIX)
        assert sum(task_statuses.values()) == CONFIG.sessions
        assert await conn.fetchval(
            "SELECT count(*) FROM runs r JOIN sessions s ON s.id = r.session_id "
            "WHERE s.kind = 'main' AND r.trigger = 'heartbeat'"
        )
        assert await conn.fetchval(
            "SELECT count(*) FROM messages WHERE content->'blocks' @> '[{\"type\": \"tool_call\"}]'"
        )
        assert set(reviewers) == {"human", "ai"}
        assert await conn.fetchval("SELECT count(*) FROM runs WHERE cost IS NULL")
        assert not await conn.fetchval("SELECT count(*) FROM runs WHERE cost = 0")
        # Roll-ups were computed, and nothing starts after the anchor.
        assert not await conn.fetchval(
            "SELECT count(*) FROM sessions s WHERE run_count <> "
            "(SELECT count(*) FROM runs WHERE session_id = s.id)"
        )
        assert await conn.fetchval("SELECT max(started_at) FROM runs") <= ANCHOR
    finally:
        await conn.close()


async def test_refuses_a_database_that_has_sessions(
    loaded: list[tuple[str, DemoReport]],
) -> None:
    with pytest.raises(RuntimeError, match="already holds sessions"):
        await load_demo(loaded[0][0], CONFIG)


@pytest.fixture(scope="module")
async def default_demo() -> AsyncIterator[str]:
    """The demo as `make run` loads it (default size), at a fixed anchor."""
    url = await create_database("obs_demo")
    try:
        await upgrade_async(url)
        await load_demo(asyncpg_dsn(url), DemoConfig(anchor=ANCHOR))
        yield url
    finally:
        await drop_database(url)


async def test_every_screen_has_something_to_show(default_demo: str) -> None:
    """What the screens read, through the same functions the API uses: disagreements lead the
    review queue, the judge-agreement chart has pairs, one source is stale and one has an open
    circuit, one main session missed its heartbeat cadence."""
    engine = make_engine(default_demo, pool_size=2)
    try:
        async with make_session_factory(engine)() as db:
            page = await list_review_queue(db, api_key_id=None, first=200)
            assert page.items
            assert QueueReason.DISAGREEMENT.value in page.items[0].reasons
            disagreements = [i for i in page.items if QueueReason.DISAGREEMENT.value in i.reasons]
            assert len(disagreements) >= 5

            since = ANCHOR - timedelta(days=30)
            agreement = await judge_agreement(db, since=since, until=ANCHOR, bucket="week")
            assert agreement.models
            stats = agreement.models[0].stats
            assert stats.pairs >= 30
            assert stats.agreement_rate is not None and 0.5 < stats.agreement_rate < 0.95
            assert len(agreement.points) >= 4, "enough weekly points to draw a line"

            sources = {s.name: s for s in (await db.execute(select(SyncSource))).scalars()}
            status = {n: SyncSourceStatus.from_row(s, 300.0) for n, s in sources.items()}
            assert not status["demo"].stale
            assert status["gateway-eu"].stale
            assert status["gateway-eu"].circuit_state is CircuitState.CLOSED
            assert status["gateway-lab"].circuit_state is CircuitState.OPEN
            assert status["gateway-lab"].last_error

            patterns = await find_patterns(db, since=ANCHOR - timedelta(days=7), until=ANCHOR)
            missed = {m.agent_id: m for m in patterns.missed_cadence}
            assert SILENT_AGENT in missed
            assert missed[SILENT_AGENT].missed_beats >= 3
    finally:
        await engine.dispose()


async def test_the_sync_runner_leaves_demo_sources_alone(default_demo: str) -> None:
    engine = make_engine(default_demo, pool_size=2)
    try:
        report = await sync_once(make_session_factory(engine), load_settings(), force=True)
        assert report.sources == []
    finally:
        await engine.dispose()
