"""Queries and mutations of the review loop: thin wrappers over observatory.review."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.db.models import Review as ReviewRow
from observatory.graphql.errors import BadUserInput, Conflict, NotFound
from observatory.graphql.pagination import page_size, parse_id
from observatory.graphql.permissions import scoped, scoped_mutation
from observatory.graphql.resolvers.metrics import check_metric_range
from observatory.graphql.types.core import Review
from observatory.graphql.types.improve import (
    JudgeAgreement,
    PatternReport,
    PeriodComparison,
    QueueClaim,
    QueueCount,
    QueueItem,
    ReviewJob,
    ReviewPolicy,
    ReviewQueuePage,
    Suggestion,
)
from observatory.graphql.types.scalars import Verdict
from observatory.review import (
    agreement,
    claims,
    compare,
    jobs,
    patterns,
    policy,
    queue,
    suggestions,
)
from observatory.review.transcript import TargetNotFound

From = Annotated[datetime, strawberry.argument(name="from", description="Inclusive start.")]


@contextlib.contextmanager
def review_errors() -> Iterator[None]:
    """The review package's domain errors as GraphQL errors with stable codes."""
    try:
        yield
    except (TargetNotFound, suggestions.SuggestionNotFound) as exc:
        raise NotFound(str(exc) or "not found") from None
    except queue.ClaimConflict as exc:
        raise Conflict(str(exc) or "someone else holds this item") from None
    except (queue.BadCursor, suggestions.NotApplied, ValueError) as exc:
        raise BadUserInput(str(exc)) from None


def _opt_id(value: strawberry.ID | None, field: str) -> int | None:
    return None if value is None else parse_id(value, field)


def _key(info: Info) -> int:
    return int(info.context.caller.key_id)


@strawberry.type
class ReviewerSettings:
    configured: bool = strawberry.field(description="An AI reviewer endpoint is set.")
    model: str | None
    default_heartbeat_sample_rate: float


