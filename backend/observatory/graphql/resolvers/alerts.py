"""Alert rules, silences, history and webhook endpoints: queries need `alerts:read`, changes
`alerts:write`; endpoints (their URLs can embed tokens) need `alerts:write` to be read too."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import strawberry
from sqlalchemy import Select, and_, delete, select
from strawberry.types import Info

from observatory.alerts.models import Alert as AlertRow
from observatory.alerts.models import AlertRule as AlertRuleRow
from observatory.alerts.models import AlertRuleKind, AlertState
from observatory.alerts.models import AlertSilence as AlertSilenceRow
from observatory.auth.scopes import Scope
from observatory.graphql.errors import BadUserInput, Conflict, NotFound
from observatory.graphql.pagination import Key, keyset_page, parse_id
from observatory.graphql.permissions import scoped, scoped_mutation
from observatory.graphql.types.alerts import (
    Alert,
    AlertConnection,
    AlertRule,
    AlertRuleInput,
    AlertSilence,
    AlertSilenceInput,
    WebhookEndpoint,
    WebhookEndpointInput,
)
from observatory.outbox.models import WebhookEndpoint as EndpointRow

MAX_RULES = 500
RATE_KINDS = {
    AlertRuleKind.FAILURE_RATE,
    AlertRuleKind.DISAGREEMENT,
    AlertRuleKind.TOOL_ERROR_RATE,
}


def _text(value: str, field: str, maximum: int = 200, *, empty: bool = False) -> str:
    value = value.strip()
    if (not value and not empty) or len(value) > maximum:
        raise BadUserInput(f"{field} must be 1 to {maximum} characters", field=field)
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise BadUserInput(f"{field} must not contain NUL characters", field=field)
    return value


def _agent(value: str | None, field: str = "input.agentId") -> str | None:
    return None if value is None else _text(value, field)


def _validate_rule(i: AlertRuleInput) -> None:
    # Numeric(18, 6) holds < 1e12.
    if not math.isfinite(i.threshold) or not 0 < i.threshold <= 1e11:
        raise BadUserInput("threshold must be > 0 and at most 1e11", field="input.threshold")
    if i.kind in RATE_KINDS and i.threshold > 1:
        raise BadUserInput("a rate threshold is a share in (0, 1]", field="input.threshold")
    if not 60 <= i.window_seconds <= 31 * 86400:
        raise BadUserInput("windowSeconds must be 60 to 2678400", field="input.windowSeconds")
    if not 1 <= i.min_sample <= 1_000_000:
        raise BadUserInput("minSample must be 1 to 1000000", field="input.minSample")
    if not 0 < i.resolve_ratio <= 1:
        raise BadUserInput("resolveRatio must be in (0, 1]", field="input.resolveRatio")


def _apply_rule(row: AlertRuleRow, i: AlertRuleInput) -> None:
    _validate_rule(i)
    row.name = _text(i.name, "input.name")
    row.kind = i.kind
    row.agent_id = _agent(i.agent_id)
    row.threshold = Decimal(str(i.threshold))
    row.window_s = i.window_seconds
    row.min_sample = i.min_sample
    row.resolve_ratio = i.resolve_ratio
    row.enabled = i.enabled


def _key_id(info: Info) -> int:
    return int(info.context.caller.key_id)


@strawberry.type
class AlertsQuery:
    @scoped(Scope.ALERTS_READ, description="Alert rules (at most 500), optionally of one agent.")
    async def alert_rules(self, info: Info, agent_id: str | None = None) -> list[AlertRule]:
        stmt = select(AlertRuleRow).order_by(AlertRuleRow.id).limit(MAX_RULES)
        if agent_id is not None:
            stmt = stmt.where(AlertRuleRow.agent_id == _agent(agent_id, "agentId"))
        async with info.context.db() as db:
            return [AlertRule.from_row(r) for r in (await db.scalars(stmt))]

    @scoped(Scope.ALERTS_READ, description="Alert history, newest first.")
    async def alerts(
        self,
        info: Info,
        state: AlertState | None = None,
        agent_id: str | None = None,
        rule_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> AlertConnection:
        conds: list[Any] = []
        if state is not None:
            conds.append(AlertRow.state == state)
        if agent_id is not None:
            conds.append(AlertRow.agent_id == _agent(agent_id, "agentId"))
        if rule_id is not None:
            conds.append(AlertRow.rule_id == parse_id(rule_id, "ruleId"))
        base: Select[Any] = select(AlertRow)
        if conds:
            base = base.where(and_(*conds))
        page = await keyset_page(
            info, base, [Key(AlertRow.id, "int")], first=first, after=after, descending=True
        )
        # The page's rules in one query (a page names a handful of rules).
        rules = await _rules_by_id(info, {a.rule_id for a in page.rows})
        return AlertConnection.of(page, lambda a: Alert.from_row(a, rules[a.rule_id]))

    @scoped(Scope.ALERTS_READ, description="Silences that have not ended yet.")
    async def alert_silences(self, info: Info) -> list[AlertSilence]:
        now = datetime.now(UTC)
        stmt = (
            select(AlertSilenceRow)
            .where(AlertSilenceRow.ends_at > now)
            .order_by(AlertSilenceRow.ends_at)
            .limit(MAX_RULES)
        )
        async with info.context.db() as db:
            return [AlertSilence.from_row(r, now) for r in await db.scalars(stmt)]

    @scoped(Scope.ALERTS_WRITE, description="Webhook endpoints (signing secrets never shown).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        async with info.context.db() as db:
            rows = await db.scalars(select(EndpointRow).order_by(EndpointRow.id).limit(MAX_RULES))
            return [WebhookEndpoint.from_row(r) for r in rows]


@strawberry.type
class AlertsMutation:
    @scoped_mutation(Scope.ALERTS_WRITE, description="Create an alert rule.")
    async def create_alert_rule(self, info: Info, input: AlertRuleInput) -> AlertRule:
        row = AlertRuleRow(created_by_api_key_id=_key_id(info))
        _apply_rule(row, input)
        async with info.context.db() as db, db.begin():
            db.add(row)
            await db.flush()
            await db.refresh(row)
        return AlertRule.from_row(row)

    @scoped_mutation(Scope.ALERTS_WRITE, description="Replace an alert rule's settings.")
    async def update_alert_rule(
        self, info: Info, id: strawberry.ID, input: AlertRuleInput
    ) -> AlertRule:
        async with info.context.db() as db, db.begin():
            row = await db.get(AlertRuleRow, parse_id(id))
            if row is None:
                raise NotFound(f"no alert rule with id {id}", field="id")
            _apply_rule(row, input)
        return AlertRule.from_row(row)

    @scoped_mutation(Scope.ALERTS_WRITE, description="Delete a rule with its alert history.")
    async def delete_alert_rule(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        async with info.context.db() as db, db.begin():
            gone = await db.execute(
                delete(AlertRuleRow)
                .where(AlertRuleRow.id == parse_id(id))
                .returning(AlertRuleRow.id)
            )
            if gone.first() is None:
                raise NotFound(f"no alert rule with id {id}", field="id")
        return id

    @scoped_mutation(Scope.ALERTS_WRITE, description="Mute matching alerts for a while.")
    async def create_alert_silence(self, info: Info, input: AlertSilenceInput) -> AlertSilence:
        now = datetime.now(UTC)
        starts = input.starts_at or now
        if input.ends_at <= starts:
            raise BadUserInput("endsAt must be after startsAt", field="input.endsAt")
        if input.ends_at - starts > timedelta(days=366):
            raise BadUserInput("a silence lasts at most a year", field="input.endsAt")
        row = AlertSilenceRow(
            rule_id=None if input.rule_id is None else parse_id(input.rule_id, "input.ruleId"),
            agent_id=_agent(input.agent_id),
            starts_at=starts,
            ends_at=input.ends_at,
            reason=_text(input.reason, "input.reason", 1000, empty=True),
            created_by_api_key_id=_key_id(info),
        )
        async with info.context.db() as db, db.begin():
            if row.rule_id is not None and await db.get(AlertRuleRow, row.rule_id) is None:
                raise NotFound(f"no alert rule with id {input.rule_id}", field="input.ruleId")
            db.add(row)
        return AlertSilence.from_row(row, now)

    @scoped_mutation(Scope.ALERTS_WRITE, description="End a silence now.")
    async def delete_alert_silence(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        async with info.context.db() as db, db.begin():
            gone = await db.execute(
                delete(AlertSilenceRow)
                .where(AlertSilenceRow.id == parse_id(id))
                .returning(AlertSilenceRow.id)
            )
            if gone.first() is None:
                raise NotFound(f"no silence with id {id}", field="id")
        return id

    @scoped_mutation(Scope.ALERTS_WRITE, description="Add a webhook endpoint.")
    async def create_webhook_endpoint(
        self, info: Info, input: WebhookEndpointInput
    ) -> WebhookEndpoint:
        url = _text(input.url, "input.url", 2000)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadUserInput("url must be an http(s) URL", field="input.url")
        if not input.topics:
            raise BadUserInput("at least one topic", field="input.topics")
        secret = input.signing_secret
        if secret is not None:
            secret = _text(secret, "input.signingSecret")
        if secret is not None and not 16 <= len(secret) <= 200:
            raise BadUserInput(
                "signingSecret must be 16 to 200 characters", field="input.signingSecret"
            )
        name = _text(input.name, "input.name")
        async with info.context.db() as db, db.begin():
            if await db.scalar(select(EndpointRow.id).where(EndpointRow.name == name)):
                raise Conflict(f"an endpoint named {name!r} exists", field="input.name")
            row = EndpointRow(
                name=name,
                url=url,
                format=input.format,
                topics=sorted({t.value for t in input.topics}),
                signing_secret=secret,
            )
            db.add(row)
            await db.flush()
            await db.refresh(row)
        return WebhookEndpoint.from_row(row)

    @scoped_mutation(
        Scope.ALERTS_WRITE,
        description="Switch an endpoint on or off (on again resets its failure count).",
    )
    async def set_webhook_endpoint_enabled(
        self, info: Info, id: strawberry.ID, enabled: bool
    ) -> WebhookEndpoint:
        async with info.context.db() as db, db.begin():
            row = await db.get(EndpointRow, parse_id(id))
            if row is None:
                raise NotFound(f"no webhook endpoint with id {id}", field="id")
            row.enabled = enabled
            if enabled:
                row.consecutive_failures = 0
                row.disabled_reason = None
            else:
                row.disabled_reason = "switched off by an operator"
        return WebhookEndpoint.from_row(row)

    @scoped_mutation(
        Scope.ALERTS_WRITE, description="Delete an endpoint and its queued deliveries."
    )
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        async with info.context.db() as db, db.begin():
            gone = await db.execute(
                delete(EndpointRow).where(EndpointRow.id == parse_id(id)).returning(EndpointRow.id)
            )
            if gone.first() is None:
                raise NotFound(f"no webhook endpoint with id {id}", field="id")
        return id


async def _rules_by_id(info: Info, ids: set[int]) -> dict[int, AlertRuleRow]:
    if not ids:
        return {}
    async with info.context.db() as db:
        rows = await db.scalars(select(AlertRuleRow).where(AlertRuleRow.id.in_(ids)))
        return {r.id: r for r in rows}


async def alerts_by_id(info: Info, ids: tuple[int, ...]) -> list[Alert]:
    stmt = (
        select(AlertRow, AlertRuleRow)
        .join(AlertRuleRow, AlertRuleRow.id == AlertRow.rule_id)
        .where(AlertRow.id.in_(ids))
        .order_by(AlertRow.id)
    )
    async with info.context.db() as db:
        return [Alert.from_row(a, r) for a, r in (await db.execute(stmt)).all()]
