"""Metrics are aggregate queries over runs (no metrics table): summaries, time series,
verdict mix and duration distribution, for a bounded time range."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

BUCKETS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
GROUPS = {
    "agent": "r.agent_id",
    "model": "coalesce(r.model, 'unknown')",
    "kind": "s.kind",
    "trigger": "r.trigger",
}
MAX_BUCKETS = 2000
# Upper edges (ms) of the duration histogram; the last bucket is open-ended.
DURATION_EDGES_MS = [
    1_000,
    2_000,
    5_000,
    10_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    1_800_000,
    3_600_000,
]


@dataclass
class MetricFilter:
    agent_ids: list[str] | None = None
    kinds: list[str] | None = None
    models: list[str] | None = None
    triggers: list[str] | None = None

    def sql(self, params: dict[str, Any]) -> str:
        conds = []
        for name, column in (
            ("agent_ids", "r.agent_id"),
            ("kinds", "s.kind"),
            ("models", "r.model"),
            ("triggers", "r.trigger"),
        ):
            values = getattr(self, name)
            if values:
                params[name] = list(values)
                conds.append(f"{column} = ANY(:{name})")
        return "".join(f" AND {c}" for c in conds)


@dataclass
class Summary:
    run_count: int = 0
    session_count: int = 0
    failed_runs: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost: Decimal | None = None
    duration_p50_ms: float | None = None
    duration_p95_ms: float | None = None
    review_count: int = 0
    accomplished_count: int = 0
    heartbeat_runs: int = 0
    heartbeat_cost: Decimal | None = None
    sessions_by_status: dict[str, int] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int | None:
        parts = [
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
        ]
        known = [p for p in parts if p is not None]
        return sum(known) if known else None

    @property
    def success_rate(self) -> float | None:
        return self.accomplished_count / self.review_count if self.review_count else None


_RUN_AGG = """
    count(*) AS run_count,
    count(DISTINCT r.session_id) AS session_count,
    count(*) FILTER (WHERE r.status = 'failed') AS failed_runs,
    sum(r.input_tokens) AS input_tokens,
    sum(r.output_tokens) AS output_tokens,
    sum(r.cache_read_tokens) AS cache_read_tokens,
    sum(r.cache_write_tokens) AS cache_write_tokens,
    sum(r.cost) AS cost,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms) AS duration_p50_ms,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms) AS duration_p95_ms,
    count(*) FILTER (WHERE r.trigger = 'heartbeat') AS heartbeat_runs,
    sum(r.cost) FILTER (WHERE r.trigger = 'heartbeat') AS heartbeat_cost
"""

# Latest review per session (human wins), attributed to the session's start.
_LATEST_REVIEWS = """
    SELECT DISTINCT ON (rv.session_id) rv.session_id, rv.run_id, rv.verdict
    FROM reviews rv
    JOIN sessions s ON s.id = rv.session_id
    WHERE s.started_at >= :start AND s.started_at < :end
    ORDER BY rv.session_id, (rv.reviewer_kind = 'human') DESC, rv.created_at DESC, rv.id DESC
