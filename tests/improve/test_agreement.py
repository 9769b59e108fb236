from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.improve.agreement import cohen_kappa, judge_agreement
from tests.review.data import NOW, Builder


def test_kappa() -> None:
    perfect = [("accomplished", "accomplished", 5, 5), ("failed", "failed", 1, 1)]
    assert cohen_kappa(perfect) == 1.0
    assert cohen_kappa([("failed", "failed", 1, 1)] * 3) is None
    assert cohen_kappa([]) is None


async def test_agreement_per_model_over_time(factory: async_sessionmaker[AsyncSession]) -> None:
    week1, week2 = NOW - timedelta(days=10), NOW - timedelta(days=2)
    async with factory() as db, db.begin():
        b = Builder(db)
        # judge-a: week 1 agrees on 2 of 2; week 2 agrees on 1 of 2.
        cases = [
            ("accomplished", 5, "accomplished", 4, "judge-a", week1),
            ("failed", 1, "failed", 2, "judge-a", week1),
            ("failed", 1, "accomplished", 5, "judge-a", week2),
            ("partial", 3, "partial", 3, "judge-a", week2),
            ("accomplished", 4, "partial", 3, "judge-b", week2),
        ]
        for hv, hr, av, ar, model, at in cases:
            sid = await b.session()
            await b.review(sid, hv, rating=hr, at=at - timedelta(hours=1))
            await b.review(sid, av, rating=ar, kind="ai", model=model, at=at)
        # An older human review is superseded by a newer one; an AI-only session has no pair.
        sid = await b.session()
        await b.review(sid, "failed", rating=1, at=week1 - timedelta(days=1))
        await b.review(sid, "accomplished", rating=5, at=week1)
        await b.review(sid, "accomplished", rating=5, kind="ai", model="judge-b", at=week1)
        await b.review(await b.session(), "failed", kind="ai", model="judge-a", at=week1)
    async with factory() as db:
        result = await judge_agreement(db, since=NOW - timedelta(days=30), until=NOW, bucket="week")
    by_model = {m.reviewer_model: m for m in result.models}
    a = by_model["judge-a"].stats
    assert (a.pairs, a.verdict_matches, a.agreement_rate) == (4, 3, 0.75)
    assert a.mean_abs_rating_diff == pytest.approx((1 + 1 + 4 + 0) / 4)
    assert by_model["judge-a"].confusion["failed"] == {"failed": 1, "accomplished": 1}
    b_ = by_model["judge-b"].stats
    assert (b_.pairs, b_.verdict_matches) == (2, 1)
    series = [(p.reviewer_model, p.stats.pairs, p.stats.verdict_matches) for p in result.points]
    assert ("judge-a", 2, 2) in series and ("judge-a", 2, 1) in series
    with pytest.raises(ValueError):
        await judge_agreement(db, since=NOW, until=NOW, bucket="fortnight")
