"""Follow session updates and resume after any disconnect from a saved cursor.

    OBSERVATORY_URL=http://127.0.0.1:8000 OBSERVATORY_KEY=obs_... python examples/feed_consumer.py

Each event carries ``feedCursor``; it is written to ``.feed-cursor`` after the event is handled,
so a restart (or a dropped connection) replays exactly what was missed — each changed
session's latest state, once, in order — then continues live. CURSOR_EXPIRED means the saved
cursor is older than the server keeps (OBSERVATORY_FEED_RETENTION_DAYS): re-query the current
state, then follow from now.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import websockets

URL = os.environ.get("OBSERVATORY_URL", "http://127.0.0.1:8000")
KEY = os.environ["OBSERVATORY_KEY"]
SAVED = Path(".feed-cursor")
QUERY = """
subscription($after: String) {
  sessionUpdated(after: $after, filter: {kinds: [TASK]}) { id key status title feedCursor }
}
"""


def handle(session: dict[str, str]) -> None:
    print(f"{session['key']}: {session['status']} {session['title'] or ''}")


async def follow_once() -> None:
    after = SAVED.read_text().strip() if SAVED.exists() else None
    ws_url = URL.replace("http", "ws", 1) + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {KEY}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": QUERY, "variables": {"after": after}},
                }
            )
        )
        async for raw in ws:
            msg = json.loads(raw)
            if msg["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif msg["type"] == "next" and msg["payload"].get("data"):
                session = msg["payload"]["data"]["sessionUpdated"]
                handle(session)
                SAVED.write_text(session["feedCursor"])  # after handling: at-least-once
            elif msg["type"] in ("next", "error"):
                errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
                if errors[0].get("extensions", {}).get("code") == "CURSOR_EXPIRED":
                    print("cursor expired: re-query `sessions`, then follow from now")
                    SAVED.unlink(missing_ok=True)
                    return
                raise RuntimeError(errors)


async def main() -> None:
    while True:  # reconnect forever; the saved cursor makes every reconnect gap-free
        try:
            await follow_once()
        except (OSError, websockets.ConnectionClosed) as exc:
            print(f"disconnected ({exc}); resuming in 2 s")
            await asyncio.sleep(2)


if __name__ == "__main__":
    asyncio.run(main())
