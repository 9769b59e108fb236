from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from strawberry.types import Info

from observatory.db.models import Review, Run, Session
from observatory.graphql.pagination import Key, Page, first_page, keyset_page, parse_id
from observatory.graphql.resolvers.common import check_range, like_pattern
from observatory.graphql.types.scalars import RunStatus, RunTrigger

HEARTBEAT_OK = "HEARTBEAT_OK"


@strawberry.input(description="All given conditions must hold; list conditions match any item.")
class RunFilter:
    session_id: strawberry.ID | None = None
    agent_ids: list[str] | None = None
    triggers: list[RunTrigger] | None = None
    statuses: list[RunStatus] | None = None
    models: list[str] | None = None
    started_after: datetime | None = None
    started_before: datetime | None = None
    search: str | None = strawberry.field(
        default=None, description="Substring of the session title, the prompt or the outcome."
    )
    reviewed: bool | None = strawberry.field(default=None, description="Has a run-level review.")
    has_error: bool | None = None


@strawberry.input(description="Heartbeat runs across agents.")
class HeartbeatFilter:
    agent_ids: list[str] | None = None
    statuses: list[RunStatus] | None = None
    search: str | None = strawberry.field(
        default=None, description="Substring of the session title, the prompt or the outcome."
    )
    started_after: datetime | None = None
    started_before: datetime | None = None
    quiet: bool | None = strawberry.field(
        default=None,
        description=f"True: only `{HEARTBEAT_OK}` replies; false: only ones that acted.",
    )
    reviewed: bool | None = None


@dataclass
class _Conditions:
    conds: list[ColumnElement[bool]]
    needs_session: bool = False


def run_conditions(f: RunFilter | None) -> _Conditions:
    out = _Conditions([])
    if f is None:
        return out
    if f.session_id is not None:
        out.conds.append(Run.session_id == parse_id(f.session_id, "filter.sessionId"))
    if f.agent_ids:
        out.conds.append(Run.agent_id.in_(f.agent_ids))
    if f.triggers:
        out.conds.append(Run.trigger.in_(f.triggers))
    if f.statuses:
        out.conds.append(Run.status.in_(f.statuses))
    if f.models:
        out.conds.append(Run.model.in_(f.models))
    check_range(f.started_after, f.started_before, "filter.startedAfter")
    if f.started_after:
        out.conds.append(Run.started_at >= f.started_after)
    if f.started_before:
        out.conds.append(Run.started_at < f.started_before)
    if f.search:
        pattern = like_pattern(f.search, "filter.search")
        out.conds.append(
            or_(
                Session.title.ilike(pattern),
                Run.prompt_preview.ilike(pattern),
                Run.outcome_preview.ilike(pattern),
            )
        )
        out.needs_session = True
    if f.reviewed is not None:
        has = exists().where(Review.run_id == Run.id)
        out.conds.append(has if f.reviewed else ~has)
    if f.has_error is not None:
        out.conds.append(Run.error.is_not(None) if f.has_error else Run.error.is_(None))
    return out


def heartbeat_as_run_filter(
    f: HeartbeatFilter | None,
) -> tuple[RunFilter, list[ColumnElement[bool]]]:
    extra: list[ColumnElement[bool]] = []
    if f is None:
        return RunFilter(triggers=[RunTrigger.HEARTBEAT]), extra
    if f.quiet is not None:
        quiet = Run.outcome_preview == HEARTBEAT_OK
        extra.append(quiet if f.quiet else or_(~quiet, Run.outcome_preview.is_(None)))
    return (
        RunFilter(
            agent_ids=f.agent_ids,
            triggers=[RunTrigger.HEARTBEAT],
            statuses=f.statuses,
            search=f.search,
            started_after=f.started_after,
            started_before=f.started_before,
            reviewed=f.reviewed,
        ),
        extra,
    )


async def list_runs(
    info: Info,
    filter: RunFilter | None,
    first: int | None,
    after: str | None,
    *,
    ascending: bool = False,
    extra: list[ColumnElement[bool]] | None = None,
) -> Page:
    c = run_conditions(filter)
    conds = c.conds + (extra or [])
    base: Select[Any] = select(Run)
    if c.needs_session:
        base = base.join(Session, Session.id == Run.session_id)
    if conds:
        base = base.where(and_(*conds))
    keys = [Key(Run.started_at, "datetime"), Key(Run.id, "int")]
    return await keyset_page(info, base, keys, first=first, after=after, descending=not ascending)


async def session_runs(
    info: Info,
    session_id: int,
    first: int | None,
    after: str | None,
    statuses: list[RunStatus] | None = None,
    started_after: datetime | None = None,
) -> Page:
    """A session's runs, oldest first; unfiltered first pages are batched across the sessions
    of a list (the dashboard's timeline filters, which asks for one session at a time)."""
    if after is not None or statuses or started_after is not None:
        run_filter = RunFilter(
            session_id=session_id, statuses=statuses, started_after=started_after
        )
        return await list_runs(info, run_filter, first, after, ascending=True)
    base: Select[Any] = select(Run).where(Run.session_id == session_id)
    keys = [Key(Run.started_at, "datetime"), Key(Run.id, "int")]
    loader = info.context.loaders.first_runs_by_session
    return await first_page(info, loader, session_id, base, keys, first)
