"""GraphQL types of the tool analytics (observatory.improve.tools)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from observatory.db.tool_calls import ToolCallRow
from observatory.graphql.errors import BadUserInput
from observatory.graphql.types.connections import Connection
from observatory.graphql.types.core import Run, Session
from observatory.graphql.types.scalars import BigInt, SessionKind
from observatory.improve import tools as analytics


@strawberry.enum
class ToolGroupBy(Enum):
    TOOL = "tool"
    MODEL = "model"
    AGENT = "agent"


@strawberry.input(description="Restricts tool analytics to these agents/models/kinds/tools.")
class ToolFilterInput:
    agent_ids: list[str] | None = None
    models: list[str] | None = None
    kinds: list[SessionKind] | None = None
    tools: list[str] | None = None
    failing_only: bool = strawberry.field(
        default=False, description="Only tools that failed at least once in the range."
    )

    def to_domain(self) -> analytics.ToolFilter:
        for name in ("agent_ids", "models", "tools"):
            values = getattr(self, name)
            if values is not None and (len(values) > 100 or any(len(v) > 200 for v in values)):
                raise BadUserInput("at most 100 values of up to 200 characters", field=name)
        return analytics.ToolFilter(
            agent_ids=self.agent_ids,
            models=self.models,
            kinds=[k.value for k in self.kinds] if self.kinds else None,
            tools=self.tools,
            failing_only=self.failing_only,
        )


@strawberry.interface(description="Calls of a tool (or group) and how they went.")
class ToolStatsFields:
    calls: int = strawberry.field(description="Calls made, pending ones included.")
    completed: int = strawberry.field(description="Calls with a result: the n of errorRate.")
    errors: int
    pending: int = strawberry.field(description="Calls without a result yet (never errors).")
    error_rate: float | None = strawberry.field(description="errors / completed; null if n = 0.")
    duration_p50_ms: float | None = strawberry.field(description="Result time - call time.")
    duration_p95_ms: float | None


def _fields(s: analytics.ToolStats) -> dict[str, object]:
    return {
        "calls": s.calls,
        "completed": s.completed,
        "errors": s.errors,
        "pending": s.pending,
        "error_rate": s.error_rate,
        "duration_p50_ms": s.duration_p50_ms,
        "duration_p95_ms": s.duration_p95_ms,
    }


@strawberry.type
class ToolUsage(ToolStatsFields):
    tool: str
    group: str | None = strawberry.field(description="The splitBy value; null when not split.")
    sessions: int = strawberry.field(description="Sessions that called the tool.")

    @classmethod
    def build(cls, r: analytics.SummaryRow) -> ToolUsage:
        return cls(tool=r.tool, group=r.group, sessions=r.stats.sessions, **_fields(r.stats))


@strawberry.type
class ToolSeriesPoint(ToolStatsFields):
    bucket_start: datetime
    group: str

    @classmethod
    def build(cls, p: analytics.SeriesPoint) -> ToolSeriesPoint:
        return cls(bucket_start=p.bucket_start, group=p.group, **_fields(p.stats))


@strawberry.type
class ToolSeries:
    group_by: ToolGroupBy
    from_: datetime = strawberry.field(name="from")
    to: datetime
    groups: list[str] = strawberry.field(description="The most-called groups, most first.")
    points: list[ToolSeriesPoint]


def encode_group(tool: str, fingerprint: str) -> str:
    raw = json.dumps([tool, fingerprint], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_group(value: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode((value + "=" * (-len(value) % 4)).encode())
        tool, fingerprint = json.loads(raw.decode())
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError):
        raise BadUserInput("invalid error group id", field="group") from None
    if not isinstance(tool, str) or not isinstance(fingerprint, str):
        raise BadUserInput("invalid error group id", field="group")
    return tool, fingerprint


@strawberry.type(description="Failed calls of one tool whose error texts share a fingerprint.")
class ToolErrorGroup:
    id: strawberry.ID = strawberry.field(description="Pass to toolErrorCalls(group:).")
    tool: str
    fingerprint: str = strawberry.field(
        description="The error text with ids, paths, URLs, numbers and quoted values replaced."
    )
    count: int
    sessions: int
    first_seen: datetime
    last_seen: datetime
    latest_text: str | None
    trend: list[int] = strawberry.field(
        description="Failed calls in 12 equal slices of the range, oldest first."
    )

    @classmethod
    def build(cls, g: analytics.ErrorGroup) -> ToolErrorGroup:
        return cls(
            id=strawberry.ID(encode_group(g.tool, g.fingerprint)),
            tool=g.tool,
            fingerprint=g.fingerprint,
            count=g.count,
            sessions=g.sessions,
            first_seen=g.first_seen,
            last_seen=g.last_seen,
            latest_text=g.latest_text,
            trend=g.trend,
        )


@strawberry.type(description="One failed tool call, linking to its run and messages.")
class FailedToolCall:
    id: strawberry.ID
    tool: str
    tool_call_id: str | None
    agent_id: str
    model: str | None
    called_at: datetime
    result_at: datetime | None
    duration_ms: BigInt | None
    error_text: str | None
    session_id: strawberry.ID
    run_id: strawberry.ID | None
    call_message_id: strawberry.ID = strawberry.field(description="The assistant message.")
    result_message_id: strawberry.ID | None = strawberry.field(description="The failed result.")

    @classmethod
    def from_row(cls, r: ToolCallRow) -> FailedToolCall:
        return cls(
            id=strawberry.ID(str(r.id)),
            tool=r.tool_name,
            tool_call_id=r.tool_call_id,
            agent_id=r.agent_id,
            model=r.model,
            called_at=r.called_at,
            result_at=r.result_at,
            duration_ms=r.duration_ms,
            error_text=r.error_text,
            session_id=strawberry.ID(str(r.session_id)),
            run_id=None if r.run_id is None else strawberry.ID(str(r.run_id)),
            call_message_id=strawberry.ID(str(r.call_message_id)),
            result_message_id=(
                None if r.result_message_id is None else strawberry.ID(str(r.result_message_id))
            ),
        )

    @strawberry.field
    async def session(self, info: Info) -> Session:
        return Session.from_row(await info.context.loaders.session.load(int(self.session_id)))

    @strawberry.field
    async def run(self, info: Info) -> Run | None:
        if self.run_id is None:
            return None
        row = await info.context.loaders.run.load(int(self.run_id))
        return Run.from_row(row) if row else None


@strawberry.type
class FailedToolCallConnection(Connection[FailedToolCall]):
    pass
