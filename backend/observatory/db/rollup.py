"""The one writer of the sessions' roll-up columns (sort keys), computed from runs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# A session's run totals (null tokens/cost: no run reported them).
_TOTALS = """
    count(*) AS run_count,
    sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)
        + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0))
      FILTER (WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL) AS total_tokens,
    sum(cost) AS total_cost,
    sum(duration_ms) AS duration_ms,
    max(coalesce(finished_at, started_at)) AS last_run_at
"""
_SET = """
    run_count = coalesce(r.run_count, 0), total_tokens = r.total_tokens,
    total_cost = r.total_cost, duration_ms = r.duration_ms, last_run_at = r.last_run_at
"""

# The given sessions, those without runs included (their totals go back to none).
_REFRESH = text(
    f"""
    UPDATE sessions s SET {_SET}
    FROM sessions s2
    LEFT JOIN LATERAL (SELECT {_TOTALS} FROM runs WHERE runs.session_id = s2.id) r ON true
    WHERE s.id = s2.id AND s2.id = ANY(:ids)
    """
)

# Every session with runs, in one grouped pass (bulk loads).
REFRESH_ALL = text(
    f"""
    UPDATE sessions s SET {_SET}
    FROM (SELECT session_id, {_TOTALS} FROM runs GROUP BY session_id) r
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
