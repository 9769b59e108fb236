"""Evaluate every enabled rule, fire and resolve alerts with hysteresis, queue their deliveries.

Every worker runs the loop; each pass takes a transaction-scoped advisory lock first, so one
evaluates and the others skip that pass. Firing, resolving and queueing the webhook deliveries
happen in one transaction: an alert is never recorded without its delivery, nor sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.alerts.conditions import MEASURES, Observation
from observatory.alerts.models import Alert, AlertRule, AlertSilence, AlertState
from observatory.outbox.sender import enqueue

log = logging.getLogger(__name__)

# pg advisory lock key: "alerts" evaluator (any constant unique within the project).
LOCK_KEY = 0x0B5E_A1E7
TOPIC = "alerts"


@dataclass
class PassResult:
    evaluated: bool = False
    fired: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    firing: int = 0


def _silenced(silences: list[AlertSilence], rule: AlertRule, agent_id: str | None) -> bool:
    return any(
        (s.rule_id is None or s.rule_id == rule.id)
        and (s.agent_id is None or s.agent_id == agent_id)
        for s in silences
    )


def payload(alert: Alert, rule: AlertRule) -> dict[str, Any]:
    at = alert.resolved_at if alert.state is AlertState.RESOLVED else alert.fired_at
    icon = "✅ resolved" if alert.state is AlertState.RESOLVED else "🔔 firing"
    return {
        "alert_id": alert.id,
        "state": alert.state.value,
        "rule": {"id": rule.id, "name": rule.name, "kind": rule.kind.value},
        "subject": alert.subject,
        "agent_id": alert.agent_id,
        "value": alert.value,
        "threshold": float(rule.threshold),
        "message": alert.message,
        "fired_at": alert.fired_at.isoformat(),
        "at": at.isoformat() if at else None,
        "text": f"[{icon}] {rule.name}: {alert.message}",
    }


async def evaluate(db: AsyncSession, now: datetime | None = None) -> PassResult:
    """One pass in the caller's transaction; skipped (evaluated=False) if another holds the lock."""
    result = PassResult()
    got = await db.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    if not got:
        return result
    result.evaluated = True
    now = now or datetime.now(UTC)
    rules = list((await db.scalars(select(AlertRule).where(AlertRule.enabled))).all())
    silences = list(
        (
            await db.scalars(
                select(AlertSilence).where(
                    AlertSilence.starts_at <= now, AlertSilence.ends_at > now
                )
            )
        ).all()
    )
    # A rule switched off ends its episodes (receivers get "resolved", nothing stays firing).
    orphaned = await db.execute(
        select(Alert, AlertRule)
        .join(AlertRule, AlertRule.id == Alert.rule_id)
        .where(Alert.state == AlertState.FIRING, AlertRule.enabled.is_(False))
    )
    for alert, rule in orphaned.all():
        await _resolve(db, alert, rule, now, result)
    for rule in rules:
        observed = {o.subject: o for o in await MEASURES[rule.kind](db, rule, now)}
        firing = {
            a.subject: a
            for a in await db.scalars(
                select(Alert).where(Alert.rule_id == rule.id, Alert.state == AlertState.FIRING)
            )
        }
        await _transition(db, rule, observed, firing, silences, now, result)
    result.firing = int(
        await db.scalar(text("SELECT count(*) FROM alerts WHERE state = 'firing'")) or 0
    )
    return result


async def _transition(
    db: AsyncSession,
    rule: AlertRule,
    observed: dict[str, Observation],
    firing: dict[str, Alert],
    silences: list[AlertSilence],
    now: datetime,
    result: PassResult,
) -> None:
    threshold = float(rule.threshold)
    for subject, obs in observed.items():
        if subject in firing or obs.sample < rule.min_sample or obs.value < threshold:
            continue
        alert = Alert(
            rule_id=rule.id,
            subject=subject,
            agent_id=obs.agent_id,
            state=AlertState.FIRING,
            value=obs.value,
            message=obs.message,
            silenced=_silenced(silences, rule, obs.agent_id),
            fired_at=now,
        )
        db.add(alert)
        await db.flush()
        if not alert.silenced:
            await enqueue(db, TOPIC, f"alert:{alert.id}:firing", payload(alert, rule))
        result.fired.append(alert.id)
    for subject, alert in firing.items():
        current = observed.get(subject)
        if current is not None and (
            current.sample < rule.min_sample or current.value >= threshold * rule.resolve_ratio
        ):
            alert.value = current.value  # still firing (or undecided): keep the latest value
            continue
        if current is not None:
            alert.value = current.value
        await _resolve(db, alert, rule, now, result)


async def _resolve(
    db: AsyncSession, alert: Alert, rule: AlertRule, now: datetime, result: PassResult
) -> None:
    alert.state = AlertState.RESOLVED
    alert.resolved_at = now
    await db.flush()
    if not alert.silenced:
        await enqueue(db, TOPIC, f"alert:{alert.id}:resolved", payload(alert, rule))
    result.resolved.append(alert.id)


async def run_alerts(
    factory: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    interval_s: float,
    on_pass: Callable[[AsyncSession, PassResult], Awaitable[None]] | None = None,
) -> None:
    """Evaluate every ``interval_s`` until ``stop`` (each worker; the lock picks one per pass).
    ``on_pass`` runs in the pass's transaction (the metrics gauges use it)."""
    while not stop.is_set():
        try:
            async with factory() as db, db.begin():
                result = await evaluate(db)
                if on_pass is not None:
                    await on_pass(db, result)
            if result.fired or result.resolved:
                log.info("alerts: %d fired, %d resolved", len(result.fired), len(result.resolved))
        except Exception:  # keep evaluating after a database hiccup
            log.exception("alert evaluation failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
