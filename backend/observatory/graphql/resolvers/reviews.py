from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Select, and_, select
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.db.models import Review, Session
from observatory.graphql.errors import BadUserInput, Forbidden, NotFound
from observatory.graphql.pagination import Key, keyset_page, parse_id
from observatory.graphql.resolvers.common import check_range
from observatory.graphql.resolvers.sessions import require_session
from observatory.graphql.types.core import Review as ReviewType
from observatory.graphql.types.core import ReviewConnection
from observatory.graphql.types.scalars import ReviewerKind, Verdict
from observatory.review import writes


@strawberry.input
class ReviewFilter:
    session_id: strawberry.ID | None = None
    agent_ids: list[str] | None = None
    verdicts: list[Verdict] | None = None
    reviewer_kinds: list[ReviewerKind] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@strawberry.input(description="A review of a session, or of one run of it (e.g. a heartbeat).")
class CreateReviewInput:
    session_id: strawberry.ID
    run_id: strawberry.ID | None = None
    verdict: Verdict
    rating: int = strawberry.field(description="1 (worst) to 5 (best).")
    summary: str = ""


@strawberry.input
class UpdateReviewInput:
    verdict: Verdict | None = None
    rating: int | None = None
    summary: str | None = None


async def list_reviews(
    info: Info, filter: ReviewFilter | None, first: int | None, after: str | None
) -> ReviewConnection:
    base: Select[Any] = select(Review)
    conds = []
    if filter is not None:
        if filter.session_id is not None:
            conds.append(Review.session_id == parse_id(filter.session_id, "filter.sessionId"))
        if filter.agent_ids:
            base = base.join(Session, Session.id == Review.session_id)
            conds.append(Session.agent_id.in_(filter.agent_ids))
        if filter.verdicts:
            conds.append(Review.verdict.in_(filter.verdicts))
        if filter.reviewer_kinds:
            conds.append(Review.reviewer_kind.in_(filter.reviewer_kinds))
        check_range(filter.created_after, filter.created_before, "filter.createdAfter")
        if filter.created_after:
            conds.append(Review.created_at >= filter.created_after)
        if filter.created_before:
            conds.append(Review.created_at < filter.created_before)
    if conds:
        base = base.where(and_(*conds))
    keys = [Key(Review.created_at, "datetime"), Key(Review.id, "int")]
    page = await keyset_page(info, base, keys, first=first, after=after, descending=True)
    return ReviewConnection.of(page, ReviewType.from_row)


@contextlib.contextmanager
def write_errors() -> Iterator[None]:
    """``review.writes``' domain errors as GraphQL errors naming the input field."""
    try:
        yield
    except writes.TargetNotFound as exc:
        raise NotFound(str(exc), field=exc.field) from None
    except writes.InvalidReview as exc:
        raise BadUserInput(str(exc), field=exc.field) from None


async def create_review(info: Info, input: CreateReviewInput) -> ReviewType:
    with write_errors():
        writes.validate_review(input.rating, input.summary)
    session = await require_session(info, input.session_id)
    run_id = None if input.run_id is None else parse_id(input.run_id, "runId")
    async with info.context.db() as db, db.begin():
        with write_errors():
            row = await writes.create_human_review(
                db,
                session_id=session.id,
                run_id=run_id,
                verdict=input.verdict,
                rating=input.rating,
                summary=input.summary,
                api_key_id=info.context.caller.key_id,
            )
    return ReviewType.from_row(row)


async def _own_review(info: Info, db: Any, review_id: strawberry.ID) -> Review:
    row = await db.get(Review, parse_id(review_id), with_for_update=True)
    if row is None:
        raise NotFound(f"no review with id {review_id}", field="id")
    caller = info.context.caller
    if Scope.KEYS_ADMIN not in caller.scopes and row.created_by_api_key_id != caller.key_id:
        raise Forbidden("only the review's author or an admin may change it")
    return row


async def update_review(info: Info, id: strawberry.ID, input: UpdateReviewInput) -> ReviewType:
    with write_errors():
        writes.validate_review(input.rating, input.summary)
    async with info.context.db() as db, db.begin():
        row = await _own_review(info, db, id)
        await writes.update_review(
            db, row, verdict=input.verdict, rating=input.rating, summary=input.summary
        )
    return ReviewType.from_row(row)


async def delete_review(info: Info, id: strawberry.ID) -> strawberry.ID:
    async with info.context.db() as db, db.begin():
        row = await _own_review(info, db, id)
        await writes.delete_review(db, row)
    return strawberry.ID(str(row.id))
