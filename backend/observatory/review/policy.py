"""AI review policy: opt-in per agent (``review_policies``) and the jobs it enqueues.

Every completed/failed task session that ended after the agent's policy was switched on, and a
deterministic sample of its heartbeat runs (md5 of the provider run id < rate, so every worker
and every re-run picks the same ones). Switching on does not review the history: use
``observatory review --ai --since`` to backfill.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.review.models import ReviewPolicy
from observatory.settings import Settings


@dataclass(frozen=True)
class PolicyInfo:
    agent_id: str
    enabled: bool
    review_tasks: bool
    heartbeat_sample_rate: float | None  # None => settings.ai_heartbeat_sample_rate
    enabled_at: datetime
    updated_at: datetime


def _policy_info(p: ReviewPolicy) -> PolicyInfo:
    return PolicyInfo(
        p.agent_id, p.enabled, p.review_tasks, p.heartbeat_sample_rate, p.enabled_at, p.updated_at
    )


def heartbeat_sampled(provider_run_id: str, rate: float) -> bool:
    """Python twin of the SQL sampling predicate (see ``_SAMPLE``)."""
    h = int(hashlib.md5(provider_run_id.encode(), usedforsecurity=False).hexdigest()[:8], 16)
    return h / 2**32 < rate


_SAMPLE = "(('x' || substr(md5(r.provider_run_id), 1, 8))::bit(32)::bigint / 4294967296.0)"


async def set_review_policy(
    db: AsyncSession,
    agent_id: str,
    *,
    enabled: bool,
    review_tasks: bool = True,
    heartbeat_sample_rate: float | None = None,
    api_key_id: int | None = None,
) -> PolicyInfo:
    """Switch AI review on/off for an agent. Switching on (again) restarts ``enabled_at``: only
    work that ends from now on is enqueued automatically (use the CLI to backfill)."""
    if heartbeat_sample_rate is not None and not 0 <= heartbeat_sample_rate <= 1:
        raise ValueError("heartbeat_sample_rate must be between 0 and 1")
    policy = await db.get(ReviewPolicy, agent_id, with_for_update=True)
    now = datetime.now(UTC)
    if policy is None:
        policy = ReviewPolicy(agent_id=agent_id, enabled_at=now)
        db.add(policy)
    elif enabled and not policy.enabled:
        policy.enabled_at = now
    policy.enabled = enabled
    policy.review_tasks = review_tasks
    policy.heartbeat_sample_rate = heartbeat_sample_rate
    policy.updated_by_api_key_id = api_key_id
    policy.updated_at = now
    await db.flush()
    return _policy_info(policy)


async def list_review_policies(db: AsyncSession) -> list[PolicyInfo]:
    rows = await db.scalars(select(ReviewPolicy).order_by(ReviewPolicy.agent_id))
    return [_policy_info(p) for p in rows]


_ENQUEUE_TASKS = """
INSERT INTO review_jobs (session_id, run_id)
SELECT s.id, NULL FROM sessions s
JOIN review_policies p ON p.agent_id = s.agent_id AND p.enabled AND p.review_tasks
WHERE s.kind = 'task' AND s.status IN ('completed', 'failed', 'archived')
  AND s.ended_at IS NOT NULL AND s.ended_at >= p.enabled_at AND s.ended_at <= :settled
  AND NOT EXISTS (SELECT 1 FROM review_jobs j WHERE j.session_id = s.id AND j.run_id IS NULL)
  AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.session_id = s.id AND v.run_id IS NULL
                  AND v.reviewer_kind = 'ai')
ORDER BY s.ended_at LIMIT :limit
ON CONFLICT DO NOTHING
"""

_ENQUEUE_HEARTBEATS = f"""
INSERT INTO review_jobs (session_id, run_id)
SELECT r.session_id, r.id FROM runs r
JOIN review_policies p ON p.agent_id = r.agent_id AND p.enabled
WHERE r.trigger = 'heartbeat' AND r.status IN ('completed', 'failed')
  AND r.started_at >= p.enabled_at AND r.finished_at <= :settled
  AND {_SAMPLE} < coalesce(p.heartbeat_sample_rate, :default_rate)
  AND NOT EXISTS (SELECT 1 FROM review_jobs j WHERE j.session_id = r.session_id AND j.run_id = r.id)
  AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.run_id = r.id AND v.reviewer_kind = 'ai')
ORDER BY r.started_at LIMIT :limit
ON CONFLICT DO NOTHING
"""


async def enqueue_policy_jobs(
    db: AsyncSession,
    settings: Settings,
    *,
    now: datetime | None = None,
    settle: timedelta = timedelta(seconds=60),
    limit: int = 500,
) -> int:
    """Enqueue what the policies ask for; returns how many jobs were created. ``settle`` gives
    sync time to cache the final messages before a finished target is reviewed."""
    settled = (now or datetime.now(UTC)) - settle
    params = {
        "settled": settled,
        "limit": limit,
        "default_rate": settings.ai_heartbeat_sample_rate,
    }
    tasks = await db.execute(text(_ENQUEUE_TASKS), params)
    beats = await db.execute(text(_ENQUEUE_HEARTBEATS), params)
    return int(tasks.rowcount or 0) + int(beats.rowcount or 0)  # type: ignore[attr-defined]


_BACKFILL_TASKS = """
INSERT INTO review_jobs (session_id, run_id, requested_by_api_key_id)
SELECT s.id, NULL, :key FROM sessions s
WHERE s.kind = 'task' AND s.status IN ('completed', 'failed', 'archived')
  AND s.ended_at >= :since AND (CAST(:agent AS text) IS NULL OR s.agent_id = :agent)
  AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.session_id = s.id AND v.run_id IS NULL
                  AND v.reviewer_kind = 'ai')
ORDER BY s.ended_at LIMIT :limit
ON CONFLICT DO NOTHING RETURNING id
"""

_BACKFILL_HEARTBEATS = f"""
INSERT INTO review_jobs (session_id, run_id, requested_by_api_key_id)
SELECT r.session_id, r.id, :key FROM runs r
WHERE r.trigger = 'heartbeat' AND r.status IN ('completed', 'failed')
  AND r.started_at >= :since AND (CAST(:agent AS text) IS NULL OR r.agent_id = :agent)
  AND {_SAMPLE} < :rate
  AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.run_id = r.id AND v.reviewer_kind = 'ai')
ORDER BY r.started_at LIMIT :limit
ON CONFLICT DO NOTHING RETURNING id
"""


async def enqueue_since(
    db: AsyncSession,
    since: datetime,
    *,
    agent_id: str | None = None,
    heartbeat_sample_rate: float = 0.0,
    limit: int = 10_000,
    api_key_id: int | None = None,
) -> list[int]:
    """Backfill: enqueue finished task sessions since ``since`` (and a heartbeat sample) that
    have no AI review yet, whatever the policies say. Returns the new job ids; targets that
    already have an active job are left to it."""
    params = {"since": since, "agent": agent_id, "limit": limit, "key": api_key_id}
    ids = list((await db.scalars(text(_BACKFILL_TASKS), params)).all())
    if heartbeat_sample_rate > 0:
        rows = await db.scalars(
            text(_BACKFILL_HEARTBEATS), {**params, "rate": heartbeat_sample_rate}
        )
        ids += list(rows.all())
    return [int(i) for i in ids]
