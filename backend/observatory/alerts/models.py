"""Alert rules, silences and the alert history.

An alert is one (rule, subject) episode: inserted when it fires, updated when it resolves. The
partial unique index on firing (rule, subject) makes "fire" idempotent across evaluators and
restarts: a condition that keeps holding never opens a second alert.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from observatory.db.models import Base, _enum


class AlertRuleKind(StrEnum):
    # Value per subject (main session): silence since the last heartbeat / its usual interval.
    HEARTBEAT_MISSED = "heartbeat_missed"
    # Value per running task session: minutes since its last activity.
    TASK_STALLED = "task_stalled"
    # Value per agent: failed runs / runs started in the window (needs min_sample runs).
    FAILURE_RATE = "failure_rate"
    # Value per agent: USD of runs started since 00:00 UTC (runs without cost are left out).
    DAILY_COST = "daily_cost"
    # Value per sync source: seconds since its last success (an open circuit always fires).
    SYNC_STALE = "sync_stale"
    # Value per agent: share of doubly reviewed targets whose AI and human verdicts differ.
    DISAGREEMENT = "disagreement"
    # Value per (agent, tool): failed / answered tool calls made in the window (min_sample calls).
    TOOL_ERROR_RATE = "tool_error_rate"


class AlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertRule(Base):
    __tablename__ = "alert_rules"
    __table_args__ = (
        CheckConstraint("window_s BETWEEN 60 AND 2678400", name="window"),
        CheckConstraint("min_sample >= 1", name="min_sample"),
        CheckConstraint("resolve_ratio > 0 AND resolve_ratio <= 1", name="resolve_ratio"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AlertRuleKind] = mapped_column(_enum(AlertRuleKind, "alert_rule_kind"))
    # None => every agent (each agent is its own subject).
    agent_id: Mapped[str | None] = mapped_column(String(200))
    threshold: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    # Look-back window (failure rate, disagreement, heartbeat history).
    window_s: Mapped[int] = mapped_column(Integer, server_default="3600")
    min_sample: Mapped[int] = mapped_column(Integer, server_default="1")
    # Hysteresis: a firing alert resolves only once value < threshold * resolve_ratio.
    resolve_ratio: Mapped[float] = mapped_column(Float, server_default="0.8")
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_by_api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AlertSilence(Base):
    """Mutes matching alerts in [starts_at, ends_at): they are recorded but not delivered."""

    __tablename__ = "alert_silences"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="range"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    # None => any rule / any agent.
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    agent_id: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(server_default=func.now())
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, server_default="")
    created_by_api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index(
            "uq_alerts_firing_subject",
            "rule_id",
            "subject",
            unique=True,
            postgresql_where=text("state = 'firing'"),
        ),
        Index("ix_alerts_fired_at", "fired_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    # What the alert is about: "session:12", "agent:sofia", "source:3".
    subject: Mapped[str] = mapped_column(String(220))
    agent_id: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[AlertState] = mapped_column(_enum(AlertState, "alert_state"))
    value: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    silenced: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    fired_at: Mapped[datetime] = mapped_column(server_default=func.now())
    resolved_at: Mapped[datetime | None]
