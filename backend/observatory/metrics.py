"""Metrics are aggregate queries over runs (no metrics table): summaries, time series,
verdict mix and duration distribution, for a bounded time range."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.db.models import HIST_BUCKETS, HIST_COLUMNS, ROLLUP_SUMS

T = TypeVar("T")

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


# Where each filter dimension lives, per source of rows.
RUN_COLUMNS: dict[str, str | None] = {
    "agent_ids": "r.agent_id", "kinds": "s.kind", "models": "r.model", "triggers": "r.trigger",
}  # fmt: skip
ROLLUP_COLUMNS: dict[str, str | None] = {
    "agent_ids": "rr.agent_id", "kinds": "rr.kind", "models": "nullif(rr.model, '')",
    "triggers": "rr.trigger",
}  # fmt: skip
SESSION_COLUMNS: dict[str, str | None] = {
    "agent_ids": "s.agent_id", "kinds": "s.kind", "models": "s.model", "triggers": None,
}  # fmt: skip


@dataclass
class MetricFilter:
    agent_ids: list[str] | None = None
    kinds: list[str] | None = None
    models: list[str] | None = None
    triggers: list[str] | None = None

    def sql(self, params: dict[str, Any], columns: dict[str, str | None] | None = None) -> str:
        """`` AND …`` conditions over the columns that hold each dimension (defaults: runs ``r``
        joined to sessions ``s``); a dimension mapped to None is not filtered on."""
        cols = {**RUN_COLUMNS, **(columns or {})}
        conds = []
        for name in ("agent_ids", "kinds", "models", "triggers"):
            values = getattr(self, name)
            column = cols[name]
            if values and column is not None:
                params[name] = list(values)
                conds.append(f"{column} = ANY(:{name})")
        return "".join(f" AND {c}" for c in conds)


HIST_BASE_MS = 50.0
HIST_RATIO = 1.5
_SUMS = ROLLUP_SUMS
_HIST = HIST_COLUMNS


def _raw_aggregates() -> str:
    """Raw runs aggregated into the roll-up's shape (for the partial hours at range edges)."""
    parts = [
        "count(*)",
        "count(*) FILTER (WHERE r.status = 'failed')",
        "count(*) FILTER (WHERE r.input_tokens IS NOT NULL OR r.output_tokens IS NOT NULL)",
        "coalesce(sum(r.input_tokens), 0)",
        "coalesce(sum(r.output_tokens), 0)",
        "coalesce(sum(r.cache_read_tokens), 0)",
        "coalesce(sum(r.cache_write_tokens), 0)",
        "count(r.cost)",
        "coalesce(sum(r.cost), 0)",
        "count(r.duration_ms)",
    ]
    parts += [f"count(*) FILTER (WHERE r.hb = {i})" for i in range(HIST_BUCKETS)]
    return ", ".join(f"{expr} AS {name}" for expr, name in zip(parts, _SUMS + _HIST, strict=True))


_RAW_AGGREGATES = _raw_aggregates()
# sum(bigint) is numeric in PostgreSQL: cast back so counts stay ints.
_ROLLUP_SUMS = ", ".join(
    f"sum({c}) AS {c}" if c == "cost" else f"sum({c})::bigint AS {c}" for c in _SUMS + _HIST
)


def percentile(hist: list[int], q: float) -> float | None:
    """Quantile from the log-bucket histogram, interpolated geometrically within a bucket."""
    total = sum(hist)
    if total <= 0:
        return None
    target = q * total
    seen = 0.0
    for i, n in enumerate(hist):
        if n and seen + n >= target:
            frac = (target - seen) / n
            if i == 0:
                return HIST_BASE_MS * frac
            lo = HIST_BASE_MS * HIST_RATIO ** (i - 1)
            if i == len(hist) - 1:
                return lo
            return float(lo * HIST_RATIO**frac)
        seen += n
    return None


