"""Authorisation is live on WebSockets: a revoked key or a changed role ends the socket."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import websockets

from observatory.db.engine import asyncpg_dsn
from tests.graphql.test_subscriptions import CREATED, connect


async def _new_key(db_url: str, role: str) -> tuple[int, str]:
    from observatory.auth.keys import generate_secret, hash_secret

    prefix, secret = generate_secret()
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        key_id = await conn.fetchval(
            "INSERT INTO api_keys (name, role, prefix, hash) VALUES ($1, $2, $3, $4) RETURNING id",
            f"live {role}",
            role,
            prefix,
            hash_secret(secret),
        )
    finally:
        await conn.close()
    return int(key_id), secret


async def _sql(db_url: str, statement: str, *args: object) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


async def _until_closed(
    ws: websockets.ClientConnection, wait: float = 5.0
) -> list[dict[str, object]]:
    """Messages received until the server closes the socket (keep-alives left out)."""
    seen: list[dict[str, object]] = []
    try:
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), wait))
            if msg["type"] not in ("ping", "pong", "ka"):
                seen.append(msg)
    except websockets.ConnectionClosed:
        return seen


async def test_revoked_key_loses_its_open_socket(live_url: str, demo_db: str) -> None:
    key_id, secret = await _new_key(demo_db, "viewer")
    async for client in connect(live_url, secret):
        await client.subscribe("1", CREATED)
        await client.subscribe("2", "subscription { syncStatus { name } }")
        first = await client.next()  # syncStatus answers at once: both are running
        assert first["type"] == "next" and first["id"] == "2"
        loop = asyncio.get_running_loop()
        revoked_at = loop.time()
        await _sql(demo_db, "UPDATE api_keys SET revoked_at = now() WHERE id = $1", key_id)
        messages = await _until_closed(client.ws)
        closed_after = loop.time() - revoked_at
        assert client.ws.close_code == 4403
        assert closed_after < 1.0, closed_after
        codes: dict[object, set[str]] = {}
        for m in messages:
            payload = m.get("payload")
            errors = payload if m["type"] == "error" else (payload or {}).get("errors")  # type: ignore[union-attr]
            for e in errors or []:
                codes.setdefault(m.get("id"), set()).add(e["extensions"]["code"])
        assert codes == {"1": {"UNAUTHENTICATED"}, "2": {"UNAUTHENTICATED"}}, messages


async def test_changed_role_ends_the_socket_and_new_operations_are_refused(
    live_url: str, demo_db: str
) -> None:
    key_id, secret = await _new_key(demo_db, "operator")
    async for client in connect(live_url, secret):
        await client.subscribe("1", CREATED)
        await _sql(demo_db, "UPDATE api_keys SET role = 'viewer' WHERE id = $1", key_id)
        messages = await _until_closed(client.ws)
        assert client.ws.close_code == 4403
        assert messages and messages[0]["type"] in ("next", "error")


async def test_socket_without_connection_init_is_closed(live_url: str) -> None:
    ws_url = live_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        # The server's connection_init wait (OBSERVATORY_WS_INIT_TIMEOUT_S, 5 s by default).
        assert await _until_closed(ws, wait=15) == []
        assert ws.close_code == 4408
