"""Tables of the review loop that the foundation does not hold.

They live on the shared ``Base`` so that Alembic (and the models-vs-migrations drift test) sees
them once this module is imported; ``observatory.db.models`` never imports from here.

- ``review_policies``: AI review switched on per agent (opt-in, so switching on does not review
  the whole history: only sessions that end after ``enabled_at`` are enqueued automatically).
- ``review_queue_claims``: one row per human-queue target; a claim is held until ``expires_at``.
- ``review_queue_skips``: a reviewer skipped a target; hidden from *that* reviewer until ``until``.
- ``improvement_suggestions``: deterministic suggestions with their evidence; ``applied_at`` starts
  the automatic before/after comparison on ``target_metrics``.
- ``ai_rate_limits``: one row per AI endpoint, the next free request slot and any pause after a
  429, shared by every process that calls the endpoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from observatory.db.models import Base


class ReviewPolicy(Base):
    __tablename__ = "review_policies"
    __table_args__ = (
        CheckConstraint(
            "heartbeat_sample_rate IS NULL OR heartbeat_sample_rate BETWEEN 0 AND 1",
            name="sample_rate",
        ),
    )

    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    review_tasks: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # None => the AI_HEARTBEAT_SAMPLE_RATE setting.
    heartbeat_sample_rate: Mapped[float | None] = mapped_column(Float)
    enabled_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_by_api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ReviewQueueClaim(Base):
    __tablename__ = "review_queue_claims"
    __table_args__ = (
        Index(
            "uq_review_queue_claims_target",
            "session_id",
            text("coalesce(run_id, 0)"),
            unique=True,
        ),
        Index("ix_review_queue_claims_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    claimed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]


class ReviewQueueSkip(Base):
    __tablename__ = "review_queue_skips"
    __table_args__ = (
        Index(
            "uq_review_queue_skips_target",
            text("coalesce(api_key_id, 0)"),
            "session_id",
            text("coalesce(run_id, 0)"),
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    skipped_at: Mapped[datetime] = mapped_column(server_default=func.now())
    until: Mapped[datetime]


class ImprovementSuggestion(Base):
    __tablename__ = "improvement_suggestions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'applied', 'dismissed')", name="status"),
        Index("ix_improvement_suggestions_status_created", "status", text("created_at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # rule + scope + subject: the same finding refreshes one row instead of piling up copies.
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    rule: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(50))  # heartbeat_prompt | task_execution | ...
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    target_metrics: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    seen_count: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    applied_at: Mapped[datetime | None]
    applied_by_api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)


class AiRateLimit(Base):
    __tablename__ = "ai_rate_limits"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # base URL + model
    next_at: Mapped[datetime] = mapped_column(server_default=func.now())
    paused_until: Mapped[datetime | None]
