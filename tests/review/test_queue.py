from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.db.models import Review
from observatory.review.claims import (
    claim_next_queue_item,
    claim_queue_item,
    skip_queue_item,
    submit_queue_review,
)
from observatory.review.queue import BadCursor, ClaimConflict, list_review_queue, queue_counts
from tests.review.data import Builder

NOW = datetime.now(UTC)


async def _seed(factory: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with factory() as db, db.begin():
        b = Builder(db)
        ids = {"alice": await b.api_key("alice"), "bob": await b.api_key("bob")}
        t = NOW - timedelta(days=1)
        ids["unreviewed"] = await b.session(started=t)
        ids["failed"] = await b.session(status="failed", started=t)
        ids["low_conf"] = await b.session(started=t)
        await b.review(ids["low_conf"], "accomplished", kind="ai", model="j", confidence=0.3, at=t)
        ids["confident"] = await b.session(started=t)  # AI sure, not failed: not queued
        await b.review(ids["confident"], "accomplished", kind="ai", model="j", confidence=0.9, at=t)
        ids["disagree"] = await b.session(started=t)
        await b.review(ids["disagree"], "accomplished", rating=5, at=t)
        await b.review(
            ids["disagree"],
            "failed",
            rating=1,
            kind="ai",
            model="j",
            confidence=0.9,
            at=t + timedelta(hours=1),
        )
        ids["agreed"] = await b.session(started=t)  # human reviewed, AI agrees: done
        await b.review(ids["agreed"], "accomplished", rating=5, at=t)
        await b.review(
            ids["agreed"],
            "accomplished",
            rating=4,
            kind="ai",
            model="j",
            confidence=0.9,
            at=t + timedelta(hours=1),
        )
        await b.session(status="running", started=t)  # not finished
        await b.session(kind="main", status="completed", started=t)  # main sessions never
        await b.session(started=NOW - timedelta(days=90))  # outside the window
        main = await b.session(kind="main", status="running", started=t)
        ids["beat"] = await b.run(main, trigger="heartbeat", started=t)
        ids["beat_session"] = main
        await b.review(
            main, "unclear", run_id=ids["beat"], kind="ai", model="j", confidence=0.8, at=t
        )
    return ids


async def test_queue_is_prioritised_and_paginated(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _seed(factory)
    async with factory() as db:
        page = await list_review_queue(db, api_key_id=ids["alice"], first=3)
        rest = await list_review_queue(
            db, api_key_id=ids["alice"], first=10, after=page.next_cursor
        )
        counts = await queue_counts(db, api_key_id=ids["alice"])
        with pytest.raises(BadCursor):
            await list_review_queue(db, api_key_id=None, after="garbage!")
    items = page.items + rest.items
    order = [(i.session_id, i.run_id, i.reasons) for i in items]
    assert order[0] == (ids["disagree"], None, ["disagreement"])
    assert {(s, r) for s, r, _ in order[1:3]} == {
        (ids["low_conf"], None),
        (ids["beat_session"], ids["beat"]),
    }
    assert order[3] == (ids["failed"], None, ["failed", "unreviewed"])  # 200 + 10
    assert order[4] == (ids["unreviewed"], None, ["unreviewed"])
    assert len(items) == 5 and rest.next_cursor is None
    assert items[0].latest_human and items[0].latest_ai and items[0].latest_ai.verdict == "failed"
    assert counts["total"] == 5 and counts["unreviewed"] == 2 and counts["disagreement"] == 1


async def test_claim_skip_submit(factory: async_sessionmaker[AsyncSession]) -> None:
    ids = await _seed(factory)
    alice, bob = ids["alice"], ids["bob"]
    async with factory() as db, db.begin():
        item = await claim_next_queue_item(db, api_key_id=alice)
        assert item and item.session_id == ids["disagree"] and item.claimed_by_me
        # Bob cannot claim or submit it, and his "next" is the next item.
        with pytest.raises(ClaimConflict):
            await claim_queue_item(db, session_id=ids["disagree"], api_key_id=bob)
        with pytest.raises(ClaimConflict):
            await submit_queue_review(
                db, session_id=ids["disagree"], api_key_id=bob, verdict="failed", rating=1
            )
        bob_item = await claim_next_queue_item(db, api_key_id=bob)
        assert bob_item and bob_item.session_id != ids["disagree"]
        # Alice sees her own claim first when she asks again; bob's claim is shown as taken.
        again = await claim_next_queue_item(db, api_key_id=alice)
        assert again and again.session_id == ids["disagree"]
        listed = await list_review_queue(db, api_key_id=alice)
        taken = [i for i in listed.items if i.claimed_by_api_key_id == bob]
        assert len(taken) == 1 and not taken[0].claimed_by_me
        # Alice submits: review stored, claim released, item leaves the queue.
        brief = await submit_queue_review(
            db,
            session_id=ids["disagree"],
            api_key_id=alice,
            verdict="failed",
            rating=2,
            summary=" AI was right ",
        )
        assert brief.verdict == "failed" and brief.summary == "AI was right"
        with pytest.raises(ValueError):
            await submit_queue_review(
                db, session_id=ids["failed"], api_key_id=alice, verdict="meh", rating=2
            )
        # Alice skips the failed session: hidden for her, still there for bob.
        await skip_queue_item(db, session_id=ids["failed"], api_key_id=alice)
        mine = {i.session_id for i in (await list_review_queue(db, api_key_id=alice)).items}
        bobs = {i.session_id for i in (await list_review_queue(db, api_key_id=bob)).items}
    assert ids["disagree"] not in mine and ids["failed"] not in mine and ids["failed"] in bobs
    async with factory() as db:
        human = await db.scalar(
            select(func.count()).select_from(Review).where(Review.created_by_api_key_id == alice)
        )
        assert human == 1


async def test_expired_claim_can_be_taken_over(factory: async_sessionmaker[AsyncSession]) -> None:
    ids = await _seed(factory)
    async with factory() as db, db.begin():
        await claim_queue_item(db, session_id=ids["failed"], api_key_id=ids["alice"])
        await db.execute(text("UPDATE review_queue_claims SET expires_at = now() - interval '1 s'"))
        claim = await claim_queue_item(db, session_id=ids["failed"], api_key_id=ids["bob"])
    assert claim.api_key_id == ids["bob"] and claim.expires_at > NOW
