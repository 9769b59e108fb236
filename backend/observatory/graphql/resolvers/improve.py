"""Queries and mutations of the analyses over runs and reviews: thin wrappers over
observatory.improve."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.graphql.errors import BadUserInput, NotFound
from observatory.graphql.pagination import page_size, parse_id
from observatory.graphql.permissions import scoped, scoped_mutation
from observatory.graphql.resolvers.common import caller_key_id, opt_id
from observatory.graphql.resolvers.metrics import check_metric_range
from observatory.graphql.types.improve import (
    AgreementBucket,
    JudgeAgreement,
    PatternReport,
    PeriodComparison,
    Suggestion,
    SuggestionStatus,
)
from observatory.graphql.types.metrics import MetricGroupBy
from observatory.improve import agreement, compare, patterns, suggestions

From = Annotated[datetime, strawberry.argument(name="from", description="Inclusive start.")]


@contextlib.contextmanager
def improve_errors() -> Iterator[None]:
    """The improve package's domain errors as GraphQL errors with stable codes."""
    try:
        yield
    except suggestions.SuggestionNotFound as exc:
        raise NotFound(str(exc) or "not found") from None
    except (suggestions.NotApplied, ValueError) as exc:
        raise BadUserInput(str(exc)) from None


@strawberry.type
class ImproveQuery:
    @scoped(Scope.METRICS_READ, description="AI judge vs human reviewers, per reviewer model.")
    async def judge_agreement(
        self,
        info: Info,
        from_: From,
        to: datetime,
        bucket: AgreementBucket = AgreementBucket.WEEK,
        agent_id: str | None = None,
        reviewer_model: str | None = None,
    ) -> JudgeAgreement:
        check_metric_range(info, from_, to)
        async with info.context.db() as db:
            result = await agreement.judge_agreement(
                db, since=from_, until=to, bucket=bucket.value, agent_id=agent_id,
                reviewer_model=reviewer_model,
            )  # fmt: skip
        return JudgeAgreement.build(result)

    @scoped(
        Scope.METRICS_READ,
        description="Two time windows side by side with deltas and significance (a: before, b: after).",
    )
    async def compare_periods(
        self,
        info: Info,
        a_from: datetime,
        a_to: datetime,
        b_from: datetime,
        b_to: datetime,
        group_by: MetricGroupBy | None = None,
        agent_id: str | None = None,
        metrics: list[str] | None = None,
    ) -> PeriodComparison:
        check_metric_range(info, a_from, a_to)
        check_metric_range(info, b_from, b_to)
        async with info.context.db() as db:
            with improve_errors():
                result = await compare.compare_periods(
                    db, compare.Window(a_from, a_to), compare.Window(b_from, b_to),
                    group_by=group_by.value if group_by else None, agent_id=agent_id,
                    metrics=metrics,
                )  # fmt: skip
        return PeriodComparison.build(result)

    @scoped(Scope.METRICS_READ, description="Recurring failures, idle heartbeats, stalls, cadence.")
    async def patterns(
        self, info: Info, from_: From, to: datetime, agent_id: str | None = None
    ) -> PatternReport:
        check_metric_range(info, from_, to)
        async with info.context.db() as db:
            report = await patterns.find_patterns(db, since=from_, until=to, agent_id=agent_id)
        return PatternReport.build(report)

    @scoped(Scope.METRICS_READ, description="Improvement suggestions, newest first.")
    async def suggestions(
        self,
        info: Info,
        status: SuggestionStatus | None = None,
        agent_id: str | None = None,
        first: int | None = None,
        before_id: strawberry.ID | None = None,
    ) -> list[Suggestion]:
        limit = page_size(first, info.context.settings.max_page_size)
        async with info.context.db() as db:
            rows = await suggestions.list_suggestions(
                db, status=status.value if status else None, agent_id=agent_id, first=limit,
                before_id=opt_id(before_id, "beforeId"),
            )  # fmt: skip
        return [Suggestion.build(s) for s in rows]


@strawberry.type
class ImproveMutation:
    @scoped_mutation(Scope.REVIEWS_WRITE, description="Run the suggestion rules over a period.")
    async def generate_suggestions(self, info: Info, from_: From, to: datetime) -> list[Suggestion]:
        check_metric_range(info, from_, to)
        async with info.context.db() as db, db.begin():
            rows = await suggestions.generate_suggestions(db, since=from_, until=to)
        return [Suggestion.build(s) for s in rows]

    @scoped_mutation(
        Scope.REVIEWS_WRITE,
        description="Mark a suggestion applied (at a time, default now); its impact is then measured.",
    )
    async def mark_suggestion_applied(
        self,
        info: Info,
        id: strawberry.ID,
        applied_at: datetime | None = None,
        note: str | None = None,
    ) -> Suggestion:
        async with info.context.db() as db, db.begin():
            with improve_errors():
                s = await suggestions.mark_suggestion_applied(
                    db,
                    parse_id(id),
                    applied_at=applied_at,
                    api_key_id=caller_key_id(info),
                    note=note,
                )
        return Suggestion.build(s)

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Dismiss (dismissed) or re-open (open).")
    async def set_suggestion_status(
        self, info: Info, id: strawberry.ID, status: SuggestionStatus, note: str | None = None
    ) -> Suggestion:
        if status not in (SuggestionStatus.OPEN, SuggestionStatus.DISMISSED):
            raise BadUserInput("status must be OPEN or DISMISSED", field="status")
        async with info.context.db() as db, db.begin():
            with improve_errors():
                s = await suggestions.set_suggestion_status(
                    db, parse_id(id), status.value, api_key_id=caller_key_id(info), note=note
                )
        return Suggestion.build(s)
