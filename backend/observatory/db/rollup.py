"""The one writer of the sessions' roll-up columns (sort keys), computed from runs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_REFRESH = text(
    """
    UPDATE sessions s SET
        run_count = coalesce(r.run_count, 0),
        total_tokens = r.total_tokens,
        total_cost = r.total_cost,
        duration_ms = r.duration_ms,
        last_run_at = r.last_run_at
    FROM sessions s2
    LEFT JOIN LATERAL (
        SELECT count(*) AS run_count,
               sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)
                   + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0))
                 FILTER (WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL)
                 AS total_tokens,
               sum(cost) AS total_cost,
               sum(duration_ms) AS duration_ms,
               max(coalesce(finished_at, started_at)) AS last_run_at
        FROM runs WHERE runs.session_id = s2.id
    ) r ON true
    WHERE s.id = s2.id AND s2.id = ANY(:ids)
    """
)

REFRESH_ALL = text(
    """
    UPDATE sessions s SET
        run_count = r.run_count, total_tokens = r.total_tokens, total_cost = r.total_cost,
        duration_ms = r.duration_ms, last_run_at = r.last_run_at
    FROM (
        SELECT session_id, count(*) AS run_count,
               sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)
                   + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0))
                 FILTER (WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL)
                 AS total_tokens,
               sum(cost) AS total_cost, sum(duration_ms) AS duration_ms,
               max(coalesce(finished_at, started_at)) AS last_run_at
        FROM runs GROUP BY session_id
    ) r
    WHERE s.id = r.session_id
    """
)


async def refresh_session_totals(
    conn: AsyncConnection | AsyncSession, session_ids: Sequence[int] | None
) -> None:
    """Recompute roll-ups for the given sessions (all sessions when ``session_ids`` is None)."""
    if session_ids is None:
        await conn.execute(REFRESH_ALL)
    elif session_ids:
        await conn.execute(_REFRESH, {"ids": list(session_ids)})