"""


def _needs_sessions(f: MetricFilter, group: str | None = None) -> bool:
    return bool(f.kinds) or group == "kind"


async def summary(
    db: AsyncSession, start: datetime, end: datetime, f: MetricFilter, *, by_agent: bool = False
) -> dict[str | None, Summary]:
    """One summary (key None), or one per agent when ``by_agent``."""
    params: dict[str, Any] = {"start": start, "end": end}
    where = f.sql(params)
    key = "r.agent_id" if by_agent else "NULL::text"
    runs = await db.execute(
        text(
            f"SELECT {key} AS k, {_RUN_AGG} FROM runs r JOIN sessions s ON s.id = r.session_id "
            f"WHERE r.started_at >= :start AND r.started_at < :end{where} GROUP BY 1"
        ),
        params,
    )
    out: dict[str | None, Summary] = {}
    for row in runs.mappings():
        values = dict(row)
        k = values.pop("k")
        out[k] = Summary(**values)
    skey = "s.agent_id" if by_agent else "NULL::text"
    sconds = f.sql(params).replace("r.agent_id", "s.agent_id").replace("r.model", "s.model")
    sconds = sconds.replace(" AND r.trigger = ANY(:triggers)", "")
    statuses = await db.execute(
        text(
            f"SELECT {skey} AS k, s.status, count(*) AS n FROM sessions s "
            f"WHERE s.started_at >= :start AND s.started_at < :end{sconds} GROUP BY 1, 2"
        ),
        params,
    )
    for k, status, n in statuses.all():
        out.setdefault(k, Summary()).sessions_by_status[status] = n
    reviews = await db.execute(
        text(
            f"SELECT {skey} AS k, count(*) AS n, count(*) FILTER (WHERE lr.verdict = 'accomplished') AS ok "
            f"FROM ({_LATEST_REVIEWS}) lr JOIN sessions s ON s.id = lr.session_id "
            f"WHERE true{sconds} GROUP BY 1"
        ),
        params,
    )
    for k, n, ok in reviews.all():
        s = out.setdefault(k, Summary())
        s.review_count, s.accomplished_count = n, ok
    return out


@dataclass
class SeriesPoint:
    bucket_start: datetime
    group: str
    run_count: int
    failed_runs: int
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    cost: Decimal | None
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    review_count: int = 0
    accomplished_count: int = 0

    @property
    def total_tokens(self) -> int | None:
        parts = [
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
        ]
        known = [p for p in parts if p is not None]
        return sum(known) if known else None

    @property
    def success_rate(self) -> float | None:
        return self.accomplished_count / self.review_count if self.review_count else None


def bucket_count(start: datetime, end: datetime, bucket: str) -> int:
    return int((end - start) / BUCKETS[bucket]) + 1


async def series(
    db: AsyncSession, group_by: str, bucket: str, start: datetime, end: datetime, f: MetricFilter
) -> list[SeriesPoint]:
    params: dict[str, Any] = {"start": start, "end": end, "bucket": bucket}
    where = f.sql(params)
    group = GROUPS[group_by]
    join = " JOIN sessions s ON s.id = r.session_id" if _needs_sessions(f, group_by) else ""
    rows = await db.execute(
        text(
            f"SELECT date_trunc(:bucket, r.started_at, 'UTC') AS bucket_start, {group} AS grp, "
            "count(*) AS run_count, count(*) FILTER (WHERE r.status = 'failed') AS failed_runs, "
            "sum(r.input_tokens) AS input_tokens, sum(r.output_tokens) AS output_tokens, "
            "sum(r.cache_read_tokens) AS cache_read_tokens, "
            "sum(r.cache_write_tokens) AS cache_write_tokens, sum(r.cost) AS cost, "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms) AS duration_p50_ms, "
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms) AS duration_p95_ms "
            f"FROM runs r{join} WHERE r.started_at >= :start AND r.started_at < :end{where} "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        params,
    )
    points = {
        (r.bucket_start, str(r.grp)): SeriesPoint(
            bucket_start=r.bucket_start,
            group=str(r.grp),
            run_count=r.run_count,
            failed_runs=r.failed_runs,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cache_read_tokens=r.cache_read_tokens,
            cache_write_tokens=r.cache_write_tokens,
            cost=r.cost,
            duration_p50_ms=r.duration_p50_ms,
            duration_p95_ms=r.duration_p95_ms,
        )
        for r in rows
    }
    review_group = {
        "agent": "s.agent_id",
        "model": "coalesce(s.model, 'unknown')",
        "kind": "s.kind",
        "trigger": "coalesce(rr.trigger, 'spawn')",
    }[group_by]
    sconds = where.replace("r.agent_id", "s.agent_id").replace("r.model", "s.model")
    sconds = sconds.replace("r.trigger", "coalesce(rr.trigger, 'spawn')")
    reviews = await db.execute(
        text(
            f"SELECT date_trunc(:bucket, s.started_at, 'UTC') AS b, {review_group} AS grp, "
            "count(*) AS n, count(*) FILTER (WHERE lr.verdict = 'accomplished') AS ok "
            f"FROM ({_LATEST_REVIEWS}) lr JOIN sessions s ON s.id = lr.session_id "
            f"LEFT JOIN runs rr ON rr.id = lr.run_id WHERE true{sconds} GROUP BY 1, 2"
        ),
        params,
    )
    for b, grp, n, ok in reviews.all():
        point = points.get((b, str(grp)))
        if point is None:
            point = points[(b, str(grp))] = SeriesPoint(
                bucket_start=b, group=str(grp), run_count=0, failed_runs=0, input_tokens=None,
                output_tokens=None, cache_read_tokens=None, cache_write_tokens=None, cost=None,
                duration_p50_ms=None, duration_p95_ms=None,
            )  # fmt: skip
        point.review_count, point.accomplished_count = n, ok
    return sorted(points.values(), key=lambda p: (p.bucket_start, p.group))


async def verdict_series(
    db: AsyncSession, bucket: str, start: datetime, end: datetime, f: MetricFilter
) -> list[tuple[datetime, str, int]]:
    """Counts of latest-review verdicts per bucket of the reviewed session's start."""
    params: dict[str, Any] = {"start": start, "end": end, "bucket": bucket}
    sconds = f.sql(params).replace("r.agent_id", "s.agent_id").replace("r.model", "s.model")
    sconds = sconds.replace(" AND r.trigger = ANY(:triggers)", "")
    rows = await db.execute(
        text(
            "SELECT date_trunc(:bucket, s.started_at, 'UTC') AS b, lr.verdict, count(*) "
            f"FROM ({_LATEST_REVIEWS}) lr JOIN sessions s ON s.id = lr.session_id "
            f"WHERE true{sconds} GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        params,
    )
    return [(b, v, n) for b, v, n in rows.all()]


async def duration_histogram(
    db: AsyncSession, start: datetime, end: datetime, f: MetricFilter
) -> list[tuple[int, int | None, int]]:
    """(lower ms, upper ms or None, run count) for fixed, roughly logarithmic buckets."""
    params: dict[str, Any] = {"start": start, "end": end, "edges": DURATION_EDGES_MS}
    where = f.sql(params)
    join = " JOIN sessions s ON s.id = r.session_id" if _needs_sessions(f) else ""
    rows = await db.execute(
        text(
            "SELECT width_bucket(r.duration_ms, CAST(:edges AS bigint[])) AS i, count(*) "
            f"FROM runs r{join} WHERE r.started_at >= :start AND r.started_at < :end "
            f"AND r.duration_ms IS NOT NULL{where} GROUP BY 1"
        ),
        params,
    )
    counts = dict(rows.all())
    edges = [0, *DURATION_EDGES_MS]
    return [
        (edges[i], DURATION_EDGES_MS[i] if i < len(DURATION_EDGES_MS) else None, counts.get(i, 0))
        for i in range(len(edges))
    ]
