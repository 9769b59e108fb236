"""Writing reviews: the one validation and the one create/update/delete that every writer uses
(the GraphQL review mutations and the human queue's submit). Functions flush but never commit.

Domain errors, mapped to GraphQL codes by the resolvers: ``TargetNotFound`` (NOT_FOUND) and
``InvalidReview`` (BAD_USER_INPUT, with the input field it names).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.db.enums import ReviewerKind, Verdict
from observatory.db.models import Review, Run
from observatory.db.models import Session as SessionRow

# A few paragraphs; bounded so one review cannot bloat every list that shows summaries.
SUMMARY_MAX = 5000
RATING_MIN, RATING_MAX = 1, 5


class TargetNotFound(LookupError):
    """The session (or run) a review or queue action names does not exist."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidReview(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def validate_review(rating: int | None, summary: str | None) -> None:
    """The one validation of a review's fields (``None`` = not being set)."""
    if rating is not None and not RATING_MIN <= rating <= RATING_MAX:
        raise InvalidReview(f"rating must be between {RATING_MIN} and {RATING_MAX}", "rating")
    if summary is not None and len(summary) > SUMMARY_MAX:
        raise InvalidReview(f"summary must be at most {SUMMARY_MAX} characters", "summary")


async def check_target(db: AsyncSession, session_id: int, run_id: int | None) -> None:
    """The session exists and the run, if given, exists and belongs to it."""
    if await db.get(SessionRow, session_id) is None:
        raise TargetNotFound(f"no session with id {session_id}", field="sessionId")
    if run_id is not None:
        run_session = await db.scalar(select(Run.session_id).where(Run.id == run_id))
        if run_session is None:
            raise TargetNotFound(f"no run with id {run_id}", field="runId")
        if run_session != session_id:
            raise InvalidReview("the run does not belong to this session", "runId")


async def create_human_review(
    db: AsyncSession,
    *,
    session_id: int,
    run_id: int | None,
    verdict: Verdict,
    rating: int,
    summary: str,
    api_key_id: int | None,
) -> Review:
    validate_review(rating, summary)
    await check_target(db, session_id, run_id)
    now = datetime.now(UTC)
    row = Review(
        session_id=session_id,
        run_id=run_id,
        verdict=verdict,
        rating=rating,
        summary=summary.strip(),
        reviewer_kind=ReviewerKind.HUMAN,
        created_by_api_key_id=api_key_id,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    await db.flush()
    return row


async def update_review(
    db: AsyncSession,
    row: Review,
    *,
    verdict: Verdict | None,
    rating: int | None,
    summary: str | None,
) -> Review:
    validate_review(rating, summary)
    values: dict[str, object] = {"updated_at": datetime.now(UTC)}
    if verdict is not None:
        values["verdict"] = verdict
    if rating is not None:
        values["rating"] = rating
    if summary is not None:
        values["summary"] = summary.strip()
    await db.execute(update(Review).where(Review.id == row.id).values(**values))
    await db.refresh(row)
    return row


async def delete_review(db: AsyncSession, row: Review) -> None:
    await db.execute(delete(Review).where(Review.id == row.id))
