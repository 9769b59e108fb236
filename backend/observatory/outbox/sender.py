"""Enqueue events into the outbox and send them: claimed with FOR UPDATE SKIP LOCKED, retried with
capped exponential backoff, signed when the endpoint has a secret, endpoint auto-disabled after
repeated failure.

Delivery is at-least-once (a worker that dies mid-request leaves its lease to expire and another
sends again); every body carries ``idempotency_key`` (and the ``Idempotency-Key`` header) so a
receiver keeps each event once. Per endpoint, deliveries go out strictly in order, one in flight:
an alert's "resolved" never overtakes its "firing".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.monitoring import prom
from observatory.outbox.models import EndpointFormat

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Observatory-Signature"
TIMESTAMP_HEADER = "X-Observatory-Timestamp"


@dataclass(frozen=True)
class OutboxPolicy:
    batch: int = 50
    timeout_s: float = 10.0
    # A claimed row is invisible to other senders for this long (covers timeout + bookkeeping).
    lease_s: float = 60.0
    backoff_base_s: float = 2.0
    backoff_max_s: float = 600.0
    # 2 s doubling to a 600 s cap: 12 attempts span ~1.3 h before a delivery is given up.
    max_attempts: int = 12
    # Consecutive failed attempts (any delivery) after which the endpoint is switched off.
    disable_after: int = 36

    def backoff(self, attempts: int) -> float:
        delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, attempts - 1))
        return delay * random.uniform(0.5, 1.0)  # jitter: receivers recovering see no herd


async def enqueue(db: AsyncSession, topic: str, key: str, payload: dict[str, Any]) -> int:
    """One delivery per enabled endpoint subscribed to ``topic``, in the caller's transaction.
    The same (endpoint, key) twice is a no-op. Returns the number of rows queued."""
    result = await db.execute(
        text(
            "INSERT INTO outbox_deliveries (endpoint_id, topic, idempotency_key, payload) "
            "SELECT id, CAST(:topic AS text), :key, CAST(:payload AS jsonb) "
            "FROM webhook_endpoints WHERE enabled AND CAST(:topic AS text) = ANY(topics) "
            "ON CONFLICT (endpoint_id, idempotency_key) DO NOTHING"
        ),
        {"topic": topic, "key": key, "payload": json.dumps(payload, default=str)},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def render(fmt: EndpointFormat, topic: str, key: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The body for one endpoint format. Chat formats get the payload's ``text`` line."""
    line = str(payload.get("text") or f"{topic}: {key}")
    if fmt is EndpointFormat.SLACK:
        return {"text": line, "idempotency_key": key}
    if fmt is EndpointFormat.DISCORD:
        return {"content": line[:2000], "idempotency_key": key}  # Discord's content limit
    return {"idempotency_key": key, "topic": topic, "data": payload}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


_CLAIM = """
UPDATE outbox_deliveries d
SET next_attempt_at = now() + make_interval(secs => :lease), attempts = d.attempts + 1
FROM webhook_endpoints e
WHERE e.id = d.endpoint_id AND d.id IN (
  SELECT c.id FROM outbox_deliveries c JOIN webhook_endpoints ce ON ce.id = c.endpoint_id
  WHERE c.status = 'pending' AND c.next_attempt_at <= now() AND ce.enabled
    AND NOT EXISTS (SELECT 1 FROM outbox_deliveries o
                    WHERE o.endpoint_id = c.endpoint_id AND o.status = 'pending' AND o.id < c.id)
  ORDER BY c.next_attempt_at, c.id LIMIT :n
  FOR UPDATE OF c SKIP LOCKED)
RETURNING d.id, d.endpoint_id, d.topic, d.idempotency_key, d.payload, d.attempts,
          e.url, e.format, e.signing_secret
"""


@dataclass(frozen=True)
class _Claimed:
    id: int
    endpoint_id: int
    topic: str
    key: str
    payload: dict[str, Any]
    attempts: int
    url: str
    format: EndpointFormat
    secret: str | None


