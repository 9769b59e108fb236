from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from strawberry.types import Info

from observatory.db.models import Session
from observatory.graphql.errors import BadUserInput, Conflict, NotFound
from observatory.graphql.pagination import Key, Page, keyset_page, parse_id
from observatory.graphql.resolvers.common import Direction, check_range, like_pattern
from observatory.graphql.types.scalars import SessionKind, SessionStatus, Verdict
from observatory.sessions_domain import status_from_provider


@strawberry.input(description="All given conditions must hold; list conditions match any item.")
class SessionFilter:
    ids: list[strawberry.ID] | None = None
    agent_ids: list[str] | None = None
    kinds: list[SessionKind] | None = None
    statuses: list[SessionStatus] | None = None
    search: str | None = strawberry.field(default=None, description="Substring of title or key.")
    started_after: datetime | None = None
    started_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    has_review: bool | None = None
    verdicts: list[Verdict] | None = strawberry.field(
        default=None, description="Verdict of the latest review (human wins over AI)."
    )
    models: list[str] | None = None
    parent_key: str | None = None
    include_pruned: bool = True


@strawberry.enum
class SessionOrderField(Enum):
    STARTED_AT = "started_at"
    UPDATED_AT = "updated_at"
    COST = "cost"
    TOKENS = "tokens"
    DURATION = "duration"


@strawberry.input
class SessionOrder:
    field: SessionOrderField = SessionOrderField.STARTED_AT
    direction: Direction = Direction.DESC


_SORT: dict[SessionOrderField, tuple[Any, str]] = {
    SessionOrderField.STARTED_AT: (Session.started_at, "datetime"),
    SessionOrderField.UPDATED_AT: (Session.updated_at, "datetime"),
    SessionOrderField.COST: (func.coalesce(Session.total_cost, -1), "decimal"),
    SessionOrderField.TOKENS: (func.coalesce(Session.total_tokens, -1), "int"),
    SessionOrderField.DURATION: (func.coalesce(Session.duration_ms, -1), "int"),
}


def session_conditions(f: SessionFilter | None) -> list[ColumnElement[bool]]:
    if f is None:
        return []
    conds: list[ColumnElement[bool]] = []
    if f.ids is not None:
        if len(f.ids) > 200:
            raise BadUserInput("at most 200 ids", field="filter.ids")
        conds.append(Session.id.in_([parse_id(i, "filter.ids") for i in f.ids]))
    if f.agent_ids:
        conds.append(Session.agent_id.in_(f.agent_ids))
    if f.kinds:
        conds.append(Session.kind.in_(f.kinds))
    if f.statuses:
        conds.append(Session.status.in_(f.statuses))
    if f.search:
        pattern = like_pattern(f.search, "filter.search")
        conds.append(or_(Session.title.ilike(pattern), Session.key.ilike(pattern)))
    check_range(f.started_after, f.started_before, "filter.startedAfter")
    check_range(f.updated_after, f.updated_before, "filter.updatedAfter")
    if f.started_after:
        conds.append(Session.started_at >= f.started_after)
    if f.started_before:
        conds.append(Session.started_at < f.started_before)
    if f.updated_after:
        conds.append(Session.updated_at >= f.updated_after)
    if f.updated_before:
        conds.append(Session.updated_at < f.updated_before)
    if f.has_review is not None:
        reviewed = Session.latest_review_id.is_not(None)
        conds.append(reviewed if f.has_review else ~reviewed)
    if f.verdicts:
        conds.append(Session.latest_verdict.in_([v.value for v in f.verdicts]))
    if f.models:
        conds.append(Session.model.in_(f.models))
    if f.parent_key:
        conds.append(Session.parent_key == f.parent_key)
    if not f.include_pruned:
        conds.append(Session.pruned_at.is_(None))
    return conds


async def list_sessions(
    info: Info,
    filter: SessionFilter | None,
    order_by: SessionOrder | None,
    first: int | None,
    after: str | None,
) -> Page:
    order = order_by or SessionOrder()
    sort_expr, sort_kind = _SORT[order.field]
    conds = session_conditions(filter)
    base: Select[Any] = select(Session).where(and_(*conds)) if conds else select(Session)
    keys = [Key(sort_expr, sort_kind), Key(Session.id, "int")]
    descending = order.direction == Direction.DESC
    return await keyset_page(info, base, keys, first=first, after=after, descending=descending)


async def get_session(info: Info, id: strawberry.ID | None, key: str | None) -> Session | None:
    if (id is None) == (key is None):
        raise BadUserInput("give exactly one of `id` or `key`", field="id" if id is None else "key")
    async with info.context.db() as db:
        if id is not None:
            row = await db.get(Session, parse_id(id))
        else:
            row = (
                await db.execute(
                    select(Session).where(Session.key == key).order_by(Session.id).limit(1)
                )
            ).scalar_one_or_none()
    return row


async def require_session(
    info: Info, session_id: strawberry.ID, field: str = "sessionId"
) -> Session:
    async with info.context.db() as db:
        row = await db.get(Session, parse_id(session_id, field))
    if row is None:
        raise NotFound(f"no session with id {session_id}", field=field)
    return row


async def set_archived(info: Info, id: strawberry.ID, *, archived: bool) -> Session:
    """Archive a finished session, or bring one back (its status then follows the provider's).
    Idempotent: archiving an archived session (or the reverse) changes nothing."""
    session_id = parse_id(id)
    async with info.context.db() as db, db.begin():
        row = await db.get(Session, session_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no session with id {id}", field="id")
        if (row.status == SessionStatus.ARCHIVED) == archived:
            return row
        if archived and row.status not in (SessionStatus.COMPLETED, SessionStatus.FAILED):
            raise Conflict(
                "only completed or failed sessions can be archived "
                f"(this one is {row.status.value})",
                field="id",
            )
        values: dict[str, Any] = (
            {"status": SessionStatus.ARCHIVED, "archived_at": datetime.now(UTC)}
            if archived
            else {
                "status": status_from_provider(row.provider_status, ended=row.ended_at is not None),
                "archived_at": None,
            }
        )
        await db.execute(update(Session).where(Session.id == session_id).values(**values))
        await db.refresh(row)
    return row
