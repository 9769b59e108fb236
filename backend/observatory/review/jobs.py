"""The AI review queue (``review_jobs``): on-demand requests, listing, claiming.

Jobs are claimed with ``FOR UPDATE SKIP LOCKED`` and committed as ``running`` before the model is
called, so no lock or connection is held during the (slow) call, and several workers — in any
number of processes — never claim the same job. The worker (``observatory.review.worker``)
re-checks its claim when it finishes, so a job requeued as stale meanwhile is not written twice.

Write functions flush but never commit: call them inside a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.db.models import ReviewJob, Run
from observatory.db.models import Session as SessionRow
from observatory.review.writes import TargetNotFound

MAX_ATTEMPTS = 3  # transient endpoint failures; a malformed answer fails at once (after 1 retry)
STALE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class JobInfo:
    id: int
    session_id: int
    run_id: int | None
    status: str
    attempts: int
    reason: str | None
    review_id: int | None
    requested_by_api_key_id: int | None
    created_at: datetime
    claimed_at: datetime | None
    finished_at: datetime | None
    created: bool = True  # False when request_ai_review found an active job for the target


def _job_info(job: ReviewJob, created: bool = True) -> JobInfo:
    return JobInfo(
        id=job.id,
        session_id=job.session_id,
        run_id=job.run_id,
        status=str(job.status),
        attempts=job.attempts,
        reason=job.reason,
        review_id=job.review_id,
        requested_by_api_key_id=job.requested_by_api_key_id,
        created_at=job.created_at,
        claimed_at=job.claimed_at,
        finished_at=job.finished_at,
        created=created,
    )


async def request_ai_review(
    db: AsyncSession,
    session_id: int,
    run_id: int | None = None,
    api_key_id: int | None = None,
) -> JobInfo:
    """Enqueue an on-demand review (claimed before policy jobs); returns the existing active job
    for the target if there is one (``created=False``). Raises ``TargetNotFound`` for an unknown session/run."""
    if await db.get(SessionRow, session_id) is None:
        raise TargetNotFound(f"session {session_id} not found")
    if run_id is not None:
        run_session = await db.scalar(select(Run.session_id).where(Run.id == run_id))
        if run_session != session_id:
            raise TargetNotFound(f"run {run_id} not found in session {session_id}")
    new_id = await db.scalar(
        text(
            "INSERT INTO review_jobs (session_id, run_id, requested_by_api_key_id, on_demand) "
            "VALUES (:s, :r, :k, true) ON CONFLICT DO NOTHING RETURNING id"
        ),
        {"s": session_id, "r": run_id, "k": api_key_id},
    )
    created = new_id is not None
    if new_id is None:
        new_id = await db.scalar(
            select(ReviewJob.id).where(
                ReviewJob.session_id == session_id,
                ReviewJob.run_id.is_(None) if run_id is None else ReviewJob.run_id == run_id,
                ReviewJob.status.in_(("queued", "running")),
            )
        )
    job = await db.get(ReviewJob, new_id, populate_existing=True)
    assert job is not None
    return _job_info(job, created)


async def list_review_jobs(
    db: AsyncSession,
    *,
    status: str | None = None,
    session_id: int | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[JobInfo]:
    """Newest first; keyset on id (pass the last id seen as ``before_id``)."""
    q = select(ReviewJob).order_by(ReviewJob.id.desc()).limit(limit)
    if status:
        q = q.where(ReviewJob.status == status)
    if session_id is not None:
        q = q.where(ReviewJob.session_id == session_id)
    if before_id is not None:
        q = q.where(ReviewJob.id < before_id)
    return [_job_info(j) for j in await db.scalars(q)]


async def jobs_by_ids(
    db: AsyncSession, ids: list[int] | tuple[int, ...], *, session_id: int | None = None
) -> list[JobInfo]:
    """These jobs (the ids of a change event), optionally only one session's, by id."""
    q = select(ReviewJob).where(ReviewJob.id.in_(ids)).order_by(ReviewJob.id)
    if session_id is not None:
        q = q.where(ReviewJob.session_id == session_id)
    return [_job_info(j) for j in await db.scalars(q)]


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    session_id: int
    run_id: int | None
    attempts: int
    requested_by_api_key_id: int | None = None


async def claim_jobs(
    db: AsyncSession, worker_id: str, limit: int = 1, *, only_ids: list[int] | None = None
) -> list[ClaimedJob]:
    """Claim up to ``limit`` queued jobs, on-demand requests first, then oldest first (commit
    right after): a person waiting on one review never queues behind a policy's backlog."""
    only = "AND id = ANY(:ids)" if only_ids is not None else ""
    rows = await db.execute(
        text(
            f"""
            UPDATE review_jobs j SET status = 'running', attempts = j.attempts + 1,
                   claimed_by = :worker, claimed_at = now()
            WHERE j.id IN (
              SELECT id FROM review_jobs WHERE status = 'queued' {only}
              ORDER BY on_demand DESC, created_at, id LIMIT :limit FOR UPDATE SKIP LOCKED)
            RETURNING j.id, j.session_id, j.run_id, j.attempts, j.requested_by_api_key_id
            """
        ),
        {"worker": worker_id, "limit": limit, "ids": only_ids},
    )
    return [
        ClaimedJob(r.id, r.session_id, r.run_id, r.attempts, r.requested_by_api_key_id)
        for r in rows
    ]


async def requeue_stale_jobs(db: AsyncSession, older_than: timedelta = STALE_AFTER) -> int:
    """Jobs whose worker died mid-review go back to the queue."""
    result = await db.execute(
        text(
            "UPDATE review_jobs SET status = 'queued', claimed_by = NULL "
            "WHERE status = 'running' AND claimed_at < now() - CAST(:age AS interval)"
        ),
        {"age": older_than},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
