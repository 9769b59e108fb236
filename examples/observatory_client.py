"""A small Session Observatory client: queries over HTTP (httpx), subscriptions over WebSocket
(`websockets`, graphql-transport-ws), and the recipes of docs/recipes.md.

    OBSERVATORY_URL=http://127.0.0.1:8000 OBSERVATORY_KEY=obs_… \\
        python examples/observatory_client.py recipes            # run every recipe, print a line each
    python examples/observatory_client.py transcript agent:sofia:main   # one session as text
    python examples/observatory_client.py export sessions.csv    # the export recipe's sessions as CSV
    python examples/observatory_client.py watch-failed           # live feed of failed sessions

Needs only `httpx` and `websockets` (pip install httpx websockets)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

RECIPES = Path(__file__).resolve().parents[1] / "docs" / "recipes.md"


class GraphQLErrors(Exception):
    """The server answered with errors; each carries `extensions.code` (e.g. FORBIDDEN)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        codes = ", ".join(str(e.get("extensions", {}).get("code")) for e in errors)
        super().__init__(f"{errors[0].get('message')} ({codes})")


class Client:
    def __init__(self, url: str, key: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/") + "/graphql"
        self.key = key
        self.http = httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a query or mutation; returns `data`, raises GraphQLErrors on any error."""
        response = self.http.post(self.url, json={"query": document, "variables": variables or {}})
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise GraphQLErrors(body["errors"])
        response.raise_for_status()
        return body["data"]  # type: ignore[no-any-return]

    def pages(
        self, document: str, variables: dict[str, Any], path: str
    ) -> Iterator[dict[str, Any]]:
        """Every node of a keyset-paginated connection at `path` (dotted), page by page: the
        document must take `$after: String` and select `pageInfo { hasNextPage endCursor }`."""
        after: str | None = None
        while True:
            data = self.query(document, {**variables, "after": after})
            for part in path.split("."):
                data = data[part]
            yield from (edge["node"] for edge in data["edges"])
            if not data["pageInfo"]["hasNextPage"]:
                return
            after = data["pageInfo"]["endCursor"]

    async def subscribe(
        self, document: str, variables: dict[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield each event's `data` until the server completes the subscription."""
        ws_url = re.sub(r"^http", "ws", self.url)
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {self.key}"}}
                )
            )
            ack = json.loads(await ws.recv())
            if ack["type"] != "connection_ack":
                raise RuntimeError(f"connection refused: {ack}")
            payload = {"query": document, "variables": variables or {}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            async for raw in ws:
                msg = json.loads(raw)
                if msg["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif msg["type"] == "next":
                    if msg["payload"].get("errors"):
                        raise GraphQLErrors(msg["payload"]["errors"])
                    yield msg["payload"]["data"]
                elif msg["type"] == "error":
                    raise GraphQLErrors(msg["payload"])
                elif msg["type"] == "complete":
                    return


@dataclass
class Recipe:
    title: str
    document: str
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def is_subscription(self) -> bool:
        return self.document.lstrip().startswith("subscription")


def recipes(path: Path = RECIPES) -> list[Recipe]:
    """The recipes of docs/recipes.md: each `## ` heading, its ```graphql block and an optional
    ```json block of example variables."""
    found: list[Recipe] = []
    for section in re.split(r"^## ", path.read_text(), flags=re.M)[1:]:
        title = section.splitlines()[0].strip()
        blocks = dict(re.findall(r"^```(graphql|json)\n(.*?)^```", section, flags=re.M | re.S))
        if "graphql" in blocks:
            variables = json.loads(blocks["json"]) if "json" in blocks else {}
            found.append(Recipe(title, blocks["graphql"], variables))
    return found


def transcript(client: Client, key: str) -> str:
    """One session's transcript as plain text, every page of it."""
    doc = next(r for r in recipes() if r.title.startswith("One session's transcript")).document
    lines = []
    for m in client.pages(doc, {"key": key}, "session.messages"):
        lines.append(f"[{m['createdAt']}] {m['role'].lower()}: {m['text']}")
    return "\n".join(lines)


def export(client: Client, out: Path, variables: dict[str, Any]) -> int:
    """Write the sessions matching the export recipe's filter to a CSV file; returns the rows."""
    doc = next(r for r in recipes() if r.title.startswith("Export")).document
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["id", "key", "agent", "status", "started", "tokens", "cost_usd", "verdict"]
        )
        n = 0
        for s in client.pages(doc, variables, "sessions"):
            review = s["latestReview"] or {}
            writer.writerow(
                [s["id"], s["key"], s["agentId"], s["status"], s["startedAt"],
                 s["totalTokens"], s["totalCost"], review.get("verdict")]
            )  # fmt: skip
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("OBSERVATORY_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--key", default=os.environ.get("OBSERVATORY_KEY", ""))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("recipes", help="run every query recipe once with its example variables")
    t = sub.add_parser("transcript", help="print one session's transcript")
    t.add_argument("session_key")
    e = sub.add_parser("export", help="the export recipe's sessions to CSV")
    e.add_argument("out", type=Path)
    sub.add_parser("watch-failed", help="print sessions as they fail")
    args = parser.parse_args(argv)
    client = Client(args.url, args.key)
    try:
        if args.command == "recipes":
            for r in recipes():
                if not r.is_subscription:
                    data = client.query(r.document, r.variables)
                    print(f"ok  {r.title}: {len(json.dumps(data))} bytes")
        elif args.command == "transcript":
            print(transcript(client, args.session_key))
        elif args.command == "export":
            variables = next(r for r in recipes() if r.title.startswith("Export")).variables
            print(f"{export(client, args.out, variables)} rows → {args.out}")
        elif args.command == "watch-failed":
            feed = next(r for r in recipes() if r.is_subscription)

            async def watch() -> None:
                async for data in client.subscribe(feed.document, feed.variables):
                    s = data["sessionUpdated"]
                    print(f"{s['agentId']} {s['key']} failed: {s['title'] or ''}", flush=True)

            asyncio.run(watch())
    except GraphQLErrors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
