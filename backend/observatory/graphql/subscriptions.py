"""Live feeds over graphql-transport-ws: session and run feeds resume from a cursor
(observatory.feeds); NOTIFYs (observatory.events) wake them."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from sqlalchemy import ColumnElement, select
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.db.enums import RunStatus, RunTrigger, SessionKind
from observatory.db.models import Run as RunRow
from observatory.db.models import Session as SessionRow
from observatory.events import Event
from observatory.feeds.cursor import Position
from observatory.feeds.follow import follow
from observatory.graphql.context import Context
from observatory.graphql.errors import BadUserInput
from observatory.graphql.permissions import scoped_subscription
from observatory.graphql.queries import load_sync_status
from observatory.graphql.resolvers.alerts import alerts_by_id
from observatory.graphql.resolvers.common import opt_id
from observatory.graphql.resolvers.sessions import SessionFilter, session_conditions
from observatory.graphql.types.alerts import Alert
from observatory.graphql.types.core import Run, Session
from observatory.graphql.types.review_queue import ReviewJob
from observatory.graphql.types.sync import SyncSourceStatus
from observatory.review import jobs

_AFTER = strawberry.argument(
    description="A `feedCursor` from an earlier event: first replay, in order, every matching "
    "change after it (each entity's latest state, once), then continue live. Omitted: from now. "
    "A cursor older than the retained feed fails with CURSOR_EXPIRED (re-query, then follow)."
)


def _after(after: str | None) -> Position | None:
    return None if after is None else Position.decode(after)


async def _sessions(
    info: Info, kind: str, filter: SessionFilter | None, after: str | None
) -> AsyncGenerator[Session]:
    ctx: Context = info.context
    # The list query's own predicate (validated now, before the first event), run against the
    # changed ids of each read of the feed log.
    conds = session_conditions(filter)
    start = _after(after)
    primary = ctx.services.session_factory  # the log and the rows it names: never a replica

    async def load(ids: list[int]) -> dict[int, SessionRow]:
        async with primary() as db:
            stmt = select(SessionRow).where(SessionRow.id.in_(ids), *conds)
            return {r.id: r for r in (await db.execute(stmt)).scalars()}

    with ctx.subscribe("feed") as sub:
        async for pos, row in follow(primary, sub, (kind,), start, load):
            # Long-lived socket: fresh loaders per event, so nothing is served stale.
            ctx.loaders = ctx.fresh_loaders()
            session = Session.from_row(row)
            session.feed_cursor = pos.encode()
            yield session


@strawberry.input(description="Which finished runs a run feed carries; all given must hold.")
class RunFeedFilter:
    agent_ids: list[str] | None = None
    kinds: list[SessionKind] | None = strawberry.field(
        default=None, description="Kinds of the run's session (task, heartbeat, cron, ...)."
    )
    triggers: list[RunTrigger] | None = strawberry.field(
        default=None, description="HEARTBEAT for every heartbeat poll, wherever it ran."
    )
    statuses: list[RunStatus] | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        for name in ("agent_ids", "kinds", "triggers", "statuses"):
            values = getattr(self, name)
            if values is not None and len(values) > 100:
                raise BadUserInput("at most 100 values", field=f"filter.{name}")
        conds: list[ColumnElement[bool]] = []
        if self.agent_ids:
            conds.append(RunRow.agent_id.in_(self.agent_ids))
        if self.kinds:
            conds.append(SessionRow.kind.in_(self.kinds))
        if self.triggers:
            conds.append(RunRow.trigger.in_(self.triggers))
        if self.statuses:
            conds.append(RunRow.status.in_(self.statuses))
        return conds


async def _runs(info: Info, filter: RunFeedFilter | None, after: str | None) -> AsyncGenerator[Run]:
    ctx: Context = info.context
    conds = filter.conditions() if filter else []
    start = _after(after)
    primary = ctx.services.session_factory

    async def load(ids: list[int]) -> dict[int, RunRow]:
        async with primary() as db:
            stmt = (
                select(RunRow)
                .join(SessionRow, SessionRow.id == RunRow.session_id)
                .where(RunRow.id.in_(ids), *conds)
            )
            return {r.id: r for r in (await db.execute(stmt)).scalars()}

    with ctx.subscribe("feed") as sub:
        async for pos, row in follow(primary, sub, ("run_finished",), start, load):
            ctx.loaders = ctx.fresh_loaders()
            run = Run.from_row(row)
            run.feed_cursor = pos.encode()
            yield run


async def _jobs(ctx: Context, event: Event, session_id: int | None) -> list[jobs.JobInfo]:
    async with ctx.db() as db:
        return await jobs.jobs_by_ids(db, event.ids, session_id=session_id)


@strawberry.type
class Subscription:
    @scoped_subscription(
        Scope.SESSIONS_READ,
        description="Sessions as they are first stored.",
        metadata={"unshared": True},
    )
    async def session_created(
        self,
        info: Info,
        filter: SessionFilter | None = None,
        after: Annotated[str | None, _AFTER] = None,
    ) -> AsyncGenerator[Session]:
        async for s in _sessions(info, "session_created", filter, after):
            yield s

    @scoped_subscription(
        Scope.SESSIONS_READ,
        description="Sessions whose status, runs, reviews or metadata changed.",
        metadata={"unshared": True},
    )
    async def session_updated(
        self,
        info: Info,
        filter: SessionFilter | None = None,
        after: Annotated[str | None, _AFTER] = None,
    ) -> AsyncGenerator[Session]:
        async for s in _sessions(info, "session_updated", filter, after):
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

    @scoped_subscription(
        Scope.SESSIONS_READ,
        description="Runs as they finish (every heartbeat poll, task, cron fire, user turn).",
        metadata={"unshared": True},
    )
    async def run_finished(
        self,
        info: Info,
        filter: RunFeedFilter | None = None,
        after: Annotated[str | None, _AFTER] = None,
    ) -> AsyncGenerator[Run]:
        async for r in _runs(info, filter, after):
            yield r

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
