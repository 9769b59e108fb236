"""GraphQL types of alerting: rules, alerts, silences, webhook endpoints (secrets never shown)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import strawberry

from observatory.alerts.models import Alert as AlertRow
from observatory.alerts.models import AlertRule as AlertRuleRow
from observatory.alerts.models import AlertRuleKind, AlertState
from observatory.alerts.models import AlertSilence as AlertSilenceRow
from observatory.graphql.types.connections import Connection
from observatory.outbox.models import EndpointFormat
from observatory.outbox.models import WebhookEndpoint as EndpointRow

strawberry.enum(
    AlertRuleKind,
    description="What a rule watches (the value compared with its threshold): HEARTBEAT_MISSED "
    "silence / usual heartbeat interval; TASK_STALLED minutes idle; FAILURE_RATE failed share "
    "of runs in the window; DAILY_COST USD since 00:00 UTC; SYNC_STALE seconds since the last "
    "successful sync (an open circuit fires); DISAGREEMENT share of AI/human verdict mismatches; "
    "TOOL_ERROR_RATE failed share of each tool's answered calls, per agent and tool.",
)
strawberry.enum(AlertState)
strawberry.enum(EndpointFormat, description="Body shape: generic JSON, Slack or Discord.")


@strawberry.enum(description="Event streams an endpoint can receive.")
class WebhookTopic(StrEnum):
    ALERTS = "alerts"
    SESSIONS = "sessions"  # sessionCreated / sessionUpdated events (createFeedWebhook)
    RUNS = "runs"  # runFinished events


@strawberry.type
class AlertRule:
    id: strawberry.ID
    name: str
    kind: AlertRuleKind
    agent_id: str | None = strawberry.field(description="Null: every agent.")
    threshold: float
    window_seconds: int
    min_sample: int
    resolve_ratio: float = strawberry.field(
        description="A firing alert resolves once its value < threshold * resolveRatio."
    )
    enabled: bool
    created_at: datetime

    @classmethod
    def from_row(cls, r: AlertRuleRow) -> AlertRule:
        return cls(
            id=strawberry.ID(str(r.id)),
            name=r.name,
            kind=r.kind,
            agent_id=r.agent_id,
            threshold=float(r.threshold),
            window_seconds=r.window_s,
            min_sample=r.min_sample,
            resolve_ratio=r.resolve_ratio,
            enabled=r.enabled,
            created_at=r.created_at,
        )


@strawberry.type
class Alert:
    id: strawberry.ID
    rule: AlertRule
    subject: str = strawberry.field(description='"session:<id>", "agent:<id>" or "source:<id>".')
    agent_id: str | None
    state: AlertState
    value: float
    message: str
    silenced: bool
    fired_at: datetime
    resolved_at: datetime | None

    @classmethod
    def from_row(cls, r: AlertRow, rule: AlertRuleRow) -> Alert:
        return cls(
            id=strawberry.ID(str(r.id)),
            rule=AlertRule.from_row(rule),
            subject=r.subject,
            agent_id=r.agent_id,
            state=r.state,
            value=r.value,
            message=r.message,
            silenced=r.silenced,
            fired_at=r.fired_at,
            resolved_at=r.resolved_at,
        )


@strawberry.type
class AlertConnection(Connection[Alert]):
    pass


@strawberry.type
class AlertSilence:
    id: strawberry.ID
    rule_id: strawberry.ID | None
    agent_id: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    active: bool

    @classmethod
    def from_row(cls, r: AlertSilenceRow, now: datetime) -> AlertSilence:
        return cls(
            id=strawberry.ID(str(r.id)),
            rule_id=strawberry.ID(str(r.rule_id)) if r.rule_id else None,
            agent_id=r.agent_id,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            reason=r.reason,
            active=r.starts_at <= now < r.ends_at,
        )


@strawberry.type
class WebhookEndpoint:
    id: strawberry.ID
    name: str
    url: str
    format: EndpointFormat
    topics: list[WebhookTopic]
    signed: bool = strawberry.field(description="Bodies carry an HMAC-SHA256 signature header.")
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    last_success_at: datetime | None
    last_failure_at: datetime | None

    @classmethod
    def from_row(cls, r: EndpointRow) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(str(r.id)),
            name=r.name,
            url=r.url,
            format=r.format,
            topics=[WebhookTopic(t) for t in r.topics if t in WebhookTopic._value2member_map_],
            signed=bool(r.signing_secret),
            enabled=r.enabled,
            disabled_reason=r.disabled_reason,
            consecutive_failures=r.consecutive_failures,
            last_success_at=r.last_success_at,
            last_failure_at=r.last_failure_at,
        )


@strawberry.input
class AlertRuleInput:
    name: str
    kind: AlertRuleKind
    threshold: float
    agent_id: str | None = None
    window_seconds: int = 3600
    min_sample: int = 1
    resolve_ratio: float = 0.8
    enabled: bool = True


@strawberry.input
class AlertSilenceInput:
    ends_at: datetime
    starts_at: datetime | None = None
    rule_id: strawberry.ID | None = None
    agent_id: str | None = None
    reason: str = ""


@strawberry.input
class WebhookEndpointInput:
    name: str
    url: str
    format: EndpointFormat = EndpointFormat.JSON
    topics: list[WebhookTopic] = strawberry.field(default_factory=lambda: [WebhookTopic.ALERTS])
    signing_secret: str | None = strawberry.field(
        default=None, description="Sign bodies with HMAC-SHA256 (write-only)."
    )
