"""Tables of the durable outbox: webhook endpoints and one delivery row per (endpoint, event).

Writers insert deliveries in the same transaction as the change they announce, so an event is
never lost by a crash between "changed" and "sent". ``(endpoint_id, idempotency_key)`` is unique:
enqueueing the same event twice is a no-op, and receivers dedupe on the key in the payload.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from observatory.db.models import Base, _enum


class EndpointFormat(StrEnum):
    JSON = "json"  # the event as it is, plus idempotency key and topic
    SLACK = "slack"  # {"text": ...} (Slack incoming webhooks, Mattermost, ...)
    DISCORD = "discord"  # {"content": ...}


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after max attempts; kept for inspection


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)
    format: Mapped[EndpointFormat] = mapped_column(
        _enum(EndpointFormat, "endpoint_format"), server_default=EndpointFormat.JSON.value
    )
    # Topics this endpoint receives ("alerts", later "sessions", "runs").
    topics: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default="{alerts}")
    # When set, bodies are signed: X-Observatory-Signature: sha256=HMAC(secret, "<ts>.<body>").
    signing_secret: Mapped[str | None] = mapped_column(Text)
    # Feed topics only (observatory.feeds.webhooks): which sessions/runs, e.g. {"agentIds": [..]}.
    filter: Mapped[dict[str, Any] | None]
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default="0")
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class OutboxDelivery(Base):
    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "idempotency_key"),
        # The sender's claim query: due pending rows in order.
        Index(
            "ix_outbox_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        # Per-endpoint FIFO: "is there an older pending row for this endpoint?"
        Index(
            "ix_outbox_deliveries_endpoint_pending",
            "endpoint_id",
            "id",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(50))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), server_default=DeliveryStatus.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    delivered_at: Mapped[datetime | None]
