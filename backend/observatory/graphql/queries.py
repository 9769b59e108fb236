from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.db.models import Agent as AgentRow
from observatory.db.models import ApiKey as ApiKeyRow
from observatory.db.models import SyncSource
from observatory.graphql.pagination import parse_id
from observatory.graphql.permissions import scoped
from observatory.graphql.preload import preload_sessions
from observatory.graphql.resolvers import metrics as metric_resolvers
from observatory.graphql.resolvers.alerts import AlertsQuery
from observatory.graphql.resolvers.exports import ExportQuery
from observatory.graphql.resolvers.improve import ImproveQuery
from observatory.graphql.resolvers.proposals import ProposalQuery
from observatory.graphql.resolvers.review_queue import ReviewQueueQuery
from observatory.graphql.resolvers.reviews import ReviewFilter, list_reviews
from observatory.graphql.resolvers.runs import (
    HeartbeatFilter,
    RunFilter,
    heartbeat_as_run_filter,
    list_runs,
)
from observatory.graphql.resolvers.sessions import (
    SessionFilter,
    SessionOrder,
    get_session,
    list_sessions,
)
from observatory.graphql.resolvers.tools import ToolsQuery
from observatory.graphql.resolvers.webhooks import WebhooksQuery
from observatory.graphql.types.auth import ApiKey, Viewer
from observatory.graphql.types.core import (
    Agent,
    ReviewConnection,
    Run,
    RunConnection,
    Session,
    SessionConnection,
)
from observatory.graphql.types.metrics import (
    DurationBucket,
    MetricBucket,
    MetricFilterInput,
    MetricGroupBy,
    MetricSeries,
    MetricSummary,
    VerdictPoint,
)
from observatory.graphql.types.sync import SyncSourceStatus

From = Annotated[datetime, strawberry.argument(name="from", description="Inclusive start.")]
To = Annotated[datetime, strawberry.argument(description="Exclusive end.")]


@strawberry.type
# Field order (and so schema.graphql) follows the bases: review queue, improve, alerts, export,
# proposals, tools, webhooks, then these.
class Query(
    ReviewQueueQuery,
    ImproveQuery,
    AlertsQuery,
    ExportQuery,
    ProposalQuery,
    ToolsQuery,
    WebhooksQuery,
):
    @scoped(Scope.SESSIONS_READ, description="Who is calling: key name, role and scopes.")
    def me(self, info: Info) -> Viewer:
        c = info.context.caller
        return Viewer(
            key_id=strawberry.ID(str(c.key_id)),
            name=c.name,
            role=c.role,
            scopes=sorted(s.value for s in c.scopes),
        )

    @scoped(Scope.SESSIONS_READ, description="Sessions, filtered and keyset-paginated.")
    async def sessions(
        self,
        info: Info,
        filter: SessionFilter | None = None,
        order_by: SessionOrder | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> SessionConnection:
        page = await list_sessions(info, filter, order_by, first, after)
        connection = SessionConnection.of(page, Session.from_row)
        await preload_sessions(info, [e.node for e in connection.edges])
        return connection

    @scoped(Scope.SESSIONS_READ, description="One session by id or by key.")
    async def session(
        self, info: Info, id: strawberry.ID | None = None, key: str | None = None
    ) -> Session | None:
        row = await get_session(info, id, key)
        return Session.from_row(row) if row else None

    @scoped(Scope.SESSIONS_READ, description="Heartbeat runs across agents, newest first.")
    async def heartbeats(
        self,
        info: Info,
        filter: HeartbeatFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> RunConnection:
        run_filter, extra = heartbeat_as_run_filter(filter)
        page = await list_runs(info, run_filter, first, after, extra=extra)
        return RunConnection.of(page, Run.from_row)

    @scoped(Scope.SESSIONS_READ, description="Runs, newest first.")
    async def runs(
        self,
        info: Info,
        filter: RunFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> RunConnection:
        return RunConnection.of(await list_runs(info, filter, first, after), Run.from_row)

    @scoped(Scope.SESSIONS_READ)
    async def run(self, info: Info, id: strawberry.ID) -> Run | None:
        row = await info.context.loaders.run.load(parse_id(id))
        return Run.from_row(row) if row else None

    @scoped(Scope.SESSIONS_READ, description="All agents.")
    async def agents(self, info: Info) -> list[Agent]:
        async with info.context.db() as db:
            rows = (await db.execute(select(AgentRow).order_by(AgentRow.id))).scalars()
            return [Agent.from_row(a) for a in rows]

    @scoped(Scope.SESSIONS_READ)
    async def agent(self, info: Info, id: strawberry.ID) -> Agent | None:
        row = await info.context.loaders.agent.load(str(id))
        return Agent.from_row(row) if row else None

    @scoped(Scope.REVIEWS_READ, description="Reviews, newest first.")
    async def reviews(
        self,
        info: Info,
        filter: ReviewFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ReviewConnection:
        return await list_reviews(info, filter, first, after)

    @scoped(Scope.METRICS_READ, description="Aggregates over runs started in [from, to).")
    async def metric_summary(
        self, info: Info, from_: From, to: To, filter: MetricFilterInput | None = None
    ) -> MetricSummary:
        return await metric_resolvers.metric_summary(info, from_, to, filter)

    @scoped(Scope.METRICS_READ, description="Time buckets of run aggregates, split by a group.")
    async def metric_series(
        self,
        info: Info,
        group_by: MetricGroupBy,
        bucket: MetricBucket,
        from_: From,
        to: To,
        filter: MetricFilterInput | None = None,
    ) -> MetricSeries:
        return await metric_resolvers.metric_series(info, group_by, bucket, from_, to, filter)

    @scoped(Scope.METRICS_READ, description="Latest-review verdicts per bucket of session start.")
    async def verdict_series(
        self,
        info: Info,
        bucket: MetricBucket,
        from_: From,
        to: To,
        filter: MetricFilterInput | None = None,
    ) -> list[VerdictPoint]:
        return await metric_resolvers.verdict_series(info, bucket, from_, to, filter)

    @scoped(Scope.METRICS_READ, description="Run duration distribution (log-like buckets).")
    async def duration_histogram(
        self, info: Info, from_: From, to: To, filter: MetricFilterInput | None = None
    ) -> list[DurationBucket]:
        return await metric_resolvers.duration_histogram(info, from_, to, filter)

    @scoped(Scope.SYNC_READ, description="Every sync source with its staleness.")
    async def sync_status(self, info: Info) -> list[SyncSourceStatus]:
        return await load_sync_status(info)

    @scoped(Scope.KEYS_ADMIN, description="All API keys (secrets are never shown).")
    async def api_keys(self, info: Info) -> list[ApiKey]:
        async with info.context.db() as db:
            rows = (await db.execute(select(ApiKeyRow).order_by(ApiKeyRow.id))).scalars()
            return [ApiKey.from_row(k) for k in rows]


async def load_sync_status(info: Info) -> list[SyncSourceStatus]:
    stale_after = info.context.settings.stale_after_s
    async with info.context.db() as db:
        rows = (await db.execute(select(SyncSource).order_by(SyncSource.id))).scalars()
        return [SyncSourceStatus.from_row(r, stale_after) for r in rows]
