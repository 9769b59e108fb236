"""Gauges that come from the database (queue depth, sync lag, alerts firing), refreshed by the
worker that evaluated alerts this pass: one query set per pass for the whole deployment."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.alerts.engine import PassResult
from observatory.db.enums import ReviewJobStatus
from observatory.monitoring import prom


async def refresh(db: AsyncSession, result: PassResult) -> None:
    if not result.evaluated:
        return
    prom.alerts_firing.set(result.firing)
    rows = await db.execute(text("SELECT status, count(*) FROM review_jobs GROUP BY status"))
    counts: dict[str, int] = {status: int(n) for status, n in rows}
    for status in ReviewJobStatus:
        prom.review_jobs.labels(status.value).set(counts.get(status.value, 0))
    lags = await db.execute(
        text(
            "SELECT name, extract(epoch FROM now() - coalesce(last_success_at, created_at)) "
            "FROM sync_sources WHERE enabled"
        )
    )
    for name, lag in lags:
        prom.sync_lag_seconds.labels(name).set(float(lag))