@strawberry.type
class ImproveQuery:
    @scoped(Scope.REVIEWS_READ, description="The AI reviewer's configuration (no secrets).")
    def reviewer_settings(self, info: Info) -> ReviewerSettings:
        s = info.context.settings
        return ReviewerSettings(
            configured=bool(s.ai_base_url),
            model=s.ai_model if s.ai_base_url else None,
            default_heartbeat_sample_rate=s.ai_heartbeat_sample_rate,
        )

    @scoped(Scope.REVIEWS_READ, description="What most needs a human review, most urgent first.")
    async def review_queue(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        agent_id: str | None = None,
        since: datetime | None = None,
        min_confidence: float = 0.6,
    ) -> ReviewQueuePage:
        limit = page_size(first, info.context.settings.max_page_size)
        if not 0 <= min_confidence <= 1:
            raise BadUserInput("minConfidence must be between 0 and 1", field="minConfidence")
        async with info.context.db() as db:
            with review_errors():
                page = await queue.list_review_queue(
                    db, api_key_id=_key(info), first=limit, after=after, agent_id=agent_id,
                    since=since, min_confidence=min_confidence,
                )  # fmt: skip
                counts = await queue.queue_counts(
                    db, api_key_id=_key(info), agent_id=agent_id, since=since,
                    min_confidence=min_confidence,
                )  # fmt: skip
        return ReviewQueuePage(
            items=[QueueItem.build(i) for i in page.items],
            next_cursor=page.next_cursor,
            counts=[QueueCount(reason=k, count=v) for k, v in sorted(counts.items())],
        )

    @scoped(Scope.REVIEWS_READ, description="AI review jobs, newest first.")
    async def review_jobs(
        self,
        info: Info,
        status: str | None = None,
        session_id: strawberry.ID | None = None,
        first: int | None = None,
        before_id: strawberry.ID | None = None,
    ) -> list[ReviewJob]:
        limit = page_size(first, info.context.settings.max_page_size)
        async with info.context.db() as db:
            rows = await jobs.list_review_jobs(
                db, status=status, session_id=_opt_id(session_id, "sessionId"), limit=limit,
                before_id=_opt_id(before_id, "beforeId"),
            )  # fmt: skip
        return [ReviewJob.build(j) for j in rows]

    @scoped(Scope.REVIEWS_READ, description="Per-agent AI review switches.")
    async def review_policies(self, info: Info) -> list[ReviewPolicy]:
        async with info.context.db() as db:
            return [ReviewPolicy.build(p) for p in await policy.list_review_policies(db)]

    @scoped(Scope.METRICS_READ, description="AI judge vs human reviewers, per reviewer model.")
    async def judge_agreement(
        self,
        info: Info,
        from_: From,
        to: datetime,
        bucket: str = "week",
        agent_id: str | None = None,
        reviewer_model: str | None = None,
    ) -> JudgeAgreement:
        check_metric_range(info, from_, to)
        if bucket not in ("hour", "day", "week", "month"):
            raise BadUserInput("bucket must be hour, day, week or month", field="bucket")
        async with info.context.db() as db:
            result = await agreement.judge_agreement(
                db, since=from_, until=to, bucket=bucket, agent_id=agent_id,
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
        group_by: str | None = None,
        agent_id: str | None = None,
        metrics: list[str] | None = None,
    ) -> PeriodComparison:
        check_metric_range(info, a_from, a_to)
        check_metric_range(info, b_from, b_to)
        if group_by not in (None, "agent", "kind", "model", "trigger"):
            raise BadUserInput("groupBy must be agent, kind, model or trigger", field="groupBy")
        async with info.context.db() as db:
            with review_errors():
                result = await compare.compare_periods(
                    db, compare.Window(a_from, a_to), compare.Window(b_from, b_to),
                    group_by=group_by, agent_id=agent_id, metrics=metrics,
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
        status: str | None = None,
        agent_id: str | None = None,
        first: int | None = None,
        before_id: strawberry.ID | None = None,
    ) -> list[Suggestion]:
        limit = page_size(first, info.context.settings.max_page_size)
        async with info.context.db() as db:
            rows = await suggestions.list_suggestions(
                db, status=status, agent_id=agent_id, first=limit,
                before_id=_opt_id(before_id, "beforeId"),
            )  # fmt: skip
        return [Suggestion.build(s) for s in rows]