class OutboxSender:
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        policy: OutboxPolicy | None = None,
    ) -> None:
        self._factory = factory
        self._client = client
        self.policy = policy or OutboxPolicy()

    async def send_due(self) -> int:
        """Claim and send one batch of due deliveries; returns how many were attempted."""
        async with self._factory() as db, db.begin():
            rows = (
                await db.execute(
                    text(_CLAIM), {"lease": self.policy.lease_s, "n": self.policy.batch}
                )
            ).all()
        claimed = [
            _Claimed(r.id, r.endpoint_id, r.topic, r.idempotency_key, r.payload, r.attempts,
                     r.url, EndpointFormat(r.format), r.signing_secret)
            for r in rows
        ]  # fmt: skip
        await asyncio.gather(*(self._send(c) for c in claimed))
        return len(claimed)

    async def _send(self, c: _Claimed) -> None:
        body = json.dumps(render(c.format, c.topic, c.key, c.payload), default=str).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": c.key}
        if c.secret:
            ts = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = ts
            headers[SIGNATURE_HEADER] = sign(c.secret, ts, body)
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(
                c.url, content=body, headers=headers, timeout=self.policy.timeout_s
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        prom.outbox_deliveries.labels("ok" if error is None else "failed").inc()
        await self._record(c, status, error)

    async def _record(self, c: _Claimed, status: int | None, error: str | None) -> None:
        p = self.policy
        async with self._factory() as db, db.begin():
            if error is None:
                await db.execute(
                    text(
                        "UPDATE outbox_deliveries SET status = 'delivered', delivered_at = now(), "
                        "last_status_code = :status, last_error = NULL WHERE id = :id"
                    ),
                    {"id": c.id, "status": status},
                )
                await db.execute(
                    text(
                        "UPDATE webhook_endpoints SET consecutive_failures = 0, "
                        "last_success_at = now() WHERE id = :id"
                    ),
                    {"id": c.endpoint_id},
                )
                return
            dead = c.attempts >= p.max_attempts
            log.warning(
                "webhook delivery %s to endpoint %s failed (attempt %s%s): %s",
                c.key, c.endpoint_id, c.attempts, ", giving up" if dead else "", error,
            )  # fmt: skip
            await db.execute(
                text(
                    "UPDATE outbox_deliveries SET status = CASE WHEN :dead THEN 'dead' "
                    "ELSE 'pending' END, next_attempt_at = now() + make_interval(secs => :delay), "
                    "last_status_code = :status, last_error = :error WHERE id = :id"
                ),
                {
                    "id": c.id,
                    "dead": dead,
                    "delay": p.backoff(c.attempts),
                    "status": status,
                    "error": error,
                },
            )
            await db.execute(
                text(
                    "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, "
                    "last_failure_at = now(), "
                    "enabled = enabled AND consecutive_failures + 1 < :limit, "
                    "disabled_reason = CASE WHEN consecutive_failures + 1 >= :limit "
                    "THEN :reason ELSE disabled_reason END WHERE id = :id"
                ),
                {
                    "id": c.endpoint_id,
                    "limit": p.disable_after,
                    "reason": f"{p.disable_after} consecutive failed deliveries; last: {error}",
                },
            )

    async def run(self, stop: asyncio.Event, idle_s: float = 1.0) -> None:
        """Send until ``stop``: straight on while there is work, else poll every ``idle_s``."""
        while not stop.is_set():
            try:
                sent = await self.send_due()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("outbox pass failed")
                sent = 0
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle_s)


async def run_outbox(
    factory: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    *,
    poll_s: float,
    policy: OutboxPolicy,
) -> None:
    """The sender with its own HTTP client, for the app's background tasks."""
    async with httpx.AsyncClient(follow_redirects=False) as client:
        await OutboxSender(factory, client, policy).run(stop, idle_s=poll_s)
