"""A judge that learns from humans: a human correction of an earlier AI verdict is shown to the
model as a calibration example when it reviews the same agent, the review records it, and
judgeAgreement splits agreement into uncalibrated and calibrated reviews."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.db.models import Review
from observatory.improve.agreement import judge_agreement
from observatory.review import calibration
from observatory.review.client import ChatClient
from observatory.review.jobs import request_ai_review
from observatory.review.worker import review_jobs_now
from observatory.settings import Settings
from tests.review.data import NOW, Builder, simple_transcript
from tests.review.stub_model import StubModel

CORRECTION = "It claimed the build passed but never ran the tests: the task failed."


async def test_a_human_correction_calibrates_the_next_ai_review_of_that_agent(
    factory: async_sessionmaker[AsyncSession], settings: Settings, stub: StubModel
) -> None:
    async with factory() as db, db.begin():
        b = Builder(db)
        earlier = await b.session(title="Fix the flaky build")
        await b.review(earlier, "accomplished", kind="ai", model="stub-judge-1", at=NOW)
        human = await b.review(
            earlier, "failed", rating=1, summary=CORRECTION, at=NOW + timedelta(minutes=5)
        )
        other_agent = await b.session(agent="atlas")
        await b.review(other_agent, "accomplished", kind="ai", model="stub-judge-1", at=NOW)
        await b.review(other_agent, "failed", summary="atlas only", at=NOW + timedelta(minutes=5))
        target = await b.session(title="Ship the release")
        rid = await b.run(target)
        await b.messages(target, simple_transcript(), run_id=rid)
        job = await request_ai_review(db, target)

    async with ChatClient.from_settings(settings, factory) as client:
        (result,) = await review_jobs_now(factory, client, settings, [job.id])

    assert result.status == "done"
    prompt = stub.prompts()[0]
    assert "## Calibration" in prompt and CORRECTION in prompt and "atlas only" not in prompt
    async with factory() as db:
        review = await db.get(Review, result.review_id)
        assert review is not None and review.evidence is not None
        assert review.evidence["calibration_review_ids"] == [human]
        # The target's own human review would never be its own example.
        assert await calibration.disagreements(db, "sofia", earlier, None) == []

    # A human now reviews the calibrated target too: agreement splits by calibration.
    async with factory() as db, db.begin():
        await Builder(db).review(target, "accomplished", at=NOW + timedelta(hours=1))
    async with factory() as db:
        result_agreement = await judge_agreement(
            db, since=NOW - timedelta(days=1), until=NOW + timedelta(days=365), agent_id="sofia"
        )
    splits = result_agreement.calibration
    assert len(splits) == 1
    assert (splits[0].uncalibrated.pairs, splits[0].uncalibrated.verdict_matches) == (1, 0)
    assert (splits[0].calibrated.pairs, splits[0].calibrated.verdict_matches) == (1, 1)


def test_examples_stay_within_their_share_of_the_prompt_budget() -> None:
    many = [
        calibration.Example(
            i, f"task {i}", "session", "accomplished", "x" * 4000, "failed", "y" * 4000
        )
        for i in range(3)
    ]
    rendered = calibration.render(many, budget=6000)
    assert rendered.review_ids  # at least one fits
    assert calibration.estimate_tokens(rendered.text) <= 6000 // calibration.BUDGET_SHARE
    assert calibration.render(many, budget=100).review_ids == []
