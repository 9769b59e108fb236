"""Types of the act of reviewing: AI review jobs and policies, the human review queue."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from observatory.graphql.types.core import Session
from observatory.graphql.types.scalars import Verdict
from observatory.review import jobs, policy, queue


@strawberry.type(description="An AI review job (queued → running → done | failed).")
class ReviewJob:
    id: strawberry.ID
    session_id: strawberry.ID
    run_id: strawberry.ID | None
    status: str
    attempts: int
    reason: str | None = strawberry.field(description="Why the job failed, if it did.")
    review_id: strawberry.ID | None
    created_at: datetime
    claimed_at: datetime | None
    finished_at: datetime | None
    created: bool = strawberry.field(description="False: an active job for the target existed.")

    @classmethod
    def build(cls, j: jobs.JobInfo) -> ReviewJob:
        return cls(
            id=strawberry.ID(str(j.id)), session_id=strawberry.ID(str(j.session_id)),
            run_id=_id(j.run_id), status=j.status, attempts=j.attempts, reason=j.reason,
            review_id=_id(j.review_id), created_at=j.created_at, claimed_at=j.claimed_at,
            finished_at=j.finished_at, created=j.created,
        )  # fmt: skip


def _id(value: int | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(description="AI review switched on or off for one agent.")
class ReviewPolicy:
    agent_id: str
    enabled: bool
    review_tasks: bool
    heartbeat_sample_rate: float | None = strawberry.field(
        description="Share of heartbeats reviewed (null: the server default)."
    )
    enabled_at: datetime
    updated_at: datetime

    @classmethod
    def build(cls, p: policy.PolicyInfo) -> ReviewPolicy:
        return cls(
            agent_id=p.agent_id, enabled=p.enabled, review_tasks=p.review_tasks,
            heartbeat_sample_rate=p.heartbeat_sample_rate, enabled_at=p.enabled_at,
            updated_at=p.updated_at,
        )  # fmt: skip


@strawberry.type
class ReviewBrief:
    id: strawberry.ID
    verdict: Verdict
    rating: int
    confidence: float | None
    reviewer_model: str | None
    summary: str
    created_at: datetime

    @classmethod
    def build(cls, b: queue.ReviewBrief | None) -> ReviewBrief | None:
        if b is None:
            return None
        return cls(
            id=strawberry.ID(str(b.id)), verdict=Verdict(b.verdict), rating=b.rating,
            confidence=b.confidence, reviewer_model=b.reviewer_model, summary=b.summary,
            created_at=b.created_at,
        )  # fmt: skip


@strawberry.type(description="Something that most needs a human reviewer, and why.")
class QueueItem:
    session_id: strawberry.ID
    run_id: strawberry.ID | None
    agent_id: str
    kind: str
    status: str
    title: str | None
    finished_at: datetime
    reasons: list[str] = strawberry.field(
        description="disagreement | low_confidence | failed | unreviewed (most urgent first)."
    )
    priority: int
    latest_ai: ReviewBrief | None
    latest_human: ReviewBrief | None
    claim_expires_at: datetime | None
    claimed: bool = strawberry.field(description="Someone (maybe you) holds a claim on it.")
    claimed_by_me: bool
    cursor: str
    _claimed_by_key_id: strawberry.Private[int | None]

    @strawberry.field(description="Name of the API key holding the claim, if any.")
    async def claimed_by(self, info: Info) -> str | None:
        if self._claimed_by_key_id is None:
            return None
        return await info.context.loaders.key_name.load(self._claimed_by_key_id)

    @strawberry.field
    async def session(self, info: Info) -> Session:
        return Session.from_row(await info.context.loaders.session.load(int(self.session_id)))

    @classmethod
    def build(cls, i: queue.QueueItem) -> QueueItem:
        return cls(
            session_id=strawberry.ID(str(i.session_id)), run_id=_id(i.run_id),
            agent_id=i.agent_id, kind=i.kind, status=i.status, title=i.title,
            finished_at=i.finished_at, reasons=list(i.reasons), priority=i.priority,
            latest_ai=ReviewBrief.build(i.latest_ai), latest_human=ReviewBrief.build(i.latest_human),
            claim_expires_at=i.claim_expires_at,
            claimed=i.claimed_by_api_key_id is not None or i.claim_expires_at is not None,
            claimed_by_me=i.claimed_by_me, cursor=i.cursor,
            _claimed_by_key_id=i.claimed_by_api_key_id,
        )  # fmt: skip


@strawberry.type
class QueueCount:
    reason: str
    count: int


@strawberry.type
class ReviewQueuePage:
    items: list[QueueItem]
    next_cursor: str | None
    counts: list[QueueCount] = strawberry.field(description="Items per reason, and `total`.")


@strawberry.type
class QueueClaim:
    session_id: strawberry.ID
    run_id: strawberry.ID | None
    claimed_at: datetime
    expires_at: datetime
