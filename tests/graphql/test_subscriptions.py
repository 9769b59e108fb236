"""graphql-transport-ws subscriptions on a real server, fed by LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import websockets

from observatory.db.engine import asyncpg_dsn
from observatory.events import EventHub
from tests.livesrv import until


class WsClient:
    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def subscribe(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        await self.ws.send(
            json.dumps(
                {
                    "id": op_id,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )

    async def next(self, wait: float = 5.0) -> dict[str, Any]:
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
            if msg["type"] in ("ping", "pong", "ka"):
                continue
            return msg


async def connect(url: str, secret: str | None) -> AsyncIterator[WsClient]:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {secret}"} if secret else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack"
        yield WsClient(ws)


async def insert_session(db_url: str, key: str, agent: str = "sofia") -> int:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        return int(
            await conn.fetchval(
                "INSERT INTO sessions (source_id, key, agent_id, kind, status, title, started_at, updated_at)"
                " VALUES (1, $1, $2, 'task', 'running', 'live test', now(), now()) RETURNING id",
                key,
                agent,
            )
        )
    finally:
        await conn.close()


SESSION_FEEDS = ("feed",)  # sessionCreated/sessionUpdated follow the feed log (feeds/follow.py)


def _feeds(hub: EventHub) -> int:
    return sum(hub.listening(kind) for kind in SESSION_FEEDS)


async def _quiet(hub: EventHub) -> None:
    """No session feed of an earlier test is still listening (its socket closes asynchronously)."""
    await until(lambda: _feeds(hub) == 0, what="no session feed")


async def _listening(hub: EventHub) -> None:
    """graphql-transport-ws does not acknowledge a subscribe: wait until its feed listens."""
    await until(lambda: _feeds(hub) == 1, what="the session feed listening")


CREATED = (
    "subscription($f: SessionFilter) { sessionCreated(filter: $f) { id key status agent { id } } }"
)


async def test_session_created_reaches_subscriber(
    live_url: str, demo_db: str, keys: dict[str, str], live_hub: EventHub
) -> None:
    await _quiet(live_hub)
    async for client in connect(live_url, keys["viewer"]):
        await client.subscribe("1", CREATED, {"f": {"agentIds": ["atlas"]}})
        await _listening(live_hub)
        await insert_session(
            demo_db, f"agent:sofia:subagent:{uuid.uuid4()}", "sofia"
        )  # filtered out
        key = f"agent:atlas:subagent:{uuid.uuid4()}"
        new_id = await insert_session(demo_db, key, "atlas")
        msg = await client.next()
        assert msg["type"] == "next"
        node = msg["payload"]["data"]["sessionCreated"]
        assert node == {
            "id": str(new_id),
            "key": key,
            "status": "RUNNING",
            "agent": {"id": "atlas"},
        }


async def test_session_updated_on_new_review(
    live_url: str, demo_db: str, keys: dict[str, str], live_hub: EventHub
) -> None:
    key = f"agent:nova:subagent:{uuid.uuid4()}"
    sid = await insert_session(demo_db, key, "nova")
    await _quiet(live_hub)
    async for client in connect(live_url, keys["viewer"]):
        await client.subscribe(
            "u", "subscription { sessionUpdated { id latestReview { verdict } } }"
        )
        await _listening(live_hub)
        conn = await asyncpg.connect(asyncpg_dsn(demo_db))
        try:
            await conn.execute(
                "INSERT INTO reviews (session_id, verdict, rating, summary, reviewer_kind) "
                "VALUES ($1, 'accomplished', 5, 'live', 'human')",
                sid,
            )
        finally:
            await conn.close()
        msg = await client.next()
        assert msg["payload"]["data"]["sessionUpdated"] == {
            "id": str(sid),
            "latestReview": {"verdict": "ACCOMPLISHED"},
        }


async def test_session_updated_honours_the_whole_filter(
    live_url: str, demo_db: str, keys: dict[str, str], live_hub: EventHub
) -> None:
    """The live feed uses the list query's predicate: review, verdict, time and pruning too."""
    sids = {}
    for name in ("wanted", "other_verdict", "pruned", "old"):
        sids[name] = await insert_session(demo_db, f"agent:nova:subagent:{uuid.uuid4()}", "nova")
    conn = await asyncpg.connect(asyncpg_dsn(demo_db))
    try:
        await conn.execute("UPDATE sessions SET pruned_at = now() WHERE id = $1", sids["pruned"])
        await conn.execute(
            "UPDATE sessions SET started_at = now() - interval '2 days' WHERE id = $1", sids["old"]
        )
        start = await conn.fetchval("SELECT now() - interval '1 hour'")
    finally:
        await conn.close()
    live_filter = {
        "agentIds": ["nova"],
        "hasReview": True,
        "verdicts": ["FAILED"],
        "startedAfter": start.isoformat(),
        "includePruned": False,
    }
    await _quiet(live_hub)
    async for client in connect(live_url, keys["viewer"]):
        await client.subscribe(
            "u", "subscription($f: SessionFilter) { sessionUpdated(filter: $f) { id } }",
            {"f": live_filter},
        )  # fmt: skip
        await _listening(live_hub)
        conn = await asyncpg.connect(asyncpg_dsn(demo_db))
        try:
            # Reviewed in this order: every session before "wanted" must be filtered out.
            for name, verdict in [
                ("other_verdict", "accomplished"),
                ("pruned", "failed"),
                ("old", "failed"),
                ("wanted", "failed"),
            ]:
                await conn.execute(
                    "INSERT INTO reviews (session_id, verdict, rating, summary, reviewer_kind) "
                    "VALUES ($1, $2, 1, 'live', 'human')",
                    sids[name],
                    verdict,
                )
        finally:
            await conn.close()
        msg = await client.next()
        assert msg["payload"]["data"]["sessionUpdated"] == {"id": str(sids["wanted"])}


