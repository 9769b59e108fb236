"""Types of the analyses over runs and reviews (the self-improvement loop)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.types import Info

from observatory.graphql.types.scalars import JSON
from observatory.improve import agreement, compare, patterns, suggestions


@strawberry.type(description="Agreement before and after human calibration examples.")
class CalibrationSplit:
    reviewer_model: str
    uncalibrated: AgreementStats
    calibrated: AgreementStats


@strawberry.type
class AgreementStats:
    pairs: int
    verdict_matches: int
    agreement_rate: float | None
    mean_abs_rating_diff: float | None
    mean_rating_diff: float | None = strawberry.field(
        description="AI minus human rating: above 0 means the judge is lenient."
    )

    @classmethod
    def build(cls, s: agreement.AgreementStats) -> AgreementStats:
        return cls(
            pairs=s.pairs, verdict_matches=s.verdict_matches, agreement_rate=s.agreement_rate,
            mean_abs_rating_diff=s.mean_abs_rating_diff, mean_rating_diff=s.mean_rating_diff,
        )  # fmt: skip


@strawberry.type
class AgreementPoint:
    bucket: datetime
    reviewer_model: str
    stats: AgreementStats


@strawberry.type
class ModelAgreement:
    reviewer_model: str
    stats: AgreementStats
    kappa: float | None = strawberry.field(description="Cohen's kappa on verdicts.")
    confusion: JSON = strawberry.field(description="{humanVerdict: {aiVerdict: count}}.")


@strawberry.type(description="How often the AI judge agrees with humans, per reviewer model.")
class JudgeAgreement:
    points: list[AgreementPoint]
    models: list[ModelAgreement]
    calibration: list[CalibrationSplit] = strawberry.field(
        description="Per reviewer model that has calibrated reviews: agreement of its reviews "
        "written without, and with, human calibration examples in the prompt."
    )

    @classmethod
    def build(cls, a: agreement.JudgeAgreement) -> JudgeAgreement:
        return cls(
            points=[
                AgreementPoint(bucket=p.bucket, reviewer_model=p.reviewer_model,
                               stats=AgreementStats.build(p.stats))
                for p in a.points
            ],
            models=[
                ModelAgreement(reviewer_model=m.reviewer_model, stats=AgreementStats.build(m.stats),
                               kappa=m.kappa, confusion=m.confusion)
                for m in a.models
            ],
            calibration=[
                CalibrationSplit(reviewer_model=c.reviewer_model,
                                 uncalibrated=AgreementStats.build(c.uncalibrated),
                                 calibrated=AgreementStats.build(c.calibrated))
                for c in a.calibration
            ],
        )  # fmt: skip


@strawberry.type(description="One metric in two windows, with the change and its significance.")
class MetricComparison:
    metric: str
    label: str
    unit: str
    higher_is_better: bool
    method: str = strawberry.field(description="The test used (z, welch, bootstrap, …).")
    a: float | None
    b: float | None
    n_a: int
    n_b: int
    events_a: int | None = strawberry.field(
        description="Numerator of a rate in a (e.g. successes)."
    )
    events_b: int | None
    delta: float | None = strawberry.field(description="b minus a.")
    relative_delta: float | None
    ci_low: float | None = strawberry.field(description="95% interval of the delta.")
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None = strawberry.field(description="Holm-adjusted over the comparison.")
    significant: bool
    change: str | None = strawberry.field(description="better | worse, only when significant.")

    @classmethod
    def build(cls, m: compare.MetricComparison) -> MetricComparison:
        return cls(
            metric=m.metric, label=m.label, unit=m.unit, higher_is_better=m.higher_is_better,
            method=m.method, a=m.a, b=m.b, n_a=m.n_a, n_b=m.n_b, events_a=m.events_a,
            events_b=m.events_b, delta=m.delta,
            relative_delta=m.relative_delta, ci_low=m.ci_low, ci_high=m.ci_high,
            p_value=m.p_value, p_adjusted=m.p_adjusted, significant=m.significant, change=m.change,
        )  # fmt: skip


@strawberry.type
class GroupComparison:
    group: str | None = strawberry.field(description="The group's value; null: everything.")
    metrics: list[MetricComparison]


@strawberry.type
class PeriodComparison:
    a_from: datetime
    a_to: datetime
    b_from: datetime
    b_to: datetime
    group_by: str | None
    alpha: float
    tests: int
    groups: list[GroupComparison]

    @classmethod
    def build(cls, c: compare.PeriodComparison) -> PeriodComparison:
        return cls(
            a_from=c.a.start, a_to=c.a.end, b_from=c.b.start, b_to=c.b.end, group_by=c.group_by,
            alpha=c.alpha, tests=c.tests,
            groups=[
                GroupComparison(group=g.group, metrics=[MetricComparison.build(m) for m in g.metrics])
                for g in c.groups
            ],
        )  # fmt: skip


@strawberry.type
class ErrorSignature:
    signature: str
    occurrences: int
    sessions: int
    failed_sessions: int
    agents: list[str]
    tools: list[str]
    first_seen: datetime
    last_seen: datetime
    example: str
    session_ids: list[strawberry.ID]
    message_ids: list[strawberry.ID]


@strawberry.type
class FailureTerm:
    term: str
    docs_failed: int
    docs_other: int
    lift: float
    p_adjusted: float


@strawberry.type
class IdleHeartbeats:
    agent_id: str
    heartbeats: int
    idle: int
    idle_share: float
    idle_tokens: int | None
    idle_cost: Decimal | None
    run_ids: list[strawberry.ID]


@strawberry.type
class StalledTask:
    session_id: strawberry.ID
    agent_id: str
    title: str | None
    last_activity_at: datetime
    idle_seconds: float


@strawberry.type
class MissedCadence:
    session_id: strawberry.ID
    agent_id: str
    expected_interval_seconds: float
    last_heartbeat_at: datetime
    overdue_seconds: float | None
    missed_beats: int


def _ids(values: list[int]) -> list[strawberry.ID]:
    return [strawberry.ID(str(v)) for v in values]


@strawberry.type(description="Recurring problems found in a period (deterministic methods).")
class PatternReport:
    since: datetime
    until: datetime
    error_signatures: list[ErrorSignature]
    failure_terms: list[FailureTerm]
    idle_heartbeats: list[IdleHeartbeats]
    stalled_tasks: list[StalledTask]
    missed_cadence: list[MissedCadence]

    @classmethod
    def build(cls, r: patterns.PatternReport) -> PatternReport:
        return cls(
            since=r.since,
            until=r.until,
            error_signatures=[
                ErrorSignature(
                    signature=e.signature,
                    occurrences=e.occurrences,
                    sessions=e.sessions,
                    failed_sessions=e.failed_sessions,
                    agents=e.agents,
                    tools=e.tools,
                    first_seen=e.first_seen,
                    last_seen=e.last_seen,
                    example=e.example,
                    session_ids=_ids(e.session_ids),
                    message_ids=_ids(e.message_ids),
                )
                for e in r.error_signatures
            ],
            failure_terms=[
                FailureTerm(
                    term=t.term,
                    docs_failed=t.docs_failed,
                    docs_other=t.docs_other,
                    lift=t.lift,
                    p_adjusted=t.p_adjusted,
                )
                for t in r.failure_terms
            ],
            idle_heartbeats=[
                IdleHeartbeats(
                    agent_id=h.agent_id,
                    heartbeats=h.heartbeats,
                    idle=h.idle,
                    idle_share=h.idle_share,
                    idle_tokens=h.idle_tokens,
                    idle_cost=h.idle_cost,
                    run_ids=_ids(h.run_ids),
                )
                for h in r.idle_heartbeats
            ],
            stalled_tasks=[
                StalledTask(
                    session_id=strawberry.ID(str(t.session_id)),
                    agent_id=t.agent_id,
                    title=t.title,
                    last_activity_at=t.last_activity_at,
                    idle_seconds=t.idle_for.total_seconds(),
                )
                for t in r.stalled_tasks
            ],
            missed_cadence=[
                MissedCadence(
                    session_id=strawberry.ID(str(m.session_id)),
                    agent_id=m.agent_id,
                    expected_interval_seconds=m.expected_interval.total_seconds(),
                    last_heartbeat_at=m.last_heartbeat_at,
                    overdue_seconds=m.overdue_by.total_seconds() if m.overdue_by else None,
                    missed_beats=m.missed_beats,
                )
                for m in r.missed_cadence
            ],
        )


@strawberry.type(description="Before/after comparison of an applied suggestion on its targets.")
class SuggestionImpact:
    before_from: datetime
    before_to: datetime
    after_from: datetime
    after_to: datetime
    complete: bool = strawberry.field(description="The after window has fully elapsed.")
    metrics: list[MetricComparison]


@strawberry.enum(description="Time bucket of the agreement series.")
class AgreementBucket(Enum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@strawberry.enum(description="open -> applied | dismissed.")
class SuggestionStatus(Enum):
    OPEN = "open"
    APPLIED = "applied"
    DISMISSED = "dismissed"


@strawberry.type(description="A concrete improvement, with the evidence behind it.")
class Suggestion:
    id: strawberry.ID
    rule: str
    target: str = strawberry.field(description="heartbeat | task | …: what to change.")
    agent_id: str | None
    title: str
    body: str
    target_metrics: list[str]
    evidence: JSON
    status: str = strawberry.field(description="open | applied | dismissed.")
    seen_count: int
    created_at: datetime
    updated_at: datetime
    applied_at: datetime | None
    note: str | None

    @classmethod
    def build(cls, s: suggestions.SuggestionInfo) -> Suggestion:
        return cls(
            id=strawberry.ID(str(s.id)), rule=s.rule, target=s.target, agent_id=s.agent_id,
            title=s.title, body=s.body, target_metrics=list(s.target_metrics),
            evidence=s.evidence, status=s.status, seen_count=s.seen_count,
            created_at=s.created_at, updated_at=s.updated_at, applied_at=s.applied_at,
            note=s.note,
        )  # fmt: skip

    @strawberry.field(description="Measured effect since it was applied (null until applied).")
    async def impact(self, info: Info, window_days: int = 7) -> SuggestionImpact | None:
        from datetime import timedelta

        from observatory.graphql.errors import BadUserInput

        if self.applied_at is None:
            return None
        if not 1 <= window_days <= 90:
            raise BadUserInput("windowDays must be between 1 and 90", field="windowDays")
        async with info.context.db() as db:
            i = await suggestions.suggestion_impact(
                db, int(self.id), window=timedelta(days=window_days)
            )
        return SuggestionImpact(
            before_from=i.before.start, before_to=i.before.end, after_from=i.after.start,
            after_to=i.after.end, complete=i.complete,
            metrics=[MetricComparison.build(m) for m in i.metrics],
        )  # fmt: skip
