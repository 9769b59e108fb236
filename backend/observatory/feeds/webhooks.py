"""Session and run events to webhooks, through the one outbox (observatory.outbox).

The dispatcher walks the feed log (every event, not collapsed) from its durable mark and, in the
same transaction that advances the mark, queues one outbox delivery per matching endpoint with
the idempotency key ``<kind>:<entity>:<cursor>``: an event is queued once per endpoint even if
two workers race (the mark row is locked, and the key is unique per endpoint). Sending, signing,
retries, backoff and auto-disable are the outbox sender's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, String, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.db.models import Run, Session
from observatory.feeds import log
from observatory.feeds.cursor import Position
from observatory.outbox.models import WebhookEndpoint

_log = logging.getLogger(__name__)

MARK = "webhooks"
TOPIC_OF = {"session_created": "sessions", "session_updated": "sessions", "run_finished": "runs"}
FEED_TOPICS = ("sessions", "runs")


def feed_endpoint() -> ColumnElement[bool]:
    """The endpoint subscribes to a feed topic (``topics && {sessions,runs}``)."""
    return WebhookEndpoint.topics.op("&&")(literal(list(FEED_TOPICS), ARRAY(String(50))))


def session_payload(s: Session) -> dict[str, Any]:
    return {
        "id": str(s.id), "key": s.key, "agentId": s.agent_id, "kind": s.kind.upper(),
        "status": s.status.upper(), "title": s.title, "model": s.model,
        "startedAt": s.started_at, "updatedAt": s.updated_at, "endedAt": s.ended_at,
        "runCount": s.run_count, "totalCost": s.total_cost,
    }  # fmt: skip


def run_payload(r: Run, session_kind: str) -> dict[str, Any]:
    return {
        "id": str(r.id), "sessionId": str(r.session_id), "agentId": r.agent_id,
        "sessionKind": session_kind.upper(), "trigger": r.trigger.upper(),
        "status": r.status.upper(), "startedAt": r.started_at, "finishedAt": r.finished_at,
        "durationMs": r.duration_ms, "model": r.model, "inputTokens": r.input_tokens,
        "outputTokens": r.output_tokens, "cost": r.cost, "error": r.error,
    }  # fmt: skip


def matches(flt: dict[str, Any] | None, payload: dict[str, Any], topic: str) -> bool:
    """``flt`` as stored by createFeedWebhook: lists of accepted values, all must hold."""
    if not flt:
        return True
    kind = payload["kind"] if topic == "sessions" else payload["sessionKind"]
    checks = (
        ("agentIds", payload["agentId"]),
        ("kinds", kind),
        ("sessionStatuses", payload["status"] if topic == "sessions" else None),
        ("triggers", payload.get("trigger")),
        ("runStatuses", payload["status"] if topic == "runs" else None),
    )
    for name, value in checks:
        wanted = flt.get(name)
        if wanted and value is not None and value not in wanted:
            return False
        if wanted and value is None and name in ("triggers", "runStatuses"):
            return False  # a run-only condition: session events never match it
    return True


async def _payloads(db: AsyncSession, changes: Sequence[log.Change]) -> dict[str, dict[int, Any]]:
    sids = {c.entity_id for c in changes if TOPIC_OF[c.kind] == "sessions"}
    rids = {c.entity_id for c in changes if TOPIC_OF[c.kind] == "runs"}
    out: dict[str, dict[int, Any]] = {"sessions": {}, "runs": {}}
    if sids:
        rows = await db.scalars(select(Session).where(Session.id.in_(sids)))
        out["sessions"] = {s.id: session_payload(s) for s in rows}
    if rids:
        pairs = await db.execute(
            select(Run, Session.kind)
            .join(Session, Session.id == Run.session_id)
            .where(Run.id.in_(rids))
        )
        out["runs"] = {r.id: run_payload(r, k) for r, k in pairs.all()}
    return out


_QUEUE = """
INSERT INTO outbox_deliveries (endpoint_id, topic, idempotency_key, payload)
VALUES (:endpoint, :topic, :key, CAST(:payload AS jsonb))
ON CONFLICT (endpoint_id, idempotency_key) DO {on_conflict}
"""


async def _queue(
    db: AsyncSession,
    endpoints: Sequence[WebhookEndpoint],
    changes: Sequence[log.Change],
    replay: bool = False,
) -> int:
    """One delivery per (matching endpoint, change); ``replay`` re-arms delivered ones."""
    data = await _payloads(db, changes)
    on_conflict = (
        "UPDATE SET status = 'pending', attempts = 0, next_attempt_at = now(), "
        "payload = EXCLUDED.payload"
        if replay
        else "NOTHING"
    )
    queued = 0
    for c in changes:
        topic = TOPIC_OF[c.kind]
        item = data[topic].get(c.entity_id)
        if item is None:  # deleted since
            continue
        cursor = c.position.encode()
        body = {"cursor": cursor, "event": c.kind.upper(), topic[:-1]: item}
        for e in endpoints:
            if topic in e.topics and matches(e.filter, item, topic):
                await db.execute(
                    text(_QUEUE.format(on_conflict=on_conflict)),
                    {
                        "endpoint": e.id,
                        "topic": topic,
                        "key": f"{c.kind}:{c.entity_id}:{cursor}",
                        "payload": json.dumps(body, default=str),
                    },
                )
                queued += 1
    return queued


async def dispatch_once(factory: async_sessionmaker[AsyncSession], batch: int = 500) -> int:
    """Queue the next batch of feed events; returns how many events were read."""
    async with factory() as db, db.begin():
        # The mark row is the dispatchers' mutex: a second worker waits, then sees the new mark.
        row = (
            await db.execute(
                text("SELECT xid, event_id FROM feed_marks WHERE name = :n FOR UPDATE"),
                {"n": MARK},
            )
        ).first()
        if row is None:  # first run: start from now (endpoints get what happens after them)
            pos = log.now_position(await log.horizon(db))
            await db.execute(
                text(
                    "INSERT INTO feed_marks (name, xid, event_id) VALUES (:n, :x, :i) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                {"n": MARK, "x": pos.xid, "i": pos.id},
            )
            return 0
        changes = await log.every(db, Position(row.xid, row.event_id), batch)
        if not changes:
            return 0
        endpoints = list(
            await db.scalars(
                select(WebhookEndpoint).where(WebhookEndpoint.enabled, feed_endpoint())
            )
        )
        if endpoints:
            await _queue(db, endpoints, changes)
        last = changes[-1].position
        await db.execute(
            text("UPDATE feed_marks SET xid = :x, event_id = :i WHERE name = :n"),
            {"n": MARK, "x": last.xid, "i": last.id},
        )
        return len(changes)


async def replay(db: AsyncSession, endpoint: WebhookEndpoint, after: Position, limit: int) -> int:
    """Queue again, for one endpoint, every event after ``after`` up to the dispatcher's mark
    (later ones it queues itself); returns how many deliveries were (re)queued."""
    await log.check_retained(db, after)
    mark = (
        await db.execute(text("SELECT xid, event_id FROM feed_marks WHERE name = :n"), {"n": MARK})
    ).first()
    if mark is None:
        return 0
    changes = [
        c
        for c in await log.every(db, after, limit)
        if c.position <= Position(mark.xid, mark.event_id)
    ]
    return await _queue(db, [endpoint], changes, replay=True)


async def prune(db: AsyncSession, keep: timedelta) -> int:
    """Drop events older than ``keep`` and remember where: older cursors are then expired."""
    row = (
        await db.execute(
            text(
                "SELECT xid, id FROM feed_events WHERE created_at < now() - CAST(:keep AS interval) "
                # never past what the webhook dispatcher has queued
                "AND (xid, id) <= (SELECT xid, event_id FROM feed_marks WHERE name = :mark) "
                "ORDER BY xid DESC, id DESC LIMIT 1"
            ),
            {"keep": keep, "mark": MARK},
        )
    ).first()
    if row is None:
        return 0
    gone = await db.execute(
        text("DELETE FROM feed_events WHERE (xid, id) <= (:x, :i)"), {"x": row.xid, "i": row.id}
    )
    await db.execute(
        text(
            "INSERT INTO feed_marks (name, xid, event_id) VALUES (:n, :x, :i) "
            "ON CONFLICT (name) DO UPDATE SET xid = EXCLUDED.xid, event_id = EXCLUDED.event_id"
        ),
        {"n": log.PRUNED, "x": row.xid, "i": row.id},
    )
    return int(getattr(gone, "rowcount", 0) or 0)


async def run_dispatcher(
    factory: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    poll_s: float = 0.5,
    keep: timedelta = timedelta(days=7),
    prune_every_s: float = 3600.0,
) -> None:
    """Queue feed events for webhooks until ``stop``; prune the log now and then."""
    loop = asyncio.get_running_loop()
    next_prune = loop.time()
    while not stop.is_set():
        read = 0
        try:
            read = await dispatch_once(factory)
            if loop.time() >= next_prune:
                async with factory() as db, db.begin():
                    await prune(db, keep)
                next_prune = loop.time() + prune_every_s
        except Exception:  # the loop must outlive a database hiccup
            _log.exception("feed webhook dispatch failed")
        if not read:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_s)
