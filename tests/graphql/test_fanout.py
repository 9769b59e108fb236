"""Shared subscription runs: identical subscriptions execute once, per-caller fields stay right."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.app import create_app
from observatory.auth.keys import create_key
from observatory.db.engine import make_session_factory
from observatory.db.enums import Role
from observatory.graphql.fanout import SLOW_CLOSE, Fanout, Outbox
from observatory.settings import load_settings
from tests.graphql.test_subscriptions import CREATED, WsClient, connect, insert_session
from tests.livesrv import serve_in_thread, until

UPDATED_EDITABLE = (
    "subscription($f: SessionFilter) { sessionUpdated(filter: $f) "
    "{ id latestReview { id editable } } }"
)
SYNC = "subscription { syncStatus { id name } }"


@pytest.fixture(scope="module")
def served(demo_db: str) -> Iterator[tuple[str, Fanout]]:
    app = create_app(
        dataclasses.replace(load_settings(), database_url=demo_db, frontend_dir=None),
        run_background=False,
    )
    view = next(r.app for r in app.routes if getattr(r, "path", None) == "/graphql")  # type: ignore[attr-defined]
    with serve_in_thread(app) as url:
        yield url, view.fanout


async def _open(url: str, secret: str, stack: list[Any]) -> WsClient:
    gen = connect(url, secret)
    stack.append(gen)
    return await gen.__anext__()


async def test_identical_subscriptions_share_one_run(
    served: tuple[str, Fanout], demo_db: str, keys: dict[str, str]
) -> None:
    url, fanout = served
    gens: list[Any] = []
    try:
        a = await _open(url, keys["viewer"], gens)
        b = await _open(url, keys["viewer"], gens)
        other = await _open(url, keys["viewer"], gens)
        f = {"f": {"agentIds": ["atlas"]}}
        await a.subscribe("1", CREATED, f)
        await b.subscribe("7", CREATED, f)
        await other.subscribe("1", CREATED, {"f": {"agentIds": ["atlas", "sofia"]}})
        await until(lambda: fanout.group_count == 2)
        sid = await insert_session(demo_db, f"agent:atlas:subagent:{uuid.uuid4()}", "atlas")
        got = [await c.next() for c in (a, b, other)]
        assert [g["id"] for g in got] == ["1", "7", "1"]
        assert all(g["type"] == "next" for g in got)
        assert got[0]["payload"] == got[1]["payload"] == got[2]["payload"]
        assert got[0]["payload"]["data"]["sessionCreated"]["id"] == str(sid)
        # Leaving a group keeps it running for the others; the last one out ends it.
        await a.ws.send('{"id": "1", "type": "complete"}')
        await other.ws.send('{"id": "1", "type": "complete"}')
        await until(lambda: fanout.group_count == 1)
        sid2 = await insert_session(demo_db, f"agent:atlas:subagent:{uuid.uuid4()}", "atlas")
        assert (await b.next())["payload"]["data"]["sessionCreated"]["id"] == str(sid2)
    finally:
        for g in gens:
            await g.aclose()
    await until(lambda: fanout.group_count == 0)


async def test_per_caller_field_is_resolved_per_key(
    served: tuple[str, Fanout], demo_db: str, demo_engine: AsyncEngine
) -> None:
    url, fanout = served
    async with make_session_factory(demo_engine)() as db, db.begin():
        author = (await create_key(db, "fanout author", Role.REVIEWER)).secret
        peer = (await create_key(db, "fanout peer", Role.REVIEWER)).secret
    sid = await insert_session(demo_db, f"agent:atlas:subagent:{uuid.uuid4()}", "atlas")
    gens: list[Any] = []
    try:
        mine = await _open(url, author, gens)
        theirs = await _open(url, peer, gens)
        f = {"f": {"ids": [str(sid)]}}
        await mine.subscribe("1", UPDATED_EDITABLE, f)
        await theirs.subscribe("1", UPDATED_EDITABLE, f)
        # Same scopes, but `editable` depends on the key: one group each.
        await until(lambda: fanout.group_count == 2)
        await mine.subscribe(
            "2",
            "mutation($s: ID!) { createReview(input: {sessionId: $s, verdict: ACCOMPLISHED, "
            "rating: 4}) { id } }",
            {"s": str(sid)},
        )
        seen: dict[str, Any] = {}
        while "1" not in seen:
            msg = await mine.next()
            seen[msg["id"]] = msg
        mine_review = seen["1"]["payload"]["data"]["sessionUpdated"]["latestReview"]
        theirs_review = (await theirs.next())["payload"]["data"]["sessionUpdated"]["latestReview"]
        assert mine_review["id"] == theirs_review["id"]
        assert mine_review["editable"] is True
        assert theirs_review["editable"] is False
    finally:
        for g in gens:
            await g.aclose()


async def test_snapshot_subscription_replays_its_last_frame_to_late_joiners(
    served: tuple[str, Fanout], keys: dict[str, str]
) -> None:
    url, fanout = served
    gens: list[Any] = []
    try:
        first = await _open(url, keys["operator"], gens)
        await first.subscribe("1", SYNC)
        initial = await first.next()
        late = await _open(url, keys["operator"], gens)
        await late.subscribe("9", SYNC)
        replay = await late.next()
        assert fanout.group_count == 1
        assert replay["id"] == "9"
        assert replay["payload"] == initial["payload"]
        assert isinstance(initial["payload"]["data"]["syncStatus"], list)
    finally:
        for g in gens:
            await g.aclose()


async def test_unshared_when_switched_off(demo_db: str, keys: dict[str, str]) -> None:
    settings = dataclasses.replace(
        load_settings(), database_url=demo_db, frontend_dir=None, shared_subscriptions=False
    )
    app = create_app(settings, run_background=False)
    view = next(r.app for r in app.routes if getattr(r, "path", None) == "/graphql")  # type: ignore[attr-defined]
    with serve_in_thread(app) as url:
        gens: list[Any] = []
        try:
            a = await _open(url, keys["viewer"], gens)
            await a.subscribe("1", CREATED, {"f": {"agentIds": ["atlas"]}})
            hub = app.state.services.events
            await until(lambda: hub.listening("feed") == 1, what="the feed listening")
            sid = await insert_session(demo_db, f"agent:atlas:subagent:{uuid.uuid4()}", "atlas")
            # The feed may first deliver an earlier test's atlas session (same database).
            seen = [(await a.next())["payload"]["data"]["sessionCreated"]["id"]]
            while seen[-1] != str(sid) and len(seen) < 5:
                seen.append((await a.next())["payload"]["data"]["sessionCreated"]["id"])
            assert seen[-1] == str(sid), seen
            assert view.fanout.group_count == 0
        finally:
            for g in gens:
                await g.aclose()


async def test_outbox_drops_a_socket_that_stops_reading_without_delaying_others() -> None:
    stuck = asyncio.Event()
    closed: list[int] = []
    fast_frames: list[str] = []

    async def never(frame: str) -> None:
        await stuck.wait()

    async def fast(frame: str) -> None:
        fast_frames.append(frame)

    async def close(code: int, reason: str) -> None:
        closed.append(code)

    slow_box, fast_box = Outbox(never, close, 3), Outbox(fast, close, 3)
    for i in range(10):
        slow_box.put(str(i))
        fast_box.put(str(i))
        await asyncio.sleep(0)  # the fast socket drains between events
    await until(lambda: closed == [SLOW_CLOSE])
    assert slow_box.dropped and not fast_box.dropped
    assert fast_frames == [str(i) for i in range(10)]
    await slow_box.stop()
    await fast_box.stop()
