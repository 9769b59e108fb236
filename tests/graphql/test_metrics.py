from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.graphql.conftest import Api

RANGE = {"f": "2026-11-06T00:00:00Z", "t": "2026-11-21T00:00:00Z"}


async def test_series_by_agent_matches_sql(api: dict[str, Api], demo_engine: AsyncEngine) -> None:
    q = """query($f: DateTime!, $t: DateTime!) {
      metricSeries(groupBy: AGENT, bucket: DAY, from: $f, to: $t) {
        groups points { bucketStart group runCount cost inputTokens durationP50Ms successRate reviewCount } } }"""
    series = (await api["viewer"].ok(q, RANGE))["metricSeries"]
    assert series["groups"] == ["atlas", "nova", "orion", "sofia"]
    async with demo_engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT date_trunc('day', started_at, 'UTC') AS b, agent_id, count(*) AS n, sum(cost) AS c, "
                    "sum(input_tokens) AS i FROM runs WHERE started_at >= :f AND started_at < :t GROUP BY 1, 2"
                ),
                {"f": datetime(2026, 11, 6, tzinfo=UTC), "t": datetime(2026, 11, 21, tzinfo=UTC)},
            )
        ).all()
    expected = {(r.b.strftime("%Y-%m-%d"), r.agent_id): (r.n, r.c, r.i) for r in rows}
    got = {
        (p["bucketStart"][:10], p["group"]): (
            p["runCount"],
            Decimal(p["cost"]) if p["cost"] is not None else None,
            p["inputTokens"],
        )
        for p in series["points"]
        if p["runCount"]
    }
    assert got == expected
    assert any(p["successRate"] is not None for p in series["points"])


async def test_summary_and_breakdowns(api: dict[str, Api]) -> None:
    q = """query($f: DateTime!, $t: DateTime!) {
      metricSummary(from: $f, to: $t, filter: {agentIds: ["sofia"]}) {
        runCount costSummary: cost totalTokens durationP50Ms durationP95Ms successRate heartbeatRuns
        sessionsByStatus { status count } }
      verdictSeries(bucket: WEEK, from: $f, to: $t) { bucketStart verdict count }
      durationHistogram(from: $f, to: $t) { lowerMs upperMs count }
      byTrigger: metricSeries(groupBy: TRIGGER, bucket: WEEK, from: $f, to: $t) { groups }
      byKind: metricSeries(groupBy: KIND, bucket: WEEK, from: $f, to: $t, filter: {kinds: [TASK]}) { groups }
    }"""
    data = await api["viewer"].ok(q, RANGE)
    s = data["metricSummary"]
    assert s["runCount"] > 0 and s["durationP50Ms"] <= s["durationP95Ms"]
    assert 0 <= s["successRate"] <= 1
    assert {v["verdict"] for v in data["verdictSeries"]} <= {
        "ACCOMPLISHED",
        "PARTIAL",
        "FAILED",
        "UNCLEAR",
    }
    hist = data["durationHistogram"]
    assert (
        hist[0]["lowerMs"] == 0
        and hist[-1]["upperMs"] is None
        and sum(b["count"] for b in hist) > 0
    )
    assert "heartbeat" in data["byTrigger"]["groups"]
    assert data["byKind"]["groups"] == ["task"]


async def test_filters_apply_to_roll_up_and_raw_edges(
    api: dict[str, Api], demo_engine: AsyncEngine
) -> None:
    # An unaligned range: whole hours come from the roll-up, the edges from raw runs.
    q = """query($f: DateTime!, $t: DateTime!) { metricSeries(groupBy: MODEL, bucket: DAY,
          from: $f, to: $t, filter: {agentIds: ["sofia", "atlas"], kinds: [MAIN],
          triggers: [HEARTBEAT], models: ["gpt-5", "claude-sonnet-4-5"]}) { points { runCount } }
          metricSummary(from: $f, to: $t, filter: {agentIds: ["sofia"], kinds: [TASK]}) {
            sessionCount } }"""
    start, end = (
        datetime(2026, 11, 8, 3, 17, tzinfo=UTC),
        datetime(2026, 11, 18, 21, 41, tzinfo=UTC),
    )
    data = await api["viewer"].ok(q, {"f": start.isoformat(), "t": end.isoformat()})
    async with demo_engine.connect() as conn:
        runs = await conn.scalar(
            text(
                "SELECT count(*) FROM runs r JOIN sessions s ON s.id = r.session_id "
                "WHERE r.started_at >= :f AND r.started_at < :t AND r.agent_id IN ('sofia', 'atlas') "
                "AND s.kind = 'main' AND r.trigger = 'heartbeat' AND r.model IN ('gpt-5', 'claude-sonnet-4-5')"
            ),
            {"f": start, "t": end},
        )
        sessions = await conn.scalar(
            text(
                "SELECT count(*) FROM sessions WHERE started_at >= :f AND started_at < :t "
                "AND agent_id = 'sofia' AND kind = 'task'"
            ),
            {"f": start, "t": end},
        )
    assert runs and sum(p["runCount"] for p in data["metricSeries"]["points"]) == runs
    assert data["metricSummary"]["sessionCount"] == sessions
