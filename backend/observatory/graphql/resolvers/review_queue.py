"""Queries and mutations of the act of reviewing (AI reviewer jobs and policies, the human
queue and its claims): thin wrappers over observatory.review."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.db.enums import ReviewJobStatus
from observatory.db.models import Review as ReviewRow
from observatory.graphql.errors import BadUserInput, Conflict, NotFound
from observatory.graphql.pagination import page_size, parse_id
from observatory.graphql.permissions import scoped, scoped_mutation
from observatory.graphql.resolvers.common import caller_key_id, opt_id
from observatory.graphql.types.core import Review
from observatory.graphql.types.review_queue import (
    QueueClaim,
    QueueCount,
    QueueItem,
    ReviewJob,
    ReviewPolicy,
    ReviewQueuePage,
)
from observatory.graphql.types.scalars import Verdict
from observatory.review import claims, jobs, policy, queue
from observatory.review.writes import InvalidReview, TargetNotFound


@contextlib.contextmanager
def review_errors() -> Iterator[None]:
    """The review package's domain errors as GraphQL errors with stable codes."""
    try:
        yield
    except TargetNotFound as exc:
        raise NotFound(str(exc), field=exc.field) from None
    except queue.ClaimConflict as exc:
        raise Conflict(str(exc) or "someone else holds this item") from None
    except InvalidReview as exc:
        raise BadUserInput(str(exc), field=exc.field) from None
    except (queue.BadCursor, ValueError) as exc:
        raise BadUserInput(str(exc)) from None


@strawberry.type
class ReviewerSettings:
    configured: bool = strawberry.field(description="An AI reviewer endpoint is set.")
    model: str | None
    default_heartbeat_sample_rate: float


@strawberry.type
class ReviewQueueQuery:
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
                    db, api_key_id=caller_key_id(info), first=limit, after=after, agent_id=agent_id,
                    since=since, min_confidence=min_confidence,
                )  # fmt: skip
                counts = await queue.queue_counts(
                    db, api_key_id=caller_key_id(info), agent_id=agent_id, since=since,
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
        status: ReviewJobStatus | None = None,
        session_id: strawberry.ID | None = None,
        first: int | None = None,
        before_id: strawberry.ID | None = None,
    ) -> list[ReviewJob]:
        limit = page_size(first, info.context.settings.max_page_size)
        if status is not None and status not in {s.value for s in ReviewJobStatus}:
            known = ", ".join(s.value for s in ReviewJobStatus)
            raise BadUserInput(f"unknown status {status[:40]!r}; one of {known}", field="status")
        async with info.context.db() as db:
            rows = await jobs.list_review_jobs(
                db, status=status.value if status else None,
                session_id=opt_id(session_id, "sessionId"), limit=limit,
                before_id=opt_id(before_id, "beforeId"),
            )  # fmt: skip
        return [ReviewJob.build(j) for j in rows]

    @scoped(Scope.REVIEWS_READ, description="Per-agent AI review switches.")
    async def review_policies(self, info: Info) -> list[ReviewPolicy]:
        async with info.context.db() as db:
            return [ReviewPolicy.build(p) for p in await policy.list_review_policies(db)]


@strawberry.type
class ReviewQueueMutation:
    @scoped_mutation(Scope.REVIEWS_WRITE, description="Queue an AI review of a session or run.")
    async def request_ai_review(
        self, info: Info, session_id: strawberry.ID, run_id: strawberry.ID | None = None
    ) -> ReviewJob:
        if not info.context.settings.ai_base_url:
            raise Conflict("no AI reviewer is configured (set OBSERVATORY_AI_BASE_URL)")
        async with info.context.db() as db, db.begin():
            with review_errors():
                job = await jobs.request_ai_review(
                    db,
                    parse_id(session_id, "sessionId"),
                    opt_id(run_id, "runId"),
                    caller_key_id(info),
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
                heartbeat_sample_rate=heartbeat_sample_rate, api_key_id=caller_key_id(info),
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
                    db, session_id=parse_id(session_id, "sessionId"), run_id=opt_id(run_id, "runId"),
                    api_key_id=caller_key_id(info), ttl=timedelta(minutes=ttl_minutes),
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
                    db,
                    api_key_id=caller_key_id(info),
                    ttl=timedelta(minutes=ttl_minutes),
                    agent_id=agent_id,
                )
        return QueueItem.build(item) if item else None

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Give a claimed item back.")
    async def release_queue_claim(
        self, info: Info, session_id: strawberry.ID, run_id: strawberry.ID | None = None
    ) -> bool:
        async with info.context.db() as db, db.begin():
            return await claims.release_claim(
                db, session_id=parse_id(session_id, "sessionId"), run_id=opt_id(run_id, "runId"),
                api_key_id=caller_key_id(info),
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
                    db, session_id=parse_id(session_id, "sessionId"), run_id=opt_id(run_id, "runId"),
                    api_key_id=caller_key_id(info), hide_for=timedelta(hours=hide_hours),
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
        async with info.context.db() as db, db.begin():
            with review_errors():
                brief = await claims.submit_queue_review(
                    db, session_id=parse_id(session_id, "sessionId"), run_id=opt_id(run_id, "runId"),
                    api_key_id=caller_key_id(info), verdict=verdict.value, rating=rating, summary=summary,
                )  # fmt: skip
            row = (await db.execute(select(ReviewRow).where(ReviewRow.id == brief.id))).scalar_one()
        return Review.from_row(row)
