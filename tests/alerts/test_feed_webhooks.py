"""Session and run events reach a feed webhook through the shared outbox: a receiver that
fails, delays and recovers keeps every event exactly once, each with a valid signature."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.feeds import webhooks
from observatory.feeds.cursor import Position
from observatory.outbox.models import WebhookEndpoint
from observatory.outbox.sender import OutboxPolicy, OutboxSender
from tests.alerts.conftest import Receiver

FAST = OutboxPolicy(timeout_s=0.5, backoff_base_s=0.05, backoff_max_s=0.2, lease_s=2.0)
NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


async def _reset(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as db, db.begin():
        await db.execute(text("TRUNCATE feed_events, feed_marks"))


async def _endpoint(factory: async_sessionmaker[AsyncSession], url: str, secret: str) -> int:
    async with factory() as db, db.begin():
        row = WebhookEndpoint(
            name=f"feed-{uuid.uuid4().hex[:6]}",
            url=url,
            topics=["runs", "sessions"],
            signing_secret=secret,
            filter={"agentIds": ["sofia"]},
        )
        db.add(row)
        await db.flush()
        return row.id


async def _changes(factory: async_sessionmaker[AsyncSession], agent: str, n: int) -> None:
    """A session per step, and a finished heartbeat run in it."""
    async with factory() as db, db.begin():
        source = await db.scalar(
            text(
                "INSERT INTO sync_sources (name, kind) VALUES ('hooks', 'test') "
                "ON CONFLICT (name) DO UPDATE SET kind = 'test' RETURNING id"
            )
        )
        await db.execute(
            text("INSERT INTO agents (id) VALUES (:a) ON CONFLICT DO NOTHING"), {"a": agent}
        )
    for i in range(n):
        async with factory() as db, db.begin():
            sid = await db.scalar(
                text(
                    "INSERT INTO sessions (source_id, key, agent_id, kind, status, started_at, "
                    "updated_at) VALUES (:src, :key, :a, 'main', 'running', :t, :t) RETURNING id"
                ),
                {"src": source, "key": f"agent:{agent}:k{i}:{uuid.uuid4()}", "a": agent, "t": NOW},
            )
            await db.execute(
                text(
                    "INSERT INTO runs (session_id, agent_id, provider_run_id, trigger, status, "
                    "started_at, finished_at) VALUES (:s, :a, :r, 'heartbeat', 'completed', :t, :t)"
                ),
                {"s": sid, "a": agent, "r": f"r{i}", "t": NOW},
            )


async def _expected(factory: async_sessionmaker[AsyncSession], agent: str) -> set[str]:
    """``<kind>:<id>`` of every logged event of ``agent``'s sessions and runs."""
    async with factory() as db:
        rows = await db.execute(
            text(
                "SELECT e.kind, e.entity_id FROM feed_events e "
                "LEFT JOIN sessions s ON e.kind LIKE 'session%' AND s.id = e.entity_id "
                "LEFT JOIN runs r ON e.kind = 'run_finished' AND r.id = e.entity_id "
                "WHERE coalesce(s.agent_id, r.agent_id) = :a"
            ),
            {"a": agent},
        )
        return {f"{k}:{i}" for k, i in rows.all()}


def _valid(secret: str, request: dict[str, object]) -> bool:
    headers = request["headers"]
    assert isinstance(headers, dict)
    body = json.dumps(request["body"]).encode()
    ts = headers["x-observatory-timestamp"]
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-observatory-signature"], "sha256=" + mac)


async def test_receiver_failing_then_slow_then_back_keeps_every_event_once(
    factory: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    await _reset(factory)
    assert await webhooks.dispatch_once(factory) == 0  # first pass: the mark starts "now"
    secret = "s3cret-" + uuid.uuid4().hex
    await _endpoint(factory, receiver.url, secret)
    receiver.script = ["fail", "fail", "slow", "fail", "ok", "slow"]
    receiver.slow_s = 1.0  # beyond the 0.5 s timeout: the sender retries, the receiver dedupes
    await _changes(factory, "sofia", 5)
    await _changes(factory, "kai", 2)  # filtered out (agentIds)
    expected = await _expected(factory, "sofia")
    assert len(expected) >= 10  # 5 sessions created, 5 runs finished (+ session updates)
    stop = asyncio.Event()
    async with httpx.AsyncClient() as client:
        tasks = [
            asyncio.create_task(webhooks.run_dispatcher(factory, stop, poll_s=0.05)),
            # Two senders: SKIP LOCKED shares the work, the idempotency key keeps it once.
            asyncio.create_task(OutboxSender(factory, client, FAST).run(stop, idle_s=0.05)),
            asyncio.create_task(OutboxSender(factory, client, FAST).run(stop, idle_s=0.05)),
        ]
        try:
            await receiver.wait_for(lambda: len(receiver.kept) >= len(expected))
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    keys = receiver.kept
    assert len(keys) == len(set(keys)) == len(expected)
    assert {k.rsplit(":", 1)[0] for k in keys} == expected
    bodies = [r["body"] for r in receiver.requests]
    assert bodies, "the receiver got requests"
    assert {b["data"]["event"] for b in bodies} >= {"SESSION_CREATED", "RUN_FINISHED"}
    assert all(
        (b["data"].get("session") or b["data"].get("run"))["agentId"] == "sofia" for b in bodies
    )
    assert all(_valid(secret, r) for r in receiver.requests)
    assert any(r["action"] == "fail" for r in receiver.requests)
    # Cursors in the payloads are feed positions, in order per endpoint (FIFO outbox).
    kept_order = [b["data"]["cursor"] for b in bodies if b["idempotency_key"] in keys]
    positions = [Position.decode(c) for c in dict.fromkeys(kept_order)]
    assert positions == sorted(positions)


async def test_replay_from_a_cursor_sends_again_with_the_same_keys(
    factory: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    await _reset(factory)
    await webhooks.dispatch_once(factory)
    secret = "s3cret-" + uuid.uuid4().hex
    endpoint_id = await _endpoint(factory, receiver.url, secret)
    await _changes(factory, "sofia", 2)
    stop = asyncio.Event()
    async with httpx.AsyncClient() as client:
        tasks = [
            asyncio.create_task(webhooks.run_dispatcher(factory, stop, poll_s=0.05)),
            asyncio.create_task(OutboxSender(factory, client, FAST).run(stop, idle_s=0.05)),
        ]
        try:
            total = len(await _expected(factory, "sofia"))
            await receiver.wait_for(lambda: len(receiver.kept) >= total)
            first = [r["body"]["data"]["cursor"] for r in receiver.requests]
            assert first, "delivered"
            before = len(receiver.requests)
            async with factory() as db, db.begin():
                row = await db.get(WebhookEndpoint, endpoint_id)
                assert row is not None
                queued = await webhooks.replay(db, row, Position.decode(first[2]), 100)
            assert queued == total - 3
            await receiver.wait_for(lambda: len(receiver.requests) >= before + queued)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    assert len(receiver.kept) == total  # the same keys: the receiver keeps nothing twice
