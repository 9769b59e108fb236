"""The review worker: claim jobs, build the prompt, ask the model, store the review."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.review import calibration
from observatory.review.client import ChatClient, ChatError
from observatory.review.jobs import MAX_ATTEMPTS, ClaimedJob, claim_jobs, requeue_stale_jobs
from observatory.review.policy import enqueue_policy_jobs
from observatory.review.prompt import build_prompt
from observatory.review.reviewer import ReviewFailed, generate_review, store_ai_review
from observatory.review.transcript import load_target
from observatory.review.writes import TargetNotFound
from observatory.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobResult:
    job_id: int
    status: str  # done | failed | queued (transient error, retried later) | lost
    review_id: int | None = None
    reason: str | None = None


async def _finish(
    factory: async_sessionmaker[AsyncSession],
    job: ClaimedJob,
    worker_id: str,
    status: str,
    reason: str | None,
) -> bool:
    async with factory() as db, db.begin():
        requeue = status == "queued"
        result = await db.execute(
            text(
                "UPDATE review_jobs SET status = :status, reason = :reason, "
                "finished_at = CASE WHEN :requeue THEN NULL ELSE now() END, "
                "claimed_by = CASE WHEN :requeue THEN NULL ELSE claimed_by END "
                "WHERE id = :id AND status = 'running' AND claimed_by = :worker"
            ),
            {
                "status": status,
                "reason": reason,
                "requeue": requeue,
                "id": job.id,
                "worker": worker_id,
            },
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def process_job(
    factory: async_sessionmaker[AsyncSession],
    client: ChatClient,
    settings: Settings,
    job: ClaimedJob,
    worker_id: str,
) -> JobResult:
    """Review one claimed job end to end; never raises for expected failures."""
    try:
        async with factory() as db:
            info, messages, total = await load_target(db, job.session_id, job.run_id)
            examples = await calibration.disagreements(
                db, info.agent_id, job.session_id, job.run_id
            )
    except TargetNotFound as exc:
        await _finish(factory, job, worker_id, "failed", str(exc))
        return JobResult(job.id, "failed", reason=str(exc))
    if total == 0 and not info.ask_fallback and not info.outcome_fallback:
        reason = "nothing to review: no messages cached for this target"
        await _finish(factory, job, worker_id, "failed", reason)
        return JobResult(job.id, "failed", reason=reason)
    budget = settings.ai_prompt_token_budget
    calibrated = calibration.render(examples, budget)
    prompt = build_prompt(info, messages, total, budget=budget, calibration=calibrated.text)
    try:
        generated = await generate_review(client, prompt)
    except ReviewFailed as exc:
        await _finish(factory, job, worker_id, "failed", exc.reason)
        return JobResult(job.id, "failed", reason=exc.reason)
    except ChatError as exc:
        status = "queued" if exc.retryable and job.attempts < MAX_ATTEMPTS else "failed"
        reason = f"endpoint error (attempt {job.attempts}): {exc}"
        await _finish(factory, job, worker_id, status, reason)
        return JobResult(job.id, status, reason=reason)
    async with factory() as db, db.begin():
        still_mine = await db.scalar(
            text(
                "SELECT id FROM review_jobs WHERE id = :id AND status = 'running' "
                "AND claimed_by = :worker FOR UPDATE"
            ),
            {"id": job.id, "worker": worker_id},
        )
        if still_mine is None:  # requeued as stale and maybe taken by another worker
            return JobResult(job.id, "lost", reason="claim lost before the review was stored")
        review = await store_ai_review(
            db,
            session_id=job.session_id,
            run_id=job.run_id,
            generated=generated,
            api_key_id=job.requested_by_api_key_id,  # who asked for it, when on demand
            calibration_review_ids=calibrated.review_ids,
        )
        await db.execute(
            text(
                "UPDATE review_jobs SET status = 'done', review_id = :rid, reason = NULL, "
                "finished_at = now() WHERE id = :id"
            ),
            {"rid": review.id, "id": job.id},
        )
    return JobResult(job.id, "done", review_id=review.id)


def make_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def _process_guarded(
    factory: async_sessionmaker[AsyncSession],
    client: ChatClient,
    settings: Settings,
    job: ClaimedJob,
    worker_id: str,
) -> JobResult:
    try:
        return await process_job(factory, client, settings, job, worker_id)
    except asyncio.CancelledError:
        # Shutting down: hand the job back now rather than after STALE_AFTER.
        with contextlib.suppress(Exception):
            await asyncio.shield(_finish(factory, job, worker_id, "queued", "worker stopped"))
        raise
    except Exception as exc:
        log.exception("review job %s crashed", job.id)
        reason = f"internal error: {type(exc).__name__}"
        with contextlib.suppress(Exception):
            await _finish(factory, job, worker_id, "failed", reason)
        return JobResult(job.id, "failed", reason=reason)


async def run_review_worker(
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    stop_event: asyncio.Event,
    *,
    client: ChatClient | None = None,
    worker_id: str | None = None,
    poll_interval_s: float = 2.0,
    policy_interval_s: float = 30.0,
    apply_policy: bool = True,
) -> None:
    """Process review jobs until ``stop_event`` is set. Keeps up to ``ai_max_concurrency`` jobs
    in flight; every ``policy_interval_s`` enqueues policy jobs and requeues stale ones."""
    own_client = client is None
    chat = client or ChatClient.from_settings(settings, session_factory)
    worker = worker_id or make_worker_id()
    slots = max(1, settings.ai_max_concurrency)
    in_flight: set[asyncio.Task[JobResult]] = set()
    next_policy = 0.0
    loop = asyncio.get_running_loop()
    try:
        while not stop_event.is_set():
            if apply_policy and loop.time() >= next_policy:
                next_policy = loop.time() + policy_interval_s
                try:
                    async with session_factory() as db, db.begin():
                        await requeue_stale_jobs(db)
                        await enqueue_policy_jobs(db, settings)
                except Exception:
                    log.exception("review policy pass failed")
            claimed: list[ClaimedJob] = []
            if len(in_flight) < slots:
                try:
                    async with session_factory() as db, db.begin():
                        claimed = await claim_jobs(db, worker, slots - len(in_flight))
                except Exception:
                    log.exception("claiming review jobs failed")
            for job in claimed:
                in_flight.add(
                    asyncio.create_task(
                        _process_guarded(session_factory, chat, settings, job, worker)
                    )
                )
            if claimed and len(in_flight) < slots:
                continue  # there may be more queued
            stop_wait = asyncio.ensure_future(stop_event.wait())
            try:
                await asyncio.wait(
                    {*in_flight, stop_wait},
                    timeout=poll_interval_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                stop_wait.cancel()
            in_flight -= {t for t in in_flight if t.done()}
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
    finally:
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
        if own_client:
            await chat.aclose()


async def review_jobs_now(
    factory: async_sessionmaker[AsyncSession],
    client: ChatClient,
    settings: Settings,
    job_ids: list[int],
    *,
    progress: Callable[[int, int, JobResult], None] | None = None,
) -> list[JobResult]:
    """Process exactly these jobs in this process (the CLI), ``ai_max_concurrency`` at a time.
    Jobs another worker holds are skipped by SKIP LOCKED and left to it."""
    worker = make_worker_id()
    results: list[JobResult] = []
    pending = list(job_ids)
    slots = max(1, settings.ai_max_concurrency)

    async def one(job: ClaimedJob) -> None:
        result = await _process_guarded(factory, client, settings, job, worker)
        if result.status == "queued":
            return  # a transient failure went back to the queue: a later round retries it
        results.append(result)
        pending.remove(job.id)
        if progress:
            progress(len(results), len(job_ids), result)

    while pending:
        async with factory() as db, db.begin():
            claimed = await claim_jobs(db, worker, slots, only_ids=pending)
        if not claimed:
            break  # the rest are held by other workers
        await asyncio.gather(*(one(j) for j in claimed))
    return results