async def test_subscription_requires_a_key(live_url: str) -> None:
    async for client in connect(live_url, None):
        await client.subscribe("1", CREATED)
        msg = await client.next()
        assert msg["type"] in ("error", "next")
        errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_sync_status_pushes_current_then_changes(
    live_url: str, demo_db: str, keys: dict[str, str]
) -> None:
    async for client in connect(live_url, keys["viewer"]):
        await client.subscribe(
            "s", "subscription { syncStatus { name lastError consecutiveFailures } }"
        )
        first = await client.next()
        assert any(s["name"] == "demo" for s in first["payload"]["data"]["syncStatus"])
        conn = await asyncpg.connect(asyncpg_dsn(demo_db))
        try:
            await conn.execute(
                "UPDATE sync_sources SET last_error = 'boom', consecutive_failures = 1 WHERE name = 'demo'"
            )
            msg = await client.next()
            demo = next(s for s in msg["payload"]["data"]["syncStatus"] if s["name"] == "demo")
            assert demo == {"name": "demo", "lastError": "boom", "consecutiveFailures": 1}
        finally:
            await conn.execute(
                "UPDATE sync_sources SET last_error = NULL, consecutive_failures = 0 WHERE name = 'demo'"
            )
            await conn.close()


async def test_listener_reconnects_and_catches_up(
    live_url: str, demo_db: str, keys: dict[str, str], live_hub: EventHub
) -> None:
    await _quiet(live_hub)
    async for client in connect(live_url, keys["viewer"]):
        await client.subscribe("1", CREATED, {"f": {"agentIds": ["orion"]}})
        await _listening(live_hub)
        admin = await asyncpg.connect(asyncpg_dsn(demo_db))
        try:
            # Kill the API's LISTEN connection, then commit while it is gone.
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'observatory-listener' AND datname = current_database()"
            )
            assert killed >= 1
        finally:
            await admin.close()
        key = f"agent:orion:subagent:{uuid.uuid4()}"
        new_id = await insert_session(demo_db, key, "orion")
        # The catch-up may replay other recent sessions too; ours must be among them.
        seen: list[str] = []
        while str(new_id) not in seen:
            msg = await client.next(wait=15)
            seen.append(msg["payload"]["data"]["sessionCreated"]["id"])


async def test_review_job_status_is_pushed_not_polled(
    live_url: str, demo_db: str, keys: dict[str, str]
) -> None:
    mine = await insert_session(demo_db, f"agent:nova:subagent:{uuid.uuid4()}", "nova")
    other = await insert_session(demo_db, f"agent:nova:subagent:{uuid.uuid4()}", "nova")
    async for client in connect(live_url, keys["viewer"]):
        await client.subscribe(
            "j",
            "subscription($s: ID) { reviewJobUpdated(sessionId: $s) { id sessionId status } }",
            {"s": str(mine)},
        )
        await asyncio.sleep(0.2)
        conn = await asyncpg.connect(asyncpg_dsn(demo_db))
        try:
            await conn.execute("INSERT INTO review_jobs (session_id) VALUES ($1)", other)
            job = await conn.fetchval(
                "INSERT INTO review_jobs (session_id, on_demand) VALUES ($1, true) RETURNING id",
                mine,
            )
            queued = await client.next()
            await conn.execute(
                "UPDATE review_jobs SET status = 'running', claimed_at = now() WHERE id = $1", job
            )
            running = await client.next()
            await conn.execute("DELETE FROM review_jobs WHERE session_id = ANY($1)", [mine, other])
        finally:
            await conn.close()
        # The other session's job never arrives: the first message is already ours.
        assert queued["payload"]["data"]["reviewJobUpdated"] == {
            "id": str(job),
            "sessionId": str(mine),
            "status": "queued",
        }
        assert running["payload"]["data"]["reviewJobUpdated"]["status"] == "running"
