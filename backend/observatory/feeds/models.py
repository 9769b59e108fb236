"""Tables of the feed log (migration 0080): one row per session/run event, and named marks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Identity, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from observatory.db.models import Base


class FeedEvent(Base):
    __tablename__ = "feed_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('session_created', 'session_updated', 'run_finished')", name="kind"
        ),
        Index("ix_feed_events_position", "kind", "xid", "id"),
        Index("ix_feed_events_all", "xid", "id"),
        Index("ix_feed_events_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # The writing transaction's 64-bit id (xid8 as bigint): positions order by (xid, id).
    xid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint")
    )
    kind: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class FeedMark(Base):
    """``pruned``: the log was cut through this position (older cursors are expired);
    ``webhooks``: the dispatcher has enqueued every event up to here."""

    __tablename__ = "feed_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[int] = mapped_column(BigInteger)
