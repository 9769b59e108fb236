"""The schema's own rules: uniqueness, checks, and what deleting a session does."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from observatory.db.enums import (
    MessageRole,
    ReviewerKind,
    RunStatus,
    RunTrigger,
    SessionKind,
    SessionStatus,
    Verdict,
)
from observatory.db.models import Agent, Message, Review, Run, Session, SyncSource

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
Factory = async_sessionmaker[AsyncSession]


async def _source_and_agent(db: AsyncSession, name: str = "src") -> int:
    source = SyncSource(name=name, kind="openclaw")
    db.add_all([source, Agent(id="sofia", display_name="Sofia")])
    await db.flush()
    return source.id


def _session(source_id: int, key: str = "agent:sofia:main") -> Session:
    return Session(
        source_id=source_id,
        key=key,
        agent_id="sofia",
        kind=SessionKind.MAIN,
        status=SessionStatus.RUNNING,
        started_at=NOW,
        updated_at=NOW,
    )


def _run(session_id: int, provider_run_id: str = "run-1") -> Run:
    return Run(
        session_id=session_id,
        agent_id="sofia",
        provider_run_id=provider_run_id,
        trigger=RunTrigger.HEARTBEAT,
        status=RunStatus.COMPLETED,
        started_at=NOW,
        input_tokens=10,
        cost=Decimal("0.00012345"),
    )


def _review(session_id: int, rating: int = 4, run_id: int | None = None) -> Review:
    return Review(
        session_id=session_id,
        run_id=run_id,
        verdict=Verdict.ACCOMPLISHED,
        rating=rating,
        summary="fine",
        reviewer_kind=ReviewerKind.HUMAN,
    )


def _constraint(exc: pytest.ExceptionInfo[IntegrityError]) -> str:
    return getattr(exc.value.orig, "__cause__", None).constraint_name  # type: ignore[union-attr]


async def test_duplicate_source_key_rejected(
    clean_db: AsyncEngine, session_factory: Factory
) -> None:
    async with session_factory() as db, db.begin():
        source_id = await _source_and_agent(db)
        other = SyncSource(name="other", kind="openclaw")
        db.add_all([_session(source_id), other])
        await db.flush()
        # The same key at another source is a different session.
        db.add(_session(other.id))
    with pytest.raises(IntegrityError) as exc:
        async with session_factory() as db, db.begin():
            db.add(_session(source_id))
    assert _constraint(exc) == "uq_sessions_source_id_key"


@pytest.mark.parametrize("rating", [0, 6])
async def test_rating_outside_1_to_5_rejected(
    clean_db: AsyncEngine, session_factory: Factory, rating: int
) -> None:
    async with session_factory() as db, db.begin():
        session = _session(await _source_and_agent(db))
        db.add(session)
        await db.flush()
        db.add(_review(session.id, rating=5))
    with pytest.raises(IntegrityError) as exc:
        async with session_factory() as db, db.begin():
            db.add(_review(session.id, rating=rating))
    assert _constraint(exc) == "ck_reviews_rating_range"


async def test_deleting_session_removes_runs_and_messages(
    clean_db: AsyncEngine, session_factory: Factory
) -> None:
    async with session_factory() as db, db.begin():
        source_id = await _source_and_agent(db)
        doomed, kept = _session(source_id, "agent:sofia:a"), _session(source_id, "agent:sofia:b")
        db.add_all([doomed, kept])
        await db.flush()
        runs = [_run(doomed.id), _run(kept.id)]
        db.add_all(runs)
        await db.flush()
        for run in runs:
            db.add(
                Message(
                    session_id=run.session_id,
                    provider_session_id="p1",
                    seq=0,
                    run_id=run.id,
                    role=MessageRole.USER,
                    content={"blocks": [{"type": "text", "text": "hi"}]},
                    created_at=NOW,
                )
            )
    async with session_factory() as db, db.begin():
        await db.delete(await db.get_one(Session, doomed.id))
    async with session_factory() as db:
        assert await db.scalar(select(func.count()).select_from(Run)) == 1
        assert await db.scalar(select(func.count()).select_from(Message)) == 1
        assert await db.scalar(select(Run.session_id)) == kept.id


async def test_session_with_reviews_cannot_be_deleted(
    clean_db: AsyncEngine, session_factory: Factory
) -> None:
    """Reviews are human work: ON DELETE RESTRICT; archive the session instead."""
    async with session_factory() as db, db.begin():
        session = _session(await _source_and_agent(db))
        db.add(session)
        await db.flush()
        run = _run(session.id)
        db.add(run)
        await db.flush()
        db.add(_review(session.id, run_id=run.id))
    with pytest.raises(IntegrityError) as exc:
        async with session_factory() as db, db.begin():
            await db.delete(await db.get_one(Session, session.id))
    assert _constraint(exc) == "fk_reviews_session_id_sessions"

    # Deleting just the run keeps the review, now on the session as a whole.
    async with session_factory() as db, db.begin():
        await db.delete(await db.get_one(Run, run.id))
    async with session_factory() as db:
        review = (await db.scalars(select(Review))).one()
        assert (review.session_id, review.run_id) == (session.id, None)
