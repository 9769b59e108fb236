"""The relation-heavy core types: Agent, Session, Run, Message, Review.

Scalar fields are copied from the row when the object is built; every relation goes through a
per-request dataloader (``info.context.loaders``), unless a list page preloaded it for all its
rows (``_preloaded``, filled and read by ``graphql/preload.py``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.db import models
from observatory.graphql.permissions import scoped
from observatory.graphql.resolvers.messages import list_messages
from observatory.graphql.resolvers.metrics import check_metric_range
from observatory.graphql.resolvers.runs import session_runs
from observatory.graphql.resolvers.sessions import SessionFilter, list_sessions
from observatory.graphql.types.connections import Connection
from observatory.graphql.types.metrics import MetricSummary
from observatory.graphql.types.scalars import (
    JSON,
    BigInt,
    MessageRole,
    ReviewerKind,
    RunStatus,
    RunTrigger,
    SessionKind,
    SessionStatus,
    Verdict,
)
from observatory.sync.source import MessageContent, public_message


@strawberry.type(description="An agent (e.g. `sofia`) as seen by its provider.")
class Agent:
    id: strawberry.ID
    display_name: str | None
    provider: str
    first_seen_at: datetime
    last_seen_at: datetime

    @classmethod
    def from_row(cls, row: models.Agent) -> Agent:
        return cls(
            id=strawberry.ID(row.id),
            display_name=row.display_name,
            provider=row.provider,
            first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at,
        )

    @strawberry.field(description="Sessions of this agent, newest first.")
    async def sessions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> SessionConnection:
        page = await list_sessions(
            info, SessionFilter(agent_ids=[str(self.id)]), None, first, after
        )
        return SessionConnection.of(page, Session.from_row)

    @scoped(Scope.METRICS_READ, description="Aggregates over this agent's runs in [from, to).")
    async def metrics(
        self, info: Info, from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime
    ) -> MetricSummary:
        check_metric_range(info, from_, to)
        found = await info.context.loaders.agent_metrics.load((str(self.id), from_, to))
        return MetricSummary.build(from_, to, found)

    @strawberry.field(description="The agent's eternal main session (`agent:<id>:main`).")
    async def main_session(self, info: Info) -> Session | None:
        row = await info.context.loaders.main_session.load(str(self.id))
        return Session.from_row(row) if row else None


@strawberry.type(
    description="Aggregates over a session's runs. Null means the provider did not report it."
)
class SessionMetrics:
    run_count: int
    failed_runs: int
    input_tokens: BigInt | None
    output_tokens: BigInt | None
    cache_read_tokens: BigInt | None
    cache_write_tokens: BigInt | None
    total_tokens: BigInt | None
    cost: Decimal | None = strawberry.field(description="USD.")
    wall_time_ms: BigInt | None = strawberry.field(description="Sum of run durations.")
    time_to_completion_ms: BigInt | None = strawberry.field(description="Session start to end.")
    usage_complete: bool = strawberry.field(description="Every run reported its token usage.")
    first_run_at: datetime | None
    last_run_at: datetime | None


def _ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)


def _sum(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


@strawberry.type(description="One conversation context at a provider, identified by source + key.")
class Session:
    id: strawberry.ID
    key: str
    kind: SessionKind
    status: SessionStatus
    provider_status: str | None
    provider_session_id: str | None
    title: str | None
    parent_key: str | None
    model: str | None
    channel: str | None
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    archived_at: datetime | None
    pruned_at: datetime | None = strawberry.field(
        description="When the provider stopped listing it (pruned there; kept here)."
    )
    synced_at: datetime | None
    transcript_synced_at: datetime | None = strawberry.field(
        description="When the cached transcript was last refreshed from the provider."
    )
    sync_error: str | None = strawberry.field(
        description="Why the last sync could not read this session's transcript (it is "
        "skipped and retried on later passes; the rest of its source keeps syncing)."
    )
    sync_error_at: datetime | None
    run_count: int
    total_tokens: BigInt | None
    total_cost: Decimal | None
    duration_ms: BigInt | None
    last_run_at: datetime | None
    agent_id: str
    feed_cursor: str | None = strawberry.field(
        default=None,
        description="Position of this event in a live feed (sessionCreated, sessionUpdated): pass it as `after` to "
        "resume there. Null outside a feed.",
    )
    _source_id: strawberry.Private[int]
    _latest_review_id: strawberry.Private[int | None]
    # Relations a list page preloaded, by field name ("agent", "metrics", "latestReview").
    _preloaded: strawberry.Private[dict[str, Any] | None] = None

    @classmethod
    def from_row(cls, row: models.Session) -> Session:
        return cls(
            id=strawberry.ID(str(row.id)),
            key=row.key,
            kind=row.kind,
            status=row.status,
            provider_status=row.provider_status,
            provider_session_id=row.provider_session_id,
            title=row.title,
            parent_key=row.parent_key,
            model=row.model,
            channel=row.channel,
            started_at=row.started_at,
            updated_at=row.updated_at,
            ended_at=row.ended_at,
            archived_at=row.archived_at,
            pruned_at=row.pruned_at,
            synced_at=row.synced_at,
            transcript_synced_at=row.transcript_synced_at,
            sync_error=public_message(row.sync_error),
            sync_error_at=row.sync_error_at,
            run_count=row.run_count,
            total_tokens=row.total_tokens,
            total_cost=row.total_cost,
            duration_ms=row.duration_ms,
            last_run_at=row.last_run_at,
            agent_id=row.agent_id,
            _source_id=row.source_id,
            _latest_review_id=row.latest_review_id,
        )

    @strawberry.field
    async def agent(self, info: Info) -> Agent:
        return Agent.from_row(await info.context.loaders.agent.load(self.agent_id))

    @strawberry.field(description="Name of the sync source this session came from.")
    async def source(self, info: Info) -> str:
        return str(await info.context.loaders.source_name.load(self._source_id))

    @strawberry.field(description="The session that spawned this one, if it is stored here.")
    async def parent(self, info: Info) -> Session | None:
        if self.parent_key is None:
            return None
        row = await info.context.loaders.session_by_key.load((self._source_id, self.parent_key))
        return Session.from_row(row) if row else None

    @strawberry.field(description="Task sessions this session spawned, newest first.")
    async def children(self, info: Info) -> list[Session]:
        rows = await info.context.loaders.children.load((self._source_id, self.key))
        return [Session.from_row(r) for r in rows]

    @strawberry.field
    async def child_count(self, info: Info) -> int:
        return int(await info.context.loaders.child_count.load((self._source_id, self.key)))

    @strawberry.field
    async def metrics(self, info: Info) -> SessionMetrics:
        return self.metrics_of(await info.context.loaders.session_metrics.load(int(self.id)))

    def metrics_of(self, row: Any) -> SessionMetrics:
        """The metrics from a ``session_metrics`` loader row (None: the session has no runs)."""
        ttc = _ms(self.started_at, self.ended_at)
        if row is None:
            return SessionMetrics(
                run_count=0, failed_runs=0, input_tokens=None, output_tokens=None,
                cache_read_tokens=None, cache_write_tokens=None, total_tokens=None, cost=None,
                wall_time_ms=None, time_to_completion_ms=ttc, usage_complete=False,
                first_run_at=None, last_run_at=None,
            )  # fmt: skip
        return SessionMetrics(
            run_count=row.run_count,
            failed_runs=row.failed_runs,
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cache_read_tokens=row.cache_read_tokens,
            cache_write_tokens=row.cache_write_tokens,
            total_tokens=_sum(
                row.input_tokens, row.output_tokens, row.cache_read_tokens, row.cache_write_tokens
            ),
            cost=row.cost,
            wall_time_ms=row.wall_time_ms,
            time_to_completion_ms=ttc,
            usage_complete=bool(row.usage_complete),
            first_run_at=row.first_run_at,
            last_run_at=row.last_run_at,
        )

    @strawberry.field(description="Runs (agent invocations) in time order.")
    async def runs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        statuses: Annotated[
            list[RunStatus] | None,
            strawberry.argument(description="Only runs in these states (e.g. the failed ones)."),
        ] = None,
        started_after: Annotated[
            datetime | None,
            strawberry.argument(
                description="Only runs started at or after this time (open the timeline at a run)."
            ),
        ] = None,
    ) -> RunConnection:
        page = await session_runs(info, int(self.id), first, after, statuses, started_after)
        return RunConnection.of(page, Run.from_row)

    @strawberry.field(description="The cached transcript, in order.")
    async def messages(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> MessageConnection:
        page = await list_messages(
            info, session_id=int(self.id), run_id=None, first=first, after=after
        )
        return MessageConnection.of(page, Message.from_row)

    @scoped(Scope.REVIEWS_READ, description="All reviews, newest first.")
    async def reviews(self, info: Info) -> list[Review]:
        rows = await info.context.loaders.reviews_by_session.load(int(self.id))
        return [Review.from_row(r) for r in rows]

    @scoped(Scope.REVIEWS_READ, description="The latest human review, else the latest AI review.")
    async def latest_review(self, info: Info) -> Review | None:
        if self._latest_review_id is None:
            return None
        row = await info.context.loaders.review.load(self._latest_review_id)
        return Review.from_row(row) if row else None


@strawberry.type(
    description="One agent invocation: a user turn, heartbeat poll, cron fire, task run."
)
class Run:
    id: strawberry.ID
    provider_run_id: str
    session_id: strawberry.ID
    agent_id: str
    trigger: RunTrigger
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    duration_ms: BigInt | None
    model: str | None
    input_tokens: BigInt | None
    output_tokens: BigInt | None
    cache_read_tokens: BigInt | None
    cache_write_tokens: BigInt | None
    total_tokens: BigInt | None
    cost: Decimal | None
    error: str | None
    prompt_preview: str | None
    outcome_preview: str | None
    tool_call_count: int
    tool_error_count: int
    feed_cursor: str | None = strawberry.field(
        default=None,
        description="Position of this event in a live feed (runFinished): pass it as `after` to "
        "resume there. Null outside a feed.",
    )

    @classmethod
    def from_row(cls, r: models.Run) -> Run:
        return cls(
            id=strawberry.ID(str(r.id)),
            provider_run_id=r.provider_run_id,
            session_id=strawberry.ID(str(r.session_id)),
            agent_id=r.agent_id,
            trigger=r.trigger,
            status=r.status,
            started_at=r.started_at,
            finished_at=r.finished_at,
            duration_ms=r.duration_ms,
            model=r.model,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cache_read_tokens=r.cache_read_tokens,
            cache_write_tokens=r.cache_write_tokens,
            total_tokens=_sum(
                r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens
            ),
            cost=r.cost,
            error=r.error,
            prompt_preview=r.prompt_preview,
            outcome_preview=r.outcome_preview,
            tool_call_count=r.tool_call_count,
            tool_error_count=r.tool_error_count,
        )

    @strawberry.field
    async def session(self, info: Info) -> Session:
        return Session.from_row(await info.context.loaders.session.load(int(self.session_id)))

    @strawberry.field
    async def agent(self, info: Info) -> Agent:
        return Agent.from_row(await info.context.loaders.agent.load(self.agent_id))

    @strawberry.field(description="This run's part of the transcript.")
    async def messages(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> MessageConnection:
        page = await list_messages(
            info, session_id=None, run_id=int(self.id), first=first, after=after
        )
        return MessageConnection.of(page, Message.from_row)

    @scoped(Scope.REVIEWS_READ, description="Reviews of this run (e.g. of one heartbeat).")
    async def reviews(self, info: Info) -> list[Review]:
        rows = await info.context.loaders.reviews_by_run.load(int(self.id))
        return [Review.from_row(r) for r in rows]

    @scoped(Scope.REVIEWS_READ)
    async def latest_review(self, info: Info) -> Review | None:
        row = await info.context.loaders.latest_run_review.load(int(self.id))
        return Review.from_row(row) if row else None


@strawberry.type(description="A tool call made by the assistant in a message.")
class ToolCall:
    id: str | None
    name: str
    arguments: JSON | None


@strawberry.type(description="Which tool call a tool-result message answers.")
class ToolResult:
    tool_call_id: str | None
    name: str | None
    is_error: bool


@strawberry.type(description="One transcript message (cached from the provider).")
class Message:
    id: strawberry.ID
    seq: int
    provider_session_id: str
    provider_event_id: str | None
    parent_event_id: str | None
    run_id: strawberry.ID | None
    role: MessageRole
    content: JSON = strawberry.field(
        description=(
            "The message in the neutral model: {blocks: [{type: text|thinking|tool_call|"
            "tool_result|compaction|…}], stop_reason?, error_message?, meta?}."
        )
    )
    created_at: datetime
    model: str | None
    input_tokens: BigInt | None
    output_tokens: BigInt | None
    cost: Decimal | None
    is_error: bool

    @classmethod
    def from_row(cls, m: models.Message) -> Message:
        return cls(
            id=strawberry.ID(str(m.id)),
            seq=m.seq,
            provider_session_id=m.provider_session_id,
            provider_event_id=m.provider_event_id,
            parent_event_id=m.parent_event_id,
            run_id=strawberry.ID(str(m.run_id)) if m.run_id else None,
            role=m.role,
            content=m.content,
            created_at=m.created_at,
            model=m.model,
            input_tokens=m.input_tokens,
            output_tokens=m.output_tokens,
            cost=m.cost,
            is_error=m.is_error,
        )

    @strawberry.field(description="The message's text blocks joined.")
    def text(self) -> str:
        return MessageContent.from_json(self.content).text

    @strawberry.field
    def tool_calls(self) -> list[ToolCall]:
        return [
            ToolCall(id=c.id, name=c.name, arguments=c.arguments)
            for c in MessageContent.from_json(self.content).tool_calls
        ]

    @strawberry.field(description="For tool-result messages: the call answered.")
    def tool_result(self) -> ToolResult | None:
        if self.role != MessageRole.TOOL_RESULT:
            return None
        result = MessageContent.from_json(self.content).tool_result
        return ToolResult(
            tool_call_id=result.tool_call_id if result else None,
            name=result.name if result else None,
            is_error=self.is_error,
        )


@strawberry.type(description="A judgement on a session (or one of its runs, e.g. a heartbeat).")
class Review:
    id: strawberry.ID
    session_id: strawberry.ID
    run_id: strawberry.ID | None
    verdict: Verdict
    rating: int = strawberry.field(description="1 (worst) to 5 (best).")
    summary: str
    reviewer_kind: ReviewerKind
    reviewer_model: str | None
    confidence: float | None
    evidence: JSON | None
    suggestions: JSON | None
    input_tokens: BigInt | None = strawberry.field(
        description="AI reviews: tokens the review cost."
    )
    output_tokens: BigInt | None
    cost: Decimal | None = strawberry.field(description="AI reviews: USD the review cost.")
    created_at: datetime
    updated_at: datetime
    _created_by_key_id: strawberry.Private[int | None]
    # Relations a list page preloaded, by field name ("createdBy").
    _preloaded: strawberry.Private[dict[str, Any] | None] = None

    @classmethod
    def from_row(cls, r: models.Review) -> Review:
        return cls(
            id=strawberry.ID(str(r.id)),
            session_id=strawberry.ID(str(r.session_id)),
            run_id=strawberry.ID(str(r.run_id)) if r.run_id else None,
            verdict=r.verdict,
            rating=r.rating,
            summary=r.summary,
            reviewer_kind=r.reviewer_kind,
            reviewer_model=r.reviewer_model,
            confidence=r.confidence,
            evidence=r.evidence,
            suggestions=r.suggestions,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cost=r.cost,
            created_at=r.created_at,
            updated_at=r.updated_at,
            _created_by_key_id=r.created_by_api_key_id,
        )

    @strawberry.field(description="Name of the API key that wrote the review (null: system/AI).")
    async def created_by(self, info: Info) -> str | None:
        if self._created_by_key_id is None:
            return None
        return await info.context.loaders.key_name.load(self._created_by_key_id)

    # per_caller: shared subscription runs (graphql/fanout.py) group by caller key when selected.
    @strawberry.field(
        description="True when the caller may edit or delete this review.",
        metadata={"per_caller": True},
    )
    def editable(self, info: Info) -> bool:
        caller = info.context.caller
        if caller is None or Scope.REVIEWS_WRITE not in caller.scopes:
            return False
        return Scope.KEYS_ADMIN in caller.scopes or caller.key_id == self._created_by_key_id

    @strawberry.field
    async def session(self, info: Info) -> Session:
        return Session.from_row(await info.context.loaders.session.load(int(self.session_id)))

    @strawberry.field
    async def run(self, info: Info) -> Run | None:
        if self.run_id is None:
            return None
        row = await info.context.loaders.run.load(int(self.run_id))
        return Run.from_row(row) if row else None


# Connections of the types above (the generic pair lives in types/connections.py).
@strawberry.type
class SessionConnection(Connection[Session]):
    pass


@strawberry.type
class RunConnection(Connection[Run]):
    pass


@strawberry.type
class MessageConnection(Connection[Message]):
    pass


@strawberry.type
class ReviewConnection(Connection[Review]):
    pass