@strawberry.type
class ImproveMutation:
    @scoped_mutation(Scope.REVIEWS_WRITE, description="Queue an AI review of a session or run.")
    async def request_ai_review(
        self, info: Info, session_id: strawberry.ID, run_id: strawberry.ID | None = None
    ) -> ReviewJob:
        if not info.context.settings.ai_base_url:
            raise Conflict("no AI reviewer is configured (set OBSERVATORY_AI_BASE_URL)")
        async with info.context.db() as db, db.begin():
            with review_errors():
                job = await jobs.request_ai_review(
                    db, parse_id(session_id, "sessionId"), _opt_id(run_id, "runId"), _key(info)
                )
        return ReviewJob.build(job)

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Switch AI review on or off for an agent.")
    async def set_review_policy(
        self,
        info: Info,
        agent_id: str,
        enabled: bool,
        review_tasks: bool = True,
        heartbeat_sample_rate: float | None = None,
    ) -> ReviewPolicy:
        if heartbeat_sample_rate is not None and not 0 <= heartbeat_sample_rate <= 1:
            raise BadUserInput(
                "heartbeatSampleRate must be between 0 and 1", field="heartbeatSampleRate"
            )
        if await info.context.loaders.agent.load(agent_id) is None:
            raise NotFound(f"no agent {agent_id!r}", field="agentId")
        async with info.context.db() as db, db.begin():
            result = await policy.set_review_policy(
                db, agent_id, enabled=enabled, review_tasks=review_tasks,
                heartbeat_sample_rate=heartbeat_sample_rate, api_key_id=_key(info),
            )  # fmt: skip
        return ReviewPolicy.build(result)

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Claim a queue item for a while.")
    async def claim_queue_item(
        self,
        info: Info,
        session_id: strawberry.ID,
        run_id: strawberry.ID | None = None,
        ttl_minutes: int = 15,
    ) -> QueueClaim:
        if not 1 <= ttl_minutes <= 240:
            raise BadUserInput("ttlMinutes must be between 1 and 240", field="ttlMinutes")
        async with info.context.db() as db, db.begin():
            with review_errors():
                c = await claims.claim_queue_item(
                    db, session_id=parse_id(session_id, "sessionId"), run_id=_opt_id(run_id, "runId"),
                    api_key_id=_key(info), ttl=timedelta(minutes=ttl_minutes),
                )  # fmt: skip
        return QueueClaim(
            session_id=strawberry.ID(str(c.session_id)),
            run_id=None if c.run_id is None else strawberry.ID(str(c.run_id)),
            claimed_at=c.claimed_at,
            expires_at=c.expires_at,
        )

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Claim the most urgent unclaimed item.")
    async def claim_next_queue_item(
        self, info: Info, agent_id: str | None = None, ttl_minutes: int = 15
    ) -> QueueItem | None:
        if not 1 <= ttl_minutes <= 240:
            raise BadUserInput("ttlMinutes must be between 1 and 240", field="ttlMinutes")
        async with info.context.db() as db, db.begin():
            with review_errors():
                item = await claims.claim_next_queue_item(
                    db, api_key_id=_key(info), ttl=timedelta(minutes=ttl_minutes), agent_id=agent_id
                )
        return QueueItem.build(item) if item else None

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Give a claimed item back.")
    async def release_queue_claim(
        self, info: Info, session_id: strawberry.ID, run_id: strawberry.ID | None = None
    ) -> bool:
        async with info.context.db() as db, db.begin():
            return await claims.release_claim(
                db, session_id=parse_id(session_id, "sessionId"), run_id=_opt_id(run_id, "runId"),
                api_key_id=_key(info),
            )  # fmt: skip

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Hide an item from your queue for a while.")
    async def skip_queue_item(
        self,
        info: Info,
        session_id: strawberry.ID,
        run_id: strawberry.ID | None = None,
        hide_hours: int = 24,
    ) -> bool:
        if not 1 <= hide_hours <= 24 * 30:
            raise BadUserInput("hideHours must be between 1 and 720", field="hideHours")
        async with info.context.db() as db, db.begin():
            with review_errors():
                await claims.skip_queue_item(
                    db, session_id=parse_id(session_id, "sessionId"), run_id=_opt_id(run_id, "runId"),
                    api_key_id=_key(info), hide_for=timedelta(hours=hide_hours),
                )  # fmt: skip
        return True

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Review a queue item and release its claim.")
    async def submit_queue_review(
        self,
        info: Info,
        session_id: strawberry.ID,
        verdict: Verdict,
        rating: int,
        summary: str = "",
        run_id: strawberry.ID | None = None,
    ) -> Review:
        from observatory.graphql.resolvers.reviews import validate_review

        validate_review(rating, summary)
        async with info.context.db() as db, db.begin():
            with review_errors():
                brief = await claims.submit_queue_review(
                    db, session_id=parse_id(session_id, "sessionId"), run_id=_opt_id(run_id, "runId"),
                    api_key_id=_key(info), verdict=verdict.value, rating=rating, summary=summary,
                )  # fmt: skip
            row = (await db.execute(select(ReviewRow).where(ReviewRow.id == brief.id))).scalar_one()
        return Review.from_row(row)

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
            with review_errors():
                s = await suggestions.mark_suggestion_applied(
                    db, parse_id(id), applied_at=applied_at, api_key_id=_key(info), note=note
                )
        return Suggestion.build(s)

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Dismiss (dismissed) or re-open (open).")
    async def set_suggestion_status(
        self, info: Info, id: strawberry.ID, status: str, note: str | None = None
    ) -> Suggestion:
        if status not in ("open", "dismissed"):
            raise BadUserInput("status must be open or dismissed", field="status")
        async with info.context.db() as db, db.begin():
            with review_errors():
                s = await suggestions.set_suggestion_status(
                    db, parse_id(id), status, api_key_id=_key(info), note=note
                )
        return Suggestion.build(s)
