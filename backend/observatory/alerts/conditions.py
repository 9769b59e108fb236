"""What each rule kind measures: one observation (value, sample size) per subject.

A subject missing from the observations has no evidence of trouble (its alert resolves); one
with ``sample < rule.min_sample`` keeps whatever state it has (too little data to decide).
Heartbeat cadence and stalled tasks reuse the pattern analyses rather than restating them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.alerts.models import AlertRule, AlertRuleKind
from observatory.improve.patterns import PatternConfig, missed_cadence, stalled_tasks


@dataclass(frozen=True)
class Observation:
    subject: str
    agent_id: str | None
    value: float
    sample: int
    message: str


Measure = Callable[[AsyncSession, AlertRule, datetime], Awaitable[list[Observation]]]


def _resolve_level(rule: AlertRule) -> float:
    return float(rule.threshold) * rule.resolve_ratio


async def _heartbeat(db: AsyncSession, rule: AlertRule, now: datetime) -> list[Observation]:
    # Sessions listed at the resolve level carry their value; the rest are on time.
    cfg = dataclasses.replace(
        PatternConfig(),
        cadence_tolerance=_resolve_level(rule),
        min_heartbeats_for_cadence=max(3, rule.min_sample),
    )
    since = now - timedelta(seconds=rule.window_s)
    out = []
    for m in await missed_cadence(db, since=since, now=now, agent_id=rule.agent_id, config=cfg):
        if m.overdue_by is None:
            continue
        silent = (now - m.last_heartbeat_at).total_seconds()
        every = m.expected_interval.total_seconds()
        out.append(
            Observation(
                f"session:{m.session_id}",
                m.agent_id,
                silent / every,
                rule.min_sample,
                f"{m.agent_id}: main session silent for {silent / 60:.0f} min "
                f"(heartbeat usually every {every / 60:.0f} min)",
            )
        )
    return out


async def _stalled(db: AsyncSession, rule: AlertRule, now: datetime) -> list[Observation]:
    cfg = dataclasses.replace(PatternConfig(), stall_after=timedelta(minutes=_resolve_level(rule)))
    return [
        Observation(
            f"session:{s.session_id}",
            s.agent_id,
            s.idle_for.total_seconds() / 60,
            rule.min_sample,
            f"{s.agent_id}: task {s.title or s.session_id!r} idle for "
            f"{s.idle_for.total_seconds() / 60:.0f} min",
        )
        for s in await stalled_tasks(db, now=now, agent_id=rule.agent_id, config=cfg)
    ]


_AGENT = "(CAST(:agent AS text) IS NULL OR agent_id = :agent)"


def _span(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400} d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


async def _failure_rate(db: AsyncSession, rule: AlertRule, now: datetime) -> list[Observation]:
    rows = await db.execute(
        text(
            "SELECT agent_id, count(*) AS n, count(*) FILTER (WHERE status = 'failed') AS failed "
            f"FROM runs WHERE started_at >= :since AND started_at < :now AND status <> 'running' "
            f"AND {_AGENT} GROUP BY agent_id"
        ),
        {"since": now - timedelta(seconds=rule.window_s), "now": now, "agent": rule.agent_id},
    )
    return [
        Observation(
            f"agent:{r.agent_id}",
            r.agent_id,
            r.failed / r.n,
            r.n,
            f"{r.agent_id}: {r.failed} of {r.n} runs failed in the last "
            f"{_span(rule.window_s)} ({100 * r.failed / r.n:.0f}%)",
        )
        for r in rows
    ]


async def _daily_cost(db: AsyncSession, rule: AlertRule, now: datetime) -> list[Observation]:
    # The hourly roll-up (kept exact by triggers) answers "since midnight" from <= 24 rows/agent.
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = await db.execute(
        text(
            "SELECT agent_id, sum(cost) AS cost, sum(cost_runs) AS n FROM run_rollups "
            f"WHERE bucket >= :day AND {_AGENT} GROUP BY agent_id HAVING sum(cost_runs) > 0"
        ),
        {"day": day, "agent": rule.agent_id},
    )
    return [
        Observation(
            f"agent:{r.agent_id}",
            r.agent_id,
            float(r.cost),
            int(r.n),
            f"{r.agent_id}: ${r.cost:.2f} spent today (budget ${rule.threshold:.2f})",
        )
        for r in rows
    ]


async def _sync_stale(db: AsyncSession, rule: AlertRule, now: datetime) -> list[Observation]:
    rows = await db.execute(
        text(
            "SELECT id, name, circuit_state, coalesce(last_success_at, created_at) AS ok_at "
            "FROM sync_sources WHERE enabled"
        )
    )
    out = []
    for r in rows:
        age = (now - r.ok_at).total_seconds()
        circuit_open = r.circuit_state == "open"
        value = max(age, float(rule.threshold)) if circuit_open else age
        why = "circuit open" if circuit_open else f"no successful sync for {age / 60:.0f} min"
        out.append(Observation(f"source:{r.id}", None, value, 1, f"sync source {r.name}: {why}"))
    return out


_DISAGREEMENT = """
WITH human AS (
  SELECT DISTINCT ON (session_id, coalesce(run_id, 0)) session_id, run_id, verdict
  FROM reviews WHERE reviewer_kind = 'human'
  ORDER BY session_id, coalesce(run_id, 0), created_at DESC, id DESC
), ai AS (
  SELECT DISTINCT ON (session_id, coalesce(run_id, 0)) session_id, run_id, verdict
  FROM reviews WHERE reviewer_kind = 'ai' AND created_at >= :since AND created_at < :now
  ORDER BY session_id, coalesce(run_id, 0), created_at DESC, id DESC
)
SELECT s.agent_id, count(*) AS n, count(*) FILTER (WHERE h.verdict <> a.verdict) AS differ
FROM ai a
JOIN human h ON h.session_id = a.session_id AND coalesce(h.run_id, 0) = coalesce(a.run_id, 0)
JOIN sessions s ON s.id = a.session_id
WHERE CAST(:agent AS text) IS NULL OR s.agent_id = :agent
GROUP BY s.agent_id
"""


async def _disagreement(db: AsyncSession, rule: AlertRule, now: datetime) -> list[Observation]:
    rows = await db.execute(
        text(_DISAGREEMENT),
        {"since": now - timedelta(seconds=rule.window_s), "now": now, "agent": rule.agent_id},
    )
    return [
        Observation(
            f"agent:{r.agent_id}",
            r.agent_id,
            r.differ / r.n,
            r.n,
            f"{r.agent_id}: AI and human verdicts differ on {r.differ} of {r.n} reviews",
        )
        for r in rows
    ]


async def _tool_error_rate(db: AsyncSession, rule: AlertRule, now: datetime) -> list[Observation]:
    # Pending calls (no result yet) are in neither count; each tool of each agent is a subject.
    rows = await db.execute(
        text(
            "SELECT agent_id, tool_name, count(*) AS n, count(*) FILTER (WHERE is_error) AS failed "
            "FROM tool_calls WHERE called_at >= :since AND called_at < :now "
            f"AND result_at IS NOT NULL AND {_AGENT} GROUP BY agent_id, tool_name"
        ),
        {"since": now - timedelta(seconds=rule.window_s), "now": now, "agent": rule.agent_id},
    )
    return [
        Observation(
            f"tool:{r.agent_id}:{r.tool_name}",
            r.agent_id,
            r.failed / r.n,
            r.n,
            f"{r.agent_id}: {r.failed} of {r.n} {r.tool_name} calls failed in the last "
            f"{_span(rule.window_s)} ({100 * r.failed / r.n:.0f}%)",
        )
        for r in rows
    ]


MEASURES: dict[AlertRuleKind, Measure] = {
    AlertRuleKind.HEARTBEAT_MISSED: _heartbeat,
    AlertRuleKind.TASK_STALLED: _stalled,
    AlertRuleKind.FAILURE_RATE: _failure_rate,
    AlertRuleKind.DAILY_COST: _daily_cost,
    AlertRuleKind.SYNC_STALE: _sync_stale,
    AlertRuleKind.DISAGREEMENT: _disagreement,
    AlertRuleKind.TOOL_ERROR_RATE: _tool_error_rate,
}
