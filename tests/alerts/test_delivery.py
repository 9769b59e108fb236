"""End to end: an alert fires and resolves; a receiver that fails, delays and recovers ends up
with each event exactly once, in order, and nothing is left undelivered."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.alerts.engine import evaluate
from observatory.alerts.models import Alert, AlertRule, AlertRuleKind, AlertState
from observatory.db.models import SyncSource
from observatory.outbox.models import EndpointFormat, OutboxDelivery, WebhookEndpoint
from observatory.outbox.sender import OutboxPolicy, OutboxSender, sign
from tests.alerts.conftest import Receiver

FAST = OutboxPolicy(timeout_s=0.3, lease_s=2.0, backoff_base_s=0.05, backoff_max_s=0.2)


async def _stale_source_rule(db: AsyncSession) -> tuple[int, int]:
    source = SyncSource(
        name="gw", kind="openclaw", last_success_at=datetime.now(UTC) - timedelta(hours=1)
    )
    rule = AlertRule(
        name="sync stale", kind=AlertRuleKind.SYNC_STALE, threshold=Decimal(600), min_sample=1
    )
    db.add_all([source, rule])
    await db.flush()
    return source.id, rule.id


async def test_receiver_down_then_slow_then_back_gets_each_alert_once(
    factory: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    receiver.script = ["fail", "fail", "slow", "fail"]
    async with factory() as db, db.begin():
        source_id, _ = await _stale_source_rule(db)
        db.add(WebhookEndpoint(name="ops", url=receiver.url, signing_secret="s3cret"))
        db.add(WebhookEndpoint(name="chat", url=receiver.url, format=EndpointFormat.SLACK))
        fired = await evaluate(db)
    assert fired.evaluated and len(fired.fired) == 1
    alert_id = fired.fired[0]
    async with factory() as db, db.begin():
        again = await evaluate(db)  # still stale: the firing alert is not opened twice
    assert again.fired == [] and again.firing == 1

    stop = asyncio.Event()
    async with httpx.AsyncClient() as client:
        # Two senders, as two workers would run: SKIP LOCKED keeps them off each other's rows.
        senders = [
            asyncio.create_task(OutboxSender(factory, client, FAST).run(stop, idle_s=0.05))
            for _ in range(2)
        ]
        firing_key = f"alert:{alert_id}:firing"
        await receiver.wait_for(
            lambda: receiver.kept.count(firing_key) == 1 and len(receiver.requests) >= 6
        )

        async with factory() as db, db.begin():
            await db.execute(
                text("UPDATE sync_sources SET last_success_at = now() WHERE id = :id"),
                {"id": source_id},
            )
            resolved = await evaluate(db)
        assert resolved.resolved == [alert_id]
        resolved_key = f"alert:{alert_id}:resolved"
        await receiver.wait_for(lambda: resolved_key in receiver.kept)

        async def settled() -> bool:
            async with factory() as db:
                pending = await db.scalar(
                    text("SELECT count(*) FROM outbox_deliveries WHERE status <> 'delivered'")
                )
            return pending == 0

        for _ in range(500):
            if await settled():
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.gather(*senders)

    # Each endpoint got firing then resolved; the receiver kept each key once.
    assert receiver.kept == [firing_key, resolved_key]
    keys_in_order = [r["body"]["idempotency_key"] for r in receiver.requests]
    assert keys_in_order.index(firing_key) < keys_in_order.index(resolved_key)
    assert [r["action"] for r in receiver.requests[:4]] == ["fail", "fail", "slow", "fail"]
    async with factory() as db:
        rows = list((await db.scalars(select(OutboxDelivery).order_by(OutboxDelivery.id))).all())
        alert = await db.get(Alert, alert_id)
    assert len(rows) == 4  # 2 endpoints x (firing, resolved)
    assert all(r.status.value == "delivered" for r in rows)
    # Every request counts as an attempt (a connect timeout is an attempt without a request).
    assert sum(r.attempts for r in rows) >= len(receiver.requests) >= 8
    assert alert is not None and alert.state is AlertState.RESOLVED

    # Bodies: generic JSON is signed and carries the event; Slack gets a text line.
    signed = [r for r in receiver.requests if "x-observatory-signature" in r["headers"]]
    assert signed
    for r in signed:
        h = r["headers"]
        raw = json.dumps(r["body"]).encode()
        assert h["x-observatory-signature"] == sign("s3cret", h["x-observatory-timestamp"], raw)
        assert r["body"]["data"]["rule"]["kind"] == "sync_stale"
        assert h["idempotency-key"] == r["body"]["idempotency_key"]
    chat = [r["body"] for r in receiver.requests if "text" in r["body"]]
    assert chat and all("sync stale" in b["text"] for b in chat)


async def test_endpoint_is_disabled_after_repeated_failure(
    factory: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    receiver.script = ["fail"] * 50
    async with factory() as db, db.begin():
        await _stale_source_rule(db)
        endpoint = WebhookEndpoint(name="flaky", url=receiver.url)
        db.add(endpoint)
        await db.flush()
        endpoint_id = endpoint.id
        await evaluate(db)
    policy = OutboxPolicy(
        timeout_s=0.3, backoff_base_s=0.01, backoff_max_s=0.02, max_attempts=3, disable_after=3
    )
    stop = asyncio.Event()
    async with httpx.AsyncClient() as client:
        task = asyncio.create_task(OutboxSender(factory, client, policy).run(stop, idle_s=0.02))
        await receiver.wait_for(lambda: len(receiver.requests) >= 3)

        async def disabled() -> WebhookEndpoint | None:
            async with factory() as db:
                row = await db.get(WebhookEndpoint, endpoint_id)
            return row if row is not None and not row.enabled else None

        row = None
        for _ in range(500):
            if (row := await disabled()) is not None:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await task
    assert row is not None and row.disabled_reason and "HTTP 500" in row.disabled_reason
    assert len(receiver.requests) == 3  # nothing more goes to a disabled endpoint
    async with factory() as db:
        status = await db.scalar(select(OutboxDelivery.status))
    assert status is not None and status.value == "dead"
