"""Live feeds over graphql-transport-ws, fed by PostgreSQL LISTEN/NOTIFY (observatory.events)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

import strawberry
from sqlalchemy import ColumnElement, select
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.db.models import Session as SessionRow
from observatory.events import Event
from observatory.graphql.context import Context
from observatory.graphql.permissions import scoped_subscription
from observatory.graphql.queries import load_sync_status
from observatory.graphql.resolvers.alerts import alerts_by_id
from observatory.graphql.resolvers.common import opt_id
from observatory.graphql.resolvers.sessions import SessionFilter, session_conditions
from observatory.graphql.types.alerts import Alert
from observatory.graphql.types.core import Session
from observatory.graphql.types.review_queue import ReviewJob
from observatory.graphql.types.sync import SyncSourceStatus
from observatory.review import jobs


async def _sessions(info: Info, kind: str, filter: SessionFilter | None) -> AsyncGenerator[Session]:
    ctx: Context = info.context
    # The list query's own predicate (validated now, before the first event), run against the
    # event's few ids: one query per event and distinct filter, shared by its subscribers.
    conds = session_conditions(filter)
    key = f"rows:{filter!r}"
    with ctx.subscribe(kind) as sub:
        async for event in sub:
            rows: list[SessionRow] = await event.once(key, partial(_rows, ctx, event, conds))
            for row in rows:
                # Long-lived socket: loaders per event (shared by its subscribers), so
                # nothing is served stale and fan-out costs one batch per relation.
                ctx.loaders = event.shared.setdefault("loaders", ctx.fresh_loaders())
                yield Session.from_row(row)


async def _rows(ctx: Context, event: Event, conds: list[ColumnElement[bool]]) -> list[SessionRow]:
    async with ctx.db() as db:
        stmt = select(SessionRow).where(SessionRow.id.in_(event.ids), *conds)
        return list((await db.execute(stmt.order_by(SessionRow.id))).scalars())


async def _jobs(ctx: Context, event: Event, session_id: int | None) -> list[jobs.JobInfo]:
    async with ctx.db() as db:
        return await jobs.jobs_by_ids(db, event.ids, session_id=session_id)


@strawberry.type
class Subscription:
    @scoped_subscription(Scope.SESSIONS_READ, description="Sessions as they are first stored.")
    async def session_created(
        self, info: Info, filter: SessionFilter | None = None
    ) -> AsyncGenerator[Session]:
        async for s in _sessions(info, "session_created", filter):
            yield s

    @scoped_subscription(
        Scope.SESSIONS_READ, description="Sessions whose status, runs, reviews or metadata changed."
    )
    async def session_updated(
        self, info: Info, filter: SessionFilter | None = None
    ) -> AsyncGenerator[Session]:
        async for s in _sessions(info, "session_updated", filter):
            yield s

    @scoped_subscription(
        Scope.REVIEWS_READ,
        description="AI review jobs as they are queued, claimed, finished or failed (optionally "
        "one session's), so a client follows a job without polling.",
    )
    async def review_job_updated(
        self, info: Info, session_id: strawberry.ID | None = None
    ) -> AsyncGenerator[ReviewJob]:
        ctx: Context = info.context
        only = opt_id(session_id, "sessionId")
        with ctx.services.events.subscribe("review_job") as sub:
            async for event in sub:
                rows = await event.once(f"jobs:{only}", lambda e=event: _jobs(ctx, e, only))
                for job in rows:
                    yield ReviewJob.build(job)

    # snapshot: a subscriber joining a shared run (graphql/fanout.py) first gets its last frame.
    @scoped_subscription(
        Scope.SYNC_READ,
        description="All sync sources: now, then on every state change.",
        metadata={"snapshot": True},
    )
    async def sync_status(self, info: Info) -> AsyncGenerator[list[SyncSourceStatus]]:
        ctx: Context = info.context
        with ctx.subscribe("sync_status") as sub:
            yield await load_sync_status(info)
            async for event in sub:
                yield await event.once("sync_status", lambda: load_sync_status(info))

    @scoped_subscription(Scope.ALERTS_READ, description="Alerts as they fire (silenced ones too).")
    async def alert_fired(self, info: Info, agent_id: str | None = None) -> AsyncGenerator[Alert]:
        ctx: Context = info.context
        with ctx.services.events.subscribe("alert_fired") as sub:
            async for event in sub:
                alerts = await event.once("alerts", lambda e=event: alerts_by_id(info, e.ids))
                for alert in alerts:
                    if agent_id is None or alert.agent_id == agent_id:
                        yield alert
