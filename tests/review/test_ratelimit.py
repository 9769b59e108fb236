"""The AI endpoint's rate limit held in PostgreSQL: two limiters (two processes) share it, a
429 pause holds both, and on-demand review jobs are claimed before policy jobs."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.review.jobs import claim_jobs, request_ai_review
from observatory.review.ratelimit import SharedRateLimiter
from tests.review.data import Builder


async def test_two_processes_share_one_request_rate(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)  # recorded, not slept: the slots are what is under test

    # One request a minute: slots 60 s apart, so the milliseconds each round trip takes vanish.
    a = SharedRateLimiter(factory, "http://model#m", requests_per_minute=1, sleep=sleep)
    b = SharedRateLimiter(factory, "http://model#m", requests_per_minute=1, sleep=sleep)
    other = SharedRateLimiter(factory, "http://other#m", requests_per_minute=1, sleep=sleep)
    for limiter in (a, b, a, b, other):
        await limiter.acquire()
    # Across both limiters: the first starts at once, then 60, 120, 180 s later; another
    # endpoint has its own row and starts at once.
    assert waits == pytest.approx([60.0, 120.0, 180.0], abs=1.0)

    waits.clear()
    fresh = SharedRateLimiter(factory, "http://paused#m", requests_per_minute=60, sleep=sleep)
    await SharedRateLimiter(factory, "http://paused#m", 60, sleep=sleep).pause(30.0)
    await fresh.acquire()
    assert len(waits) == 1 and waits[0] >= 29.0  # a 429 pause in one process holds the other


async def test_on_demand_jobs_are_claimed_before_policy_jobs(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as db, db.begin():
        b = Builder(db)
        policy_sessions = [await b.session() for _ in range(3)]
        asked = await b.session()
        for sid in policy_sessions:  # what enqueue_policy_jobs inserts
            await db.execute(
                text("INSERT INTO review_jobs (session_id, run_id) VALUES (:s, NULL)"), {"s": sid}
            )
        await request_ai_review(db, asked)
    order = []
    for _ in range(4):
        async with factory() as db, db.begin():
            order += [c.session_id for c in await claim_jobs(db, "w1", limit=1)]
    assert order == [asked, *policy_sessions]
