"""SQLAlchemy 2 typed models: the provider-neutral domain (see ../shared/DESIGN.md).

Null token/cost columns mean "the provider did not say"; never store an invented zero.
Sessions carry a few roll-up columns (run_count, total_tokens, total_cost, duration_ms,
last_run_at) so that lists can be keyset-sorted by them with an index; they are written only by
``observatory.db.rollup.refresh_session_totals`` from the runs, in the same transaction.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from observatory.db.enums import (
    CircuitState,
    MessageRole,
    ReviewerKind,
    ReviewJobStatus,
    Role,
    RunStatus,
    RunTrigger,
    SessionKind,
    SessionStatus,
    Verdict,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TZ = DateTime(timezone=True)
MONEY = Numeric(18, 8)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # varchar + CHECK rather than a native PG enum: adding a value is a one-line migration.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: TZ, dict[str, Any]: JSONB, Decimal: MONEY}


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(50), server_default="openclaw")
    first_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SyncSource(Base):
    __tablename__ = "sync_sources"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default="0")
    circuit_state: Mapped[CircuitState] = mapped_column(
        _enum(CircuitState, "circuit_state"), server_default=CircuitState.CLOSED.value
    )
    circuit_opened_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    cursor: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Session(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("source_id", "key"),
        Index("ix_sessions_agent_started", "agent_id", text("started_at DESC"), text("id DESC")),
        Index("ix_sessions_started", text("started_at DESC"), text("id DESC")),
        Index("ix_sessions_updated", text("updated_at DESC"), text("id DESC")),
        # Keyset sort keys: unknown (null) sorts as -1, i.e. last when descending.
        Index("ix_sessions_cost", text("coalesce(total_cost, -1) DESC"), text("id DESC")),
        Index("ix_sessions_tokens", text("coalesce(total_tokens, -1) DESC"), text("id DESC")),
        Index("ix_sessions_duration", text("coalesce(duration_ms, -1) DESC"), text("id DESC")),
        Index("ix_sessions_status", "status"),
        Index("ix_sessions_kind", "kind"),
        Index("ix_sessions_parent_key", "parent_key"),
        Index("ix_sessions_changed", "changed_at"),
        Index("ix_sessions_latest_verdict", "latest_verdict"),
        # Success-rate and verdict-mix queries read reviewed sessions by start, index-only.
        Index(
            "ix_sessions_reviewed",
            "started_at",
            postgresql_include=["agent_id", "kind", "model", "latest_verdict", "latest_review_id"],
            postgresql_where=text("latest_verdict IS NOT NULL"),
        ),
        Index(
            "ix_sessions_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sync_sources.id", ondelete="RESTRICT"))
    key: Mapped[str] = mapped_column(String(500))
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="RESTRICT"))
    provider_session_id: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[SessionKind] = mapped_column(_enum(SessionKind, "session_kind"))
    status: Mapped[SessionStatus] = mapped_column(_enum(SessionStatus, "session_status"))
    provider_status: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(Text)
    parent_key: Mapped[str | None] = mapped_column(String(500))
    model: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    pruned_at: Mapped[datetime | None]
    synced_at: Mapped[datetime | None]
    transcript_synced_at: Mapped[datetime | None]
    sync_cursor: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    # Quarantine (migration 0035): why the last read of this session's transcript failed.
    sync_error: Mapped[str | None] = mapped_column(Text)
    sync_error_at: Mapped[datetime | None]
    # Roll-ups of this session's runs (sort keys for lists; see module docstring).
    run_count: Mapped[int] = mapped_column(Integer, server_default="0")
    total_tokens: Mapped[int | None] = mapped_column(BigInteger)
    total_cost: Mapped[Decimal | None]
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_run_at: Mapped[datetime | None]
    # The latest review (a human one wins over AI), kept by the reviews trigger (migration 0020).
    latest_review_id: Mapped[int | None] = mapped_column(BigInteger)
    latest_verdict: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Set by a trigger on every UPDATE: lets live subscribers catch up after a lost connection.
    changed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("session_id", "provider_run_id"),
        Index("ix_runs_session_started", "session_id", "started_at"),
        Index("ix_runs_agent_started", "agent_id", "started_at"),
        Index("ix_runs_started", "started_at"),
        Index(
            "ix_runs_heartbeats",
            text("started_at DESC"),
            text("id DESC"),
            postgresql_where=text("trigger = 'heartbeat'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="RESTRICT"))
    provider_run_id: Mapped[str] = mapped_column(String(300))
    trigger: Mapped[RunTrigger] = mapped_column(_enum(RunTrigger, "run_trigger"))
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    model: Mapped[str | None] = mapped_column(String(200))
    input_tokens: Mapped[int | None] = mapped_column(BigInteger)
    output_tokens: Mapped[int | None] = mapped_column(BigInteger)
    cache_read_tokens: Mapped[int | None] = mapped_column(BigInteger)
    cache_write_tokens: Mapped[int | None] = mapped_column(BigInteger)
    cost: Mapped[Decimal | None]
    error: Mapped[str | None] = mapped_column(Text)
    prompt_preview: Mapped[str | None] = mapped_column(Text)
    outcome_preview: Mapped[str | None] = mapped_column(Text)
    tool_call_count: Mapped[int] = mapped_column(Integer, server_default="0")
    tool_error_count: Mapped[int] = mapped_column(Integer, server_default="0")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("session_id", "provider_session_id", "seq"),
        Index("ix_messages_session_id", "session_id", "id"),
        Index("ix_messages_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    provider_session_id: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    provider_event_id: Mapped[str | None] = mapped_column(String(200))
    parent_event_id: Mapped[str | None] = mapped_column(String(200))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    provider_run_id: Mapped[str | None] = mapped_column(String(300))
    role: Mapped[MessageRole] = mapped_column(_enum(MessageRole, "message_role"))
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime]
    model: Mapped[str | None] = mapped_column(String(200))
    input_tokens: Mapped[int | None] = mapped_column(BigInteger)
    output_tokens: Mapped[int | None] = mapped_column(BigInteger)
    cache_read_tokens: Mapped[int | None] = mapped_column(BigInteger)
    cache_write_tokens: Mapped[int | None] = mapped_column(BigInteger)
    cost: Mapped[Decimal | None]
    is_error: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    hash: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "api_key_role"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Review(Base):
    """A judgement on a session (or one run of it, e.g. a heartbeat).

    Reviews are human work: a session that has reviews cannot be deleted (ON DELETE RESTRICT);
    archive it instead. Deleting a run keeps its reviews on the session (run_id SET NULL).
    """

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("confidence IS NULL OR confidence BETWEEN 0 AND 1", name="confidence"),
        Index("ix_reviews_session_created", "session_id", text("created_at DESC")),
        Index("ix_reviews_run_id", "run_id"),
        Index("ix_reviews_created", text("created_at DESC"), text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="RESTRICT"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict, "verdict"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    summary: Mapped[str] = mapped_column(Text, server_default="")
    reviewer_kind: Mapped[ReviewerKind] = mapped_column(_enum(ReviewerKind, "reviewer_kind"))
    reviewer_model: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[float | None]
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    suggestions: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    input_tokens: Mapped[int | None] = mapped_column(BigInteger)
    output_tokens: Mapped[int | None] = mapped_column(BigInteger)
    cost: Mapped[Decimal | None]
    created_by_api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ReviewJob(Base):
    """AI review queue, claimed with FOR UPDATE SKIP LOCKED."""

    __tablename__ = "review_jobs"
    __table_args__ = (
        Index("ix_review_jobs_status_created", "status", "created_at"),
        # The claim order: on-demand requests before policy jobs, then oldest first.
        Index(
            "ix_review_jobs_claim_order",
            text("on_demand DESC"),
            "created_at",
            "id",
            postgresql_where=text("status = 'queued'"),
        ),
        Index(
            "uq_review_jobs_active_target",
            "session_id",
            text("coalesce(run_id, 0)"),
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    status: Mapped[ReviewJobStatus] = mapped_column(
        _enum(ReviewJobStatus, "review_job_status"), server_default=ReviewJobStatus.QUEUED.value
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    reason: Mapped[str | None] = mapped_column(Text)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", ondelete="SET NULL"))
    requested_by_api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    # A person asked for this one review (not a policy or a bulk backfill): it goes first.
    on_demand: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


# Hourly roll-up of runs, maintained by statement-level triggers on runs (migration 0020), so
# time-bucketed metrics over millions of runs read thousands of rows. Duration percentiles come
# from a fixed log-scale histogram: bucket 0 is [0, 50 ms), bucket i >= 1 is
# [50 * 1.5^(i-1), 50 * 1.5^i) ms, the last bucket is open-ended (see observatory.metrics).
HIST_BUCKETS = 32
HIST_COLUMNS = [f"h{i}" for i in range(HIST_BUCKETS)]
# The roll-up's additive aggregates, in column order (the metrics queries sum exactly these).
ROLLUP_SUMS = [
    "run_count", "failed_runs", "usage_runs", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens", "cost_runs", "cost", "duration_runs",
]  # fmt: skip
run_rollups = Table(
    "run_rollups",
    Base.metadata,
    Column("bucket", DateTime(timezone=True), primary_key=True),
    Column("agent_id", String(200), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("trigger", String(16), primary_key=True),
    *[
        Column(
            name,
            Numeric(18, 8) if name == "cost" else BigInteger,
            nullable=False,
            server_default="0",
        )
        for name in ROLLUP_SUMS + HIST_COLUMNS
    ],
    Index("ix_run_rollups_bucket", "bucket"),
)
