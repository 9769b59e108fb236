"""Tool analytics over ``tool_calls``: per-tool summary, time series, error groups.

Error rate is errors / calls with a result (``n``); a pending call (no result yet) counts as a
call but is in neither. Durations are result time - call time; percentiles are exact
(``percentile_cont``) over the calls with a result. Every query is bounded by a time range on
``called_at`` (the covering index ``ix_tool_calls_called``) and a row limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.metrics import BUCKETS

GROUPS = {"tool": "t.tool_name", "model": "coalesce(t.model, 'unknown')", "agent": "t.agent_id"}
TREND_BINS = 12  # an error group's trend: counts in 12 equal slices of the range


@dataclass
class ToolFilter:
    agent_ids: list[str] | None = None
    models: list[str] | None = None
    kinds: list[str] | None = None
    tools: list[str] | None = None
    # Only tools that failed at least once in the range (summary, series) / failed calls.
    failing_only: bool = False

    def sql(self, params: dict[str, Any], start: datetime, end: datetime) -> str:
        """``WHERE`` conditions over ``tool_calls t`` in [start, end)."""
        params.update(start=start, end=end)
        conds = ["t.called_at >= :start", "t.called_at < :end"]
        for name, column in (
            ("agent_ids", "t.agent_id"),
            ("models", "t.model"),
            ("kinds", "t.kind"),
            ("tools", "t.tool_name"),
        ):
            values = getattr(self, name)
            if values:
                params[name] = list(values)
                conds.append(f"{column} = ANY(:{name})")
        if self.failing_only:
            # The same range and filters, errors only: the tools that failed.
            inner = " AND ".join(c.replace("t.", "f.") for c in conds)
            conds.append(
                f"t.tool_name IN (SELECT f.tool_name FROM tool_calls f WHERE {inner} "
                "AND f.is_error)"
            )
        return " AND ".join(conds)


@dataclass
class ToolStats:
    calls: int = 0
    sessions: int = 0
    completed: int = 0  # calls with a result: the n of the error rate
    errors: int = 0
    pending: int = 0
    duration_p50_ms: float | None = None
    duration_p95_ms: float | None = None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.completed if self.completed else None


_STATS = """
    count(*) AS calls,
    count(*) FILTER (WHERE t.result_at IS NOT NULL) AS completed,
    count(*) FILTER (WHERE t.is_error) AS errors,
    count(*) FILTER (WHERE t.result_at IS NULL) AS pending,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY t.duration_ms) AS p50,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY t.duration_ms) AS p95
"""


def _stats(row: Any, sessions: int = 0) -> ToolStats:
    return ToolStats(
        calls=row.calls,
        sessions=sessions,
        completed=row.completed,
        errors=row.errors,
        pending=row.pending,
        duration_p50_ms=row.p50,
        duration_p95_ms=row.p95,
    )


@dataclass
class SummaryRow:
    tool: str
    group: str | None  # the split's value (a model, an agent); None when not split
    stats: ToolStats


async def summary(
    db: AsyncSession,
    start: datetime,
    end: datetime,
    f: ToolFilter,
    limit: int,
    split_by: str | None = None,
) -> list[SummaryRow]:
    """Per tool (or per tool and model/agent: the tool x model comparison), most called first."""
    params: dict[str, Any] = {"limit": limit}
    where = f.sql(params, start, end)
    split = GROUPS[split_by] if split_by and split_by != "tool" else "NULL::text"
    rows = await db.execute(
        text(
            f"SELECT t.tool_name AS tool, {split} AS grp, "
            f"count(DISTINCT t.session_id) AS sessions, {_STATS} "
            f"FROM tool_calls t WHERE {where} GROUP BY 1, 2 "
            "ORDER BY calls DESC, tool, grp LIMIT :limit"
        ),
        params,
    )
    return [SummaryRow(r.tool, r.grp, _stats(r, r.sessions)) for r in rows]


@dataclass
class SeriesPoint:
    bucket_start: datetime
    group: str
    stats: ToolStats


async def series(
    db: AsyncSession,
    group_by: str,
    bucket: str,
    start: datetime,
    end: datetime,
    f: ToolFilter,
    groups: int,
) -> list[SeriesPoint]:
    """Calls, errors and durations per bucket for the ``groups`` most-called groups."""
    params: dict[str, Any] = {"bucket": bucket, "groups": groups}
    where = f.sql(params, start, end)
    column = GROUPS[group_by]
    rows = await db.execute(
        text(
            f"""
            WITH top AS (
                SELECT {column} AS grp FROM tool_calls t WHERE {where}
                GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT :groups)
            SELECT date_trunc(:bucket, t.called_at, 'UTC') AS b, {column} AS grp, {_STATS}
            FROM tool_calls t WHERE {where} AND {column} IN (SELECT grp FROM top)
            GROUP BY 1, 2 ORDER BY 1, 2
            """
        ),
        params,
    )
    return [SeriesPoint(r.b, r.grp, _stats(r)) for r in rows]


def bucket_count(start: datetime, end: datetime, bucket: str) -> int:
    return int((end - start) / BUCKETS[bucket]) + 1


@dataclass
class ErrorGroup:
    tool: str
    fingerprint: str
    count: int
    sessions: int
    first_seen: datetime
    last_seen: datetime
    latest_text: str | None
    trend: list[int] = field(default_factory=list)


async def error_groups(
    db: AsyncSession, tool: str | None, start: datetime, end: datetime, f: ToolFilter, limit: int
) -> list[ErrorGroup]:
    """Failed calls grouped by (tool, fingerprint), the most frequent first."""
    params: dict[str, Any] = {"limit": limit, "bins": TREND_BINS}
    where = f.sql(params, start, end) + " AND t.is_error"
    if tool is not None:
        params["tool"] = tool
        where += " AND t.tool_name = :tool"
    rows = (
        await db.execute(
            text(
                f"""
                WITH g AS (
                    SELECT t.tool_name AS tool, coalesce(t.error_fingerprint, '') AS fp,
                        count(*) AS n, count(DISTINCT t.session_id) AS sessions,
                        min(t.called_at) AS first_seen, max(t.called_at) AS last_seen,
                        (array_agg(t.error_text ORDER BY t.called_at DESC, t.id DESC))[1]
                            AS latest_text
                    FROM tool_calls t WHERE {where}
                    GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT :limit)
                SELECT g.*, (
                    SELECT array_agg(coalesce(c.n, 0) ORDER BY s.i)
                    FROM generate_series(1, :bins) s(i) LEFT JOIN (
                        SELECT width_bucket(extract(epoch FROM t.called_at),
                            extract(epoch FROM CAST(:start AS timestamptz)),
                            extract(epoch FROM CAST(:end AS timestamptz)), :bins) AS i,
                            count(*) AS n
                        FROM tool_calls t WHERE {where} AND t.tool_name = g.tool
                            AND coalesce(t.error_fingerprint, '') = g.fp
                        GROUP BY 1) c ON c.i = s.i
                ) AS trend
                FROM g ORDER BY g.n DESC, g.tool, g.fp
                """
            ),
            params,
        )
    ).all()
    return [
        ErrorGroup(
            tool=r.tool,
            fingerprint=r.fp,
            count=r.n,
            sessions=r.sessions,
            first_seen=r.first_seen,
            last_seen=r.last_seen,
            latest_text=r.latest_text,
            trend=list(r.trend or []),
        )
        for r in rows
    ]