@dataclass
class Aggregate:
    """Run aggregates in the roll-up's shape; adds up exactly across hours and fragments."""

    run_count: int = 0
    failed_runs: int = 0
    usage_runs: int = 0
    input_tokens_sum: int = 0
    output_tokens_sum: int = 0
    cache_read_tokens_sum: int = 0
    cache_write_tokens_sum: int = 0
    cost_runs: int = 0
    cost_sum: Decimal = Decimal(0)
    duration_runs: int = 0
    hist: list[int] = field(default_factory=lambda: [0] * HIST_BUCKETS)

    def add(self, row: Any) -> None:
        self.run_count += row.run_count
        self.failed_runs += row.failed_runs
        self.usage_runs += row.usage_runs
        self.input_tokens_sum += row.input_tokens
        self.output_tokens_sum += row.output_tokens
        self.cache_read_tokens_sum += row.cache_read_tokens
        self.cache_write_tokens_sum += row.cache_write_tokens
        self.cost_runs += row.cost_runs
        self.cost_sum += row.cost
        self.duration_runs += row.duration_runs
        for i in range(HIST_BUCKETS):
            self.hist[i] += getattr(row, f"h{i}")

    # Null, never zero, when no run reported the value.
    def _known(self, value: int) -> int | None:
        return value if self.usage_runs else None

    @property
    def input_tokens(self) -> int | None:
        return self._known(self.input_tokens_sum)

    @property
    def output_tokens(self) -> int | None:
        return self._known(self.output_tokens_sum)

    @property
    def cache_read_tokens(self) -> int | None:
        return self._known(self.cache_read_tokens_sum)

    @property
    def cache_write_tokens(self) -> int | None:
        return self._known(self.cache_write_tokens_sum)

    @property
    def total_tokens(self) -> int | None:
        return self._known(
            self.input_tokens_sum
            + self.output_tokens_sum
            + self.cache_read_tokens_sum
            + self.cache_write_tokens_sum
        )

    @property
    def cost(self) -> Decimal | None:
        return self.cost_sum if self.cost_runs else None

    @property
    def duration_p50_ms(self) -> float | None:
        return percentile(self.hist, 0.5)

    @property
    def duration_p95_ms(self) -> float | None:
        return percentile(self.hist, 0.95)


