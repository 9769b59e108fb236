"""The table of AI-written proposals (``improvement_proposals``), on the shared ``Base``.

A proposal is one edit to one of an agent's own instruction files, as a unified diff against the
file's text when it was read (``base_text``). Its life: ``proposed`` (or ``invalid``, with the
reason in ``error``, when the model's answer failed validation) -> ``approved`` by a human ->
``applied`` through the provider, keeping ``before_text``/``after_text`` -> optionally
``reverted``. ``dismissed`` drops it. ``applied_at`` starts the before/after impact on
``target_metrics``, like an applied suggestion.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from observatory.db.models import Base


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    INVALID = "invalid"
    APPROVED = "approved"
    APPLIED = "applied"
    REVERTED = "reverted"
    DISMISSED = "dismissed"


def _keyref() -> Any:
    return ForeignKey("api_keys.id", ondelete="SET NULL")


class ImprovementProposal(Base):
    __tablename__ = "improvement_proposals"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'invalid', 'approved', 'applied', 'reverted', 'dismissed')",
            name="status",
        ),
        Index("ix_improvement_proposals_agent_created", "agent_id", text("created_at DESC")),
        Index("ix_improvement_proposals_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_sources.id", ondelete="SET NULL")
    )
    writable: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    file_name: Mapped[str] = mapped_column(String(100))
    base_text: Mapped[str | None] = mapped_column(Text)  # the file as read when proposed
    diff: Mapped[str] = mapped_column(Text, server_default="")
    title: Mapped[str] = mapped_column(Text, server_default="")
    rationale: Mapped[str] = mapped_column(Text, server_default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    target_metrics: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # Ranking: how much is behind it (failed/partial sessions, their cost; null = unknown).
    sessions_affected: Mapped[int] = mapped_column(Integer, server_default="0")
    cost_at_stake: Mapped[Decimal | None] = mapped_column(Numeric(18, 8))
    status: Mapped[str] = mapped_column(String(16), server_default=ProposalStatus.PROPOSED.value)
    error: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(200))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    approved_at: Mapped[datetime | None]
    approved_by_api_key_id: Mapped[int | None] = mapped_column(_keyref())
    applied_at: Mapped[datetime | None]
    applied_by_api_key_id: Mapped[int | None] = mapped_column(_keyref())
    before_text: Mapped[str | None] = mapped_column(Text)
    after_text: Mapped[str | None] = mapped_column(Text)
    reverted_at: Mapped[datetime | None]
    reverted_by_api_key_id: Mapped[int | None] = mapped_column(_keyref())
