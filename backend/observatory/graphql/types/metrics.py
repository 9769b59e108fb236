from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from observatory import metrics
from observatory.graphql.types.scalars import (
    BigInt,
    RunTrigger,
    SessionKind,
    SessionStatus,
    Verdict,
)


@strawberry.enum
class MetricGroupBy(Enum):
    AGENT = "agent"
    MODEL = "model"
    KIND = "kind"
    TRIGGER = "trigger"


@strawberry.enum
class MetricBucket(Enum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"


@strawberry.input(description="Restricts metrics to these agents/kinds/models/triggers.")
class MetricFilterInput:
    agent_ids: list[str] | None = None
    kinds: list[SessionKind] | None = None
    models: list[str] | None = None
    triggers: list[RunTrigger] | None = None

    def to_domain(self) -> metrics.MetricFilter:
        return metrics.MetricFilter(
            agent_ids=self.agent_ids,
            kinds=[k.value for k in self.kinds] if self.kinds else None,
            models=self.models,
            triggers=[t.value for t in self.triggers] if self.triggers else None,
        )


@strawberry.type
class StatusCount:
    status: SessionStatus
    count: int


@strawberry.type(description="Aggregates over runs started in [from, to). Null: not reported.")
class MetricSummary:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    run_count: int
    session_count: int = strawberry.field(description="Sessions started in range.")
    failed_runs: int
    input_tokens: BigInt | None
    output_tokens: BigInt | None
    cache_read_tokens: BigInt | None
    cache_write_tokens: BigInt | None
    total_tokens: BigInt | None
    cost: Decimal | None
    duration_p50_ms: float | None = strawberry.field(
        description="Median run duration (log-bucket histogram, within about 10%)."
    )
    duration_p95_ms: float | None
    heartbeat_runs: int
    heartbeat_cost: Decimal | None
    review_count: int = strawberry.field(description="Sessions started in range with a review.")
    success_rate: float | None = strawberry.field(
        description="Share of reviewed sessions whose latest review says accomplished."
    )
    sessions_by_status: list[StatusCount]

    @classmethod
    def build(cls, start: datetime, end: datetime, s: metrics.Summary) -> MetricSummary:
        r, hb = s.runs, s.heartbeats
        return cls(
            from_=start, to=end, run_count=r.run_count, session_count=s.session_count,
            failed_runs=r.failed_runs, input_tokens=r.input_tokens, output_tokens=r.output_tokens,
            cache_read_tokens=r.cache_read_tokens, cache_write_tokens=r.cache_write_tokens,
            total_tokens=r.total_tokens, cost=r.cost, duration_p50_ms=r.duration_p50_ms,
            duration_p95_ms=r.duration_p95_ms, heartbeat_runs=hb.run_count,
            heartbeat_cost=hb.cost, review_count=s.review_count,
            success_rate=s.success_rate,
            sessions_by_status=[
                StatusCount(status=SessionStatus(k), count=v)
                for k, v in sorted(s.sessions_by_status.items())
            ],
        )  # fmt: skip


@strawberry.type
class MetricPoint:
    bucket_start: datetime
    group: str
    run_count: int
    failed_runs: int
    input_tokens: BigInt | None
    output_tokens: BigInt | None
    cache_read_tokens: BigInt | None
    cache_write_tokens: BigInt | None
    total_tokens: BigInt | None
    cost: Decimal | None
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    review_count: int
    success_rate: float | None


@strawberry.type
class MetricSeries:
    group_by: MetricGroupBy
    bucket: MetricBucket
    from_: datetime = strawberry.field(name="from")
    to: datetime
    groups: list[str]
    points: list[MetricPoint]


@strawberry.type
class VerdictPoint:
    bucket_start: datetime
    verdict: Verdict
    count: int


@strawberry.type
class DurationBucket:
    lower_ms: BigInt
    upper_ms: BigInt | None = strawberry.field(description="Null: open-ended.")
    count: int