def _hour_floor(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _split(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Whole hours [rs, re) come from the roll-up; [start, rs) and [re, end) from raw runs."""
    rs = _hour_floor(start)
    if rs < start:
        rs += timedelta(hours=1)
    re = _hour_floor(end)
    if rs >= re:
        return end, end
    return rs, re


_GROUP_ROLLUP = {
    "agent": "rr.agent_id",
    "model": "coalesce(nullif(rr.model, ''), 'unknown')",
    "kind": "rr.kind",
    "trigger": "rr.trigger",
    "none": "NULL::text",
}
_GROUP_RAW = {**GROUPS, "none": "NULL::text"}


async def aggregate(
    db: AsyncSession,
    start: datetime,
    end: datetime,
    f: MetricFilter,
    *,
    group_by: str = "none",
    bucket: str | None = None,
) -> dict[tuple[datetime | None, str | None], Aggregate]:
    """Run aggregates over [start, end) keyed by (bucket start or None, group or None)."""
    rs, re = _split(start, end)
    params: dict[str, Any] = {"start": start, "end": end, "rs": rs, "re": re}
    if bucket:
        params["bucket"] = bucket
    raw_where = f.sql(params)
    rollup_where = f.sql(params, ROLLUP_COLUMNS)
    b_roll = "date_trunc(:bucket, rr.bucket, 'UTC')" if bucket else "NULL::timestamptz"
    b_raw = "date_trunc(:bucket, r.started_at, 'UTC')" if bucket else "NULL::timestamptz"
    out: dict[tuple[datetime | None, str | None], Aggregate] = {}
    rollup = await db.execute(
        text(
            f"SELECT {b_roll} AS b, {_GROUP_ROLLUP[group_by]} AS grp, {_ROLLUP_SUMS} "
            f"FROM run_rollups rr WHERE rr.bucket >= :rs AND rr.bucket < :re{rollup_where} "
            "GROUP BY 1, 2"
        ),
        params,
    )
    for row in rollup:
        out.setdefault((row.b, row.grp), Aggregate()).add(row)
    if rs == start and re == end:
        return out  # hour-aligned: no partial hours to read from runs
    raw = await db.execute(
        text(
            f"SELECT {b_raw} AS b, {_GROUP_RAW[group_by]} AS grp, {_RAW_AGGREGATES} "
            "FROM (SELECT *, observatory_hist_bucket(duration_ms) AS hb FROM runs) r "
            "JOIN sessions s ON s.id = r.session_id "
            "WHERE ((r.started_at >= :start AND r.started_at < :rs) "
            f"OR (r.started_at >= :re AND r.started_at < :end)){raw_where} GROUP BY 1, 2"
        ),
        params,
    )
    for row in raw:
        out.setdefault((row.b, row.grp), Aggregate()).add(row)
    return out


@dataclass
class Summary:
    runs: Aggregate = field(default_factory=Aggregate)
    heartbeats: Aggregate = field(default_factory=Aggregate)
    review_count: int = 0
    accomplished_count: int = 0
    sessions_by_status: dict[str, int] = field(default_factory=dict)

    @property
    def session_count(self) -> int:
        return sum(self.sessions_by_status.values())

    @property
    def success_rate(self) -> float | None:
        return self.accomplished_count / self.review_count if self.review_count else None


def _needs_sessions(f: MetricFilter, group: str | None = None) -> bool:
    return bool(f.kinds) or group == "kind"


async def _own(db: AsyncSession, fn: Callable[..., Awaitable[T]], *args: Any, **kw: Any) -> T:
    """Run ``fn`` on a session of its own, so independent queries can run in parallel."""
    async with AsyncSession(db.bind) as own:
        return await fn(own, *args, **kw)


async def _session_rows(
    db: AsyncSession, start: datetime, end: datetime, f: MetricFilter, by_agent: bool
) -> list[tuple[Any, ...]]:
    """Sessions started in range by status, with their latest review (kept on the session)."""
    params: dict[str, Any] = {"start": start, "end": end}
    sconds = f.sql(params, SESSION_COLUMNS)
    skey = "s.agent_id" if by_agent else "NULL::text"
    rows = await db.execute(
        text(
            f"SELECT {skey} AS k, s.status, count(*) AS n, count(s.latest_verdict) AS reviewed, "
            "count(*) FILTER (WHERE s.latest_verdict = 'accomplished') AS ok FROM sessions s "
            f"WHERE s.started_at >= :start AND s.started_at < :end{sconds} GROUP BY 1, 2"
        ),
        params,
    )
    return [tuple(r) for r in rows.all()]


async def summary(
    db: AsyncSession, start: datetime, end: datetime, f: MetricFilter, *, by_agent: bool = False
) -> dict[str | None, Summary]:
    """One summary (key None), or one per agent when ``by_agent``."""
    group = "agent" if by_agent else "none"
    hb = MetricFilter(agent_ids=f.agent_ids, kinds=f.kinds, models=f.models, triggers=["heartbeat"])
    with_heartbeats = not f.triggers or "heartbeat" in f.triggers
    runs, heartbeats, sessions = await asyncio.gather(
        _own(db, aggregate, start, end, f, group_by=group),
        _own(db, aggregate, start, end, hb, group_by=group) if with_heartbeats else _nothing(),
        _own(db, _session_rows, start, end, f, by_agent),
    )
    out: dict[str | None, Summary] = {}
    for (_b, grp), agg in runs.items():
        out.setdefault(grp, Summary()).runs = agg
    for (_b, grp), agg in heartbeats.items():
        out.setdefault(grp, Summary()).heartbeats = agg
    for k, status, n, reviewed, ok in sessions:
        summary_ = out.setdefault(k, Summary())
        summary_.sessions_by_status[status] = n
        summary_.review_count += reviewed
        summary_.accomplished_count += ok
    return out


async def _nothing() -> dict[tuple[datetime | None, str | None], Aggregate]:
    return {}


@dataclass
class SeriesPoint:
    bucket_start: datetime
    group: str
    runs: Aggregate
    review_count: int = 0
    accomplished_count: int = 0

    @property
    def success_rate(self) -> float | None:
        return self.accomplished_count / self.review_count if self.review_count else None


def bucket_count(start: datetime, end: datetime, bucket: str) -> int:
    return int((end - start) / BUCKETS[bucket]) + 1


async def _series_reviews(
    db: AsyncSession, group_by: str, bucket: str, start: datetime, end: datetime, f: MetricFilter
) -> list[tuple[Any, ...]]:
    """Reviewed sessions per bucket and group (latest review: kept on the session)."""
    params: dict[str, Any] = {"start": start, "end": end, "bucket": bucket}
    review_group = {
        "agent": "s.agent_id",
        "model": "coalesce(s.model, 'unknown')",
        "kind": "s.kind",
        "trigger": "coalesce(rr.trigger, 'spawn')",
    }[group_by]
    # A run-level review (e.g. of a heartbeat) counts under that run's trigger.
    join = (
        " LEFT JOIN reviews rv ON rv.id = s.latest_review_id LEFT JOIN runs rr ON rr.id = rv.run_id"
        if group_by == "trigger" or f.triggers
        else ""
    )
    sconds = f.sql(params, {**SESSION_COLUMNS, "triggers": "coalesce(rr.trigger, 'spawn')"})
    async with AsyncSession(db.bind) as own:  # in parallel with the run aggregates
        rows = await own.execute(
            text(
                f"SELECT date_trunc(:bucket, s.started_at, 'UTC') AS b, {review_group} AS grp, "
                "count(*) AS n, count(*) FILTER (WHERE s.latest_verdict = 'accomplished') AS ok "
                f"FROM sessions s{join} WHERE s.latest_verdict IS NOT NULL "
                f"AND s.started_at >= :start AND s.started_at < :end{sconds} GROUP BY 1, 2"
            ),
            params,
        )
        return [tuple(r) for r in rows.all()]


async def series(
    db: AsyncSession, group_by: str, bucket: str, start: datetime, end: datetime, f: MetricFilter
) -> list[SeriesPoint]:
    found, reviews = await asyncio.gather(
        aggregate(db, start, end, f, group_by=group_by, bucket=bucket),
        _series_reviews(db, group_by, bucket, start, end, f),
    )
    points = {
        (b, str(grp)): SeriesPoint(bucket_start=b, group=str(grp), runs=agg)
        for (b, grp), agg in found.items()
        if b is not None
    }
    for b, grp, n, ok in reviews:
        point = points.get((b, str(grp)))
        if point is None:
            point = points[(b, str(grp))] = SeriesPoint(
                bucket_start=b, group=str(grp), runs=Aggregate()
            )
        point.review_count, point.accomplished_count = n, ok
    return sorted(points.values(), key=lambda p: (p.bucket_start, p.group))


async def verdict_series(
    db: AsyncSession, bucket: str, start: datetime, end: datetime, f: MetricFilter
) -> list[tuple[datetime, str, int]]:
    """Counts of latest-review verdicts per bucket of the reviewed session's start."""
    params: dict[str, Any] = {"start": start, "end": end, "bucket": bucket}
    sconds = f.sql(params, SESSION_COLUMNS)
    rows = await db.execute(
        text(
            "SELECT date_trunc(:bucket, s.started_at, 'UTC') AS b, s.latest_verdict, count(*) "
            "FROM sessions s WHERE s.latest_verdict IS NOT NULL "
            f"AND s.started_at >= :start AND s.started_at < :end{sconds} GROUP BY 1, 2 ORDER BY 1, 2"
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
    counts: dict[int, int] = {i: n for i, n in rows.all()}
    edges = [0, *DURATION_EDGES_MS]
    return [
        (edges[i], DURATION_EDGES_MS[i] if i < len(DURATION_EDGES_MS) else None, counts.get(i, 0))
        for i in range(len(edges))
    ]
