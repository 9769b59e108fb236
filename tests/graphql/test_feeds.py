"""Resumable feeds: a subscriber that drops and resumes with its cursor ends with exactly what a
never-disconnected subscriber saw, across two API workers; run feed; expired cursors."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any, cast

import asyncpg

from observatory.db.engine import asyncpg_dsn
from observatory.events import Event, EventHub, Subscription
from observatory.feeds.cursor import Position
from tests.graphql.test_events import two_workers  # noqa: F401 (fixture)
from tests.graphql.test_subscriptions import WsClient, connect

UPDATED = (
    "subscription($f: SessionFilter, $after: String) { sessionUpdated(filter: $f, after: $after) "
    "{ id title feedCursor } }"
)
RUNS = (
    "subscription($f: RunFeedFilter, $after: String) { runFinished(filter: $f, after: $after) "
    "{ id trigger status feedCursor } }"
)


async def _sessions(conn: asyncpg.Connection, agent: str, n: int) -> list[int]:
    source = await conn.fetchval(
        "INSERT INTO sync_sources (name, kind) VALUES ('feeds-test', 'test') "
        "ON CONFLICT (name) DO UPDATE SET kind = 'test' RETURNING id"
    )
    await conn.execute("INSERT INTO agents (id) VALUES ($1) ON CONFLICT DO NOTHING", agent)
    return [
        int(
            await conn.fetchval(
                "INSERT INTO sessions (source_id, key, agent_id, kind, status, started_at, "
                "updated_at) VALUES ($1, $2, $3, 'task', 'running', now(), now()) RETURNING id",
                source,
                f"agent:{agent}:subagent:{uuid.uuid4()}",
                agent,
            )
        )
        for _ in range(n)
    ]


async def _until_title(
    client: WsClient, title: str, seen: dict[str, str], cursors: list[str], wait: float = 15
) -> None:
    while True:
        msg = await client.next(wait=wait)
        assert msg["type"] == "next", msg
        s = msg["payload"]["data"]["sessionUpdated"]
        seen[s["id"]] = s["title"]
        cursors.append(s["feedCursor"])
        if s["title"] == title:
            return


async def test_resumed_subscriber_ends_with_what_a_connected_one_saw(
    two_workers: list[str],  # noqa: F811
    demo_db: str,
    keys: dict[str, str],
) -> None:
    agent = f"feed-{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(asyncpg_dsn(demo_db))
    try:
        ids = await _sessions(conn, agent, 8)
        marker = ids[0]
        variables: dict[str, Any] = {"f": {"agentIds": [agent]}}
        steady: dict[str, str] = {}
        steady_cursors: list[str] = []
        resumed: dict[str, str] = {}
        resumed_cursors: list[str] = []
        async for a in connect(two_workers[0], keys["viewer"]):
            await a.subscribe("a", UPDATED, variables)
            # A "from now" subscription starts when the server runs it: prove it has started
            # by a marker change it receives, and start the resuming subscriber from there.
            title = "start-0"
            for attempt in range(50):
                title = f"start-{attempt}"
                await conn.execute("UPDATE sessions SET title = $1 WHERE id = $2", title, marker)
                try:
                    await _until_title(a, title, {}, steady_cursors, wait=1)
                    break
                except TimeoutError:
                    continue
            start = steady_cursors[-1]
            steady_cursors.clear()

            stop_writing = asyncio.Event()

            async def write(stop: asyncio.Event) -> int:
                """Changes at a steady rate (one every 10 ms) until told to stop."""
                i = 0
                while not stop.is_set() or i < 120:
                    sid = ids[1 + i % (len(ids) - 1)]
                    await conn.execute("UPDATE sessions SET title = $1 WHERE id = $2", f"t{i}", sid)
                    i += 1
                    await asyncio.sleep(0.01)
                await conn.execute("UPDATE sessions SET title = 'end' WHERE id = $1", marker)
                return i

            writer = asyncio.create_task(write(stop_writing))
            last = start
            # First connection on worker 1: take some events, then drop mid-stream.
            async for b in connect(two_workers[1], keys["viewer"]):
                await b.subscribe("b", UPDATED, {**variables, "after": start})
                for _ in range(10):
                    msg = await b.next(wait=15)
                    s = msg["payload"]["data"]["sessionUpdated"]
                    resumed[s["id"]] = s["title"]
                    resumed_cursors.append(s["feedCursor"])
                last = resumed_cursors[-1]
            # Disconnected while changes keep coming; resume on the other worker.
            await asyncio.sleep(0.3)
            async for b in connect(two_workers[0], keys["viewer"]):
                await b.subscribe("b", UPDATED, {**variables, "after": last})
                stop_writing.set()
                written = await writer
                await _until_title(b, "end", resumed, resumed_cursors)
            await _until_title(a, "end", steady, steady_cursors)
        final = {
            str(r["id"]): r["title"]
            for r in await conn.fetch("SELECT id, title FROM sessions WHERE agent_id = $1", agent)
        }
    finally:
        await conn.close()
    assert written >= 120
    assert steady, "the connected subscriber saw changes"
    assert resumed == steady == final
    # No duplicate and no step back at the seam: positions strictly increase.
    positions = [Position.decode(c) for c in resumed_cursors]
    assert positions, "the resumed subscriber saw changes"
    assert all(p < q for p, q in itertools.pairwise(positions))


async def test_run_feed_replays_finished_runs_then_follows(
    live_url: str, demo_db: str, keys: dict[str, str]
) -> None:
    agent = f"runs-{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(asyncpg_dsn(demo_db))
    try:
        (sid,) = await _sessions(conn, agent, 1)

        async def run(trigger: str, finished: bool) -> int:
            return int(
                await conn.fetchval(
                    "INSERT INTO runs (session_id, agent_id, provider_run_id, trigger, status, "
                    "started_at, finished_at) VALUES ($1, $2, $3, $4, $5, now(), "
                    "CASE WHEN $6 THEN now() END) RETURNING id",
                    sid, agent, str(uuid.uuid4()), trigger,
                    "completed" if finished else "running", finished,
                )
            )  # fmt: skip

        variables: dict[str, Any] = {"f": {"agentIds": [agent], "triggers": ["HEARTBEAT"]}}
        # A cursor from before anything: take it from a first event.
        first = await run("heartbeat", True)
        async for c in connect(live_url, keys["viewer"]):
            await c.subscribe("1", RUNS, {**variables, "after": Position(0, 0).encode()})
            msg = await c.next(wait=10)
            got = msg["payload"]["data"]["runFinished"]
            assert got["id"] == str(first) and got["trigger"] == "HEARTBEAT"
            cursor = got["feedCursor"]
        await run("message", True)  # not a heartbeat: filtered out
        pending = await run("heartbeat", False)
        await conn.execute(
            "UPDATE runs SET status = 'failed', finished_at = now() WHERE id = $1", pending
        )
        async for c in connect(live_url, keys["viewer"]):
            await c.subscribe("1", RUNS, {**variables, "after": cursor})
            msg = await c.next(wait=10)
            got = msg["payload"]["data"]["runFinished"]
            assert (got["id"], got["status"]) == (str(pending), "FAILED")
    finally:
        await conn.close()


async def test_expired_and_malformed_cursors(
    live_url: str, demo_db: str, keys: dict[str, str]
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(demo_db))
    try:
        await conn.execute(
            "INSERT INTO feed_marks (name, xid, event_id) VALUES ('pruned', 5, 5) "
            "ON CONFLICT (name) DO UPDATE SET xid = 5, event_id = 5"
        )
        for cursor, code in (
            (Position(1, 1).encode(), "CURSOR_EXPIRED"),
            ("nope", "BAD_USER_INPUT"),
        ):
            async for c in connect(live_url, keys["viewer"]):
                await c.subscribe("1", UPDATED, {"after": cursor})
                msg = await c.next()
                errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
                assert errors[0]["extensions"]["code"] == code
    finally:
        await conn.execute("DELETE FROM feed_marks WHERE name = 'pruned'")
        await conn.close()


def test_feed_wake_ups_coalesce_instead_of_dropping_the_follower() -> None:
    """A follower busy replaying never overflows: one pending wake-up stands for any number."""
    sub = Subscription(cast(EventHub, None), frozenset({"feed"}), maxsize=2)
    for _ in range(500):
        sub.offer(Event("feed", ()))
    assert not sub.dropped
    assert sub.queue.qsize() == 1
