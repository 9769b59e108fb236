from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.db.models import Review, ReviewJob
from observatory.review.client import ChatClient
from observatory.review.jobs import claim_jobs, list_review_jobs, request_ai_review
from observatory.review.policy import (
    enqueue_policy_jobs,
    heartbeat_sampled,
    set_review_policy,
)
from observatory.review.worker import run_review_worker
from observatory.settings import Settings
from tests.review.data import NOW, Builder, simple_transcript
from tests.review.stub_model import StubModel


async def _task_with_transcript(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as db, db.begin():
        b = Builder(db)
        sid = await b.session()
        rid = await b.run(sid)
        await b.messages(sid, simple_transcript(), run_id=rid)
        return sid


async def _drain(factory: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Run one worker until the queue is empty."""
    stop = asyncio.Event()
    client = ChatClient.from_settings(settings, backoff_base_s=0.01)
    task = asyncio.create_task(
        run_review_worker(
            factory, settings, stop, client=client, poll_interval_s=0.05, apply_policy=False
        )
    )
    try:
        for _ in range(200):
            async with factory() as db:
                active = await db.scalar(
                    select(func.count()).where(ReviewJob.status.in_(("queued", "running")))
                )
            if not active:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await client.aclose()


async def test_valid_answer_becomes_an_ai_review_with_its_cost(
    factory: async_sessionmaker[AsyncSession], settings: Settings, stub: StubModel
) -> None:
    sid = await _task_with_transcript(factory)
    async with factory() as db, db.begin():
        job = await request_ai_review(db, sid, api_key_id=None)
        again = await request_ai_review(db, sid)
    assert job.created and not again.created and again.id == job.id
    await _drain(factory, settings)
    async with factory() as db:
        review = (await db.scalars(select(Review))).one()
        jobs = await list_review_jobs(db)
    assert review.reviewer_kind == "ai" and review.reviewer_model == "stub-judge-1"
    assert review.verdict == "accomplished" and review.rating == 4 and review.confidence == 0.82
    assert (review.input_tokens, review.output_tokens) == (1000, 200)
    # 1000 * 2.5 / 1e6 + 200 * 10 / 1e6
    assert review.cost == Decimal("0.00450000")
    assert review.evidence is not None and review.evidence["items"][0]["message_id"] is not None
    assert jobs[0].status == "done" and jobs[0].review_id == review.id
    # The stub got the transcript: the ask and the outcome are in the prompt.
    assert "Fix the build" in stub.prompts()[0] and "build is green" in stub.prompts()[0]
    assert stub.requests[0]["model"] == "stub-judge-1"


async def test_malformed_twice_fails_the_job_with_the_reason(
    factory: async_sessionmaker[AsyncSession], settings: Settings, stub: StubModel
) -> None:
    sid = await _task_with_transcript(factory)
    stub.script[:] = ["malformed", "malformed"]
    async with factory() as db, db.begin():
        await request_ai_review(db, sid)
    await _drain(factory, settings)
    async with factory() as db:
        job = (await list_review_jobs(db))[0]
        reviews = await db.scalar(select(func.count()).select_from(Review))
    assert job.status == "failed" and reviews == 0
    assert job.reason and job.reason.startswith("malformed answer after retry")
    assert "JSON" in job.reason
    # The retry told the model what was wrong.
    assert len(stub.requests) == 2
    assert "Your answer was not valid" in stub.requests[1]["messages"][-1]["content"]


async def test_malformed_once_then_valid_succeeds_and_counts_both_calls(
    factory: async_sessionmaker[AsyncSession], settings: Settings, stub: StubModel
) -> None:
    sid = await _task_with_transcript(factory)
    stub.script[:] = ["malformed", "valid"]
    async with factory() as db, db.begin():
        await request_ai_review(db, sid)
    await _drain(factory, settings)
    async with factory() as db:
        review = (await db.scalars(select(Review))).one()
    assert review.input_tokens == 2000 and review.cost == Decimal("0.00900000")


async def test_endpoint_errors_are_retried_then_recorded(
    factory: async_sessionmaker[AsyncSession], settings: Settings, stub: StubModel
) -> None:
    sid = await _task_with_transcript(factory)
    stub.script[:] = ["429", "500", "valid"]
    async with factory() as db, db.begin():
        await request_ai_review(db, sid)
    await _drain(factory, settings)
    async with factory() as db:
        job = (await list_review_jobs(db))[0]
    assert job.status == "done" and len(stub.requests) == 3


async def test_two_workers_never_claim_the_same_job(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as db, db.begin():
        b = Builder(db)
        for _ in range(40):
            sid = await b.session()
            await request_ai_review(db, sid)

    async def worker(name: str) -> list[int]:
        got: list[int] = []
        while True:
            async with factory() as db, db.begin():
                jobs = await claim_jobs(db, name, 3)
                # Hold the row locks a moment so the two claims really overlap.
                await db.execute(text("SELECT pg_sleep(0.01)"))
            if not jobs:
                return got
            got += [j.id for j in jobs]

    a, b_ = await asyncio.gather(worker("w1"), worker("w2"))
    assert not set(a) & set(b_)
    assert sorted(a + b_) == list(range(1, 41))
    assert a and b_


async def test_policy_enqueues_finished_tasks_and_a_deterministic_heartbeat_sample(
    factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with factory() as db, db.begin():
        b = Builder(db)
        await b.agent("sofia")
        await b.agent("atlas")
        await set_review_policy(db, "sofia", enabled=True, heartbeat_sample_rate=0.5)
        await db.execute(
            text("UPDATE review_policies SET enabled_at = :t"), {"t": NOW - timedelta(days=1)}
        )
        done = await b.session("sofia", status="completed")
        failed = await b.session("sofia", status="failed")
        await b.session("sofia", status="running")
        await b.session("sofia", status="completed", started=NOW - timedelta(days=3))  # before
        await b.session("atlas", status="completed")  # agent not switched on
        main = await b.session("sofia", kind="main", status="running")
        beats = [
            await b.run(main, trigger="heartbeat", started=NOW - timedelta(hours=h))
            for h in range(1, 41)
        ]
        recent = beats[:24]  # started after the policy was switched on
        provider_ids = dict((await db.execute(text("SELECT id, provider_run_id FROM runs"))).all())
        created = await enqueue_policy_jobs(db, settings, now=NOW)
        again = await enqueue_policy_jobs(db, settings, now=NOW)
        rows = (await db.execute(select(ReviewJob.session_id, ReviewJob.run_id))).all()
    expected_beats = {r for r in recent if heartbeat_sampled(provider_ids[r], 0.5)}
    assert 3 < len(expected_beats) < 20
    assert {s for s, r in rows if r is None} == {done, failed}
    assert {r for _s, r in rows if r is not None} == expected_beats
    assert created == 2 + len(expected_beats) and again == 0


async def test_two_worker_loops_review_each_job_exactly_once(
    factory: async_sessionmaker[AsyncSession], settings: Settings, stub: StubModel
) -> None:
    async with factory() as db, db.begin():
        b = Builder(db)
        for _ in range(12):
            sid = await b.session()
            await b.messages(sid, simple_transcript())
            await request_ai_review(db, sid)
    stub.delay_s = 0.02
    stop = asyncio.Event()
    clients = [ChatClient.from_settings(settings) for _ in range(2)]
    workers = [
        asyncio.create_task(
            run_review_worker(
                factory,
                settings,
                stop,
                client=c,
                worker_id=f"w{i}",
                poll_interval_s=0.05,
                apply_policy=False,
            )
        )
        for i, c in enumerate(clients)
    ]
    try:
        for _ in range(200):
            async with factory() as db:
                done = await db.scalar(select(func.count()).where(ReviewJob.status == "done"))
            if done == 12:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*workers)
        for c in clients:
            await c.aclose()
    async with factory() as db:
        per_session = (
            await db.execute(select(Review.session_id, func.count()).group_by(Review.session_id))
        ).all()
        claimed_by = set((await db.scalars(select(ReviewJob.claimed_by))).all())
    assert len(per_session) == 12 and {n for _s, n in per_session} == {1}
    assert len(stub.requests) == 12
    assert claimed_by == {"w0", "w1"}  # both did some of the work


async def test_heartbeat_run_is_reviewed_as_a_run(
    factory: async_sessionmaker[AsyncSession], settings: Settings, stub: StubModel
) -> None:
    async with factory() as db, db.begin():
        b = Builder(db)
        main = await b.session(kind="main", status="running")
        other = await b.run(main, trigger="message")
        await b.messages(main, simple_transcript("Earlier user turn", "Answered."), run_id=other)
        beat = await b.run(main, trigger="heartbeat", outcome="HEARTBEAT_OK")
        await b.messages(
            main,
            simple_transcript("[heartbeat poll] Read HEARTBEAT.md", "HEARTBEAT_OK"),
            run_id=beat,
            psid="psid-beat",
        )
        await request_ai_review(db, main, run_id=beat)
    await _drain(factory, settings)
    async with factory() as db:
        review = (await db.scalars(select(Review))).one()
    assert review.run_id == beat and review.session_id == main
    prompt = stub.prompts()[0]
    assert "heartbeat poll" in prompt and "Earlier user turn" not in prompt
    assert "run " in prompt and "(heartbeat)" in prompt


async def test_a_lost_claim_is_not_written_twice(
    factory: async_sessionmaker[AsyncSession], settings: Settings, stub: StubModel
) -> None:
    from observatory.review.jobs import requeue_stale_jobs
    from observatory.review.worker import process_job

    sid = await _task_with_transcript(factory)
    async with factory() as db, db.begin():
        await request_ai_review(db, sid)
        [mine] = await claim_jobs(db, "slow-worker", 1)
    # The slow worker looks dead: its job is requeued and taken by another worker.
    async with factory() as db, db.begin():
        assert await requeue_stale_jobs(db, older_than=timedelta(0)) == 1
        [theirs] = await claim_jobs(db, "other-worker", 1)
    assert theirs.id == mine.id
    async with ChatClient.from_settings(settings) as client:
        result = await process_job(factory, client, settings, mine, "slow-worker")
    assert result.status == "lost"
    async with factory() as db:
        assert await db.scalar(select(func.count()).select_from(Review)) == 0


async def test_worker_loop_applies_the_policy(
    factory: async_sessionmaker[AsyncSession], settings: Settings, stub: StubModel
) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    async with factory() as db, db.begin():
        b = Builder(db)
        sid = await b.session("sofia", started=now - timedelta(hours=3))
        await b.messages(sid, simple_transcript())
        await set_review_policy(db, "sofia", enabled=True)
        await db.execute(
            text("UPDATE review_policies SET enabled_at = :t"), {"t": now - timedelta(days=1)}
        )
    stop = asyncio.Event()
    async with ChatClient.from_settings(settings) as client:
        task = asyncio.create_task(
            run_review_worker(factory, settings, stop, client=client, poll_interval_s=0.05)
        )
        try:
            for _ in range(100):
                async with factory() as db:
                    if await db.scalar(select(func.count()).select_from(Review)):
                        break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await task
    async with factory() as db:
        review = (await db.scalars(select(Review))).one()
    assert review.session_id == sid and review.reviewer_kind == "ai"
