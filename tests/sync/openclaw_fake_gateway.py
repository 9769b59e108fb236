"""A local stand-in for an OpenClaw 2026.9.6 gateway, replaying the recorded fixtures.

It speaks the recorded WebSocket protocol (``connect.challenge`` -> ``connect`` -> ``hello-ok``,
then req/res frames) and serves ``GET /sessions/<key>/history``. Responses recorded from the
real gateway are replayed as they are (handshake, ``sessions.list``, ``sessions.usage``, the
main session's history, timeseries and logs); for the other sessions the same shapes are built
from the recorded transcripts, hiding heartbeat turns like the real history does.

``faults`` switches on the failures the sync runner must survive.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

TOKEN = "test-gateway-token"
ALLOWED_FILES = frozenset(
    {"AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md", "HEARTBEAT.md", "BOOTSTRAP.md",
     "MEMORY.md"}
)  # fmt: skip
MAIN_KEY = "agent:sofia:main"
COLD_STATUS: dict[str, Any] = json.loads(
    (
        Path(__file__).resolve().parents[1]
        / "fixtures/openclaw/real/gateway/sessions.usage.cold.json"
    ).read_text()
)["response"]["payload"]["cacheStatus"]


def stale_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """``usage`` as a cold cache answers it: status ``refreshing``, counts from before the
    latest activity (here: no assistant messages at all)."""
    stale = copy.deepcopy(usage)
    stale["cacheStatus"] = dict(COLD_STATUS)
    for entry in stale.get("sessions") or []:
        counts = (entry.get("usage") or {}).get("messageCounts")
        if isinstance(counts, dict):
            counts["assistant"] = 0
    return stale


@dataclass
class Faults:
    http_status: int | None = None  # e.g. 401, 503
    retry_after: str | None = None
    http_delay: float = 0.0  # seconds before answering history requests
    truncate_history_after_pages: int | None = None  # this many whole pages, then a cut body
    ws_reject_token: bool = False
    ws_drop_on_list_offset: bool = False  # close the socket when a later list page is asked
    rpc_delay: float = 0.0
    # The first this-many ``sessions.usage`` calls answer like the real gateway's cold cache
    # (recorded ``real/gateway/sessions.usage.cold.json``: status ``refreshing``, stale counts).
    usage_cold_answers: int = 0
    # The next history answer for a key lacks this many newest items, as if they were written
    # just after it was read (and before the timeseries was asked): once per key.
    history_misses_newest: dict[str, int] = field(default_factory=dict)


@dataclass
class Recorded:
    handshake: dict[str, Any]
    sessions_list: dict[str, Any]
    usage: dict[str, Any]
    history: dict[str, list[dict[str, Any]]]
    timeseries: dict[str, dict[str, Any]]
    logs: dict[str, dict[str, Any]]


def _ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _heartbeat_hidden(events: list[dict[str, Any]]) -> set[int]:
    """Seqs of heartbeat turns: the poll prompt and every message of the run answering it."""
    hidden: set[int] = set()
    hb_run: str | None = None
    waiting = False
    for seq, event in enumerate(events):
        msg = event.get("message") if event.get("type") == "message" else None
        if msg is None:
            continue
        prov = msg.get("provenance") or {}
        if msg.get("role") == "user":
            waiting = prov.get("sourceTool") == "heartbeat"
            hb_run = None
            if waiting:
                hidden.add(seq)
            continue
        run = (msg.get("__openclaw") or {}).get("runId")
        if waiting and hb_run is None:
            hb_run = run
        if hb_run is not None and run == hb_run:
            hidden.add(seq)
    return hidden


def history_from_transcript(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History items shaped like the recorded ``http.sessions.history.main.json``."""
    hidden = _heartbeat_hidden(events)
    items: list[dict[str, Any]] = []
    shown = 0  # display seq: counts hidden turns too, like the real gateway
    for seq, event in enumerate(events):
        if event.get("type") not in ("message", "compaction"):
            continue
        shown += 1
        if seq in hidden:
            continue
        position = {"source": "fake", "rawSeq": seq}
        if event.get("type") == "compaction":
            meta = event.get("__openclaw") or {}
            items.append(
                {
                    "role": "system",
                    "content": [{"type": "text", "text": "Compaction"}],
                    "timestamp": _ms(event["timestamp"]),
                    "__openclaw": {
                        "kind": "compaction",
                        "id": event["id"],
                        "runId": meta.get("runId"),
                        "tokensBefore": event.get("tokensBefore"),
                        "tokensAfter": event.get("tokensAfter"),
                        "transcriptPosition": position,
                        "seq": shown,
                    },
                }
            )
            continue
        item = copy.deepcopy(event["message"])
        item.pop("details", None) if item.get("role") == "toolResult" else None
        meta = dict(item.pop("__openclaw", None) or {})
        meta.update(
            id=event["id"],
            recordTimestampMs=_ms(event["timestamp"]),
            transcriptPosition=position,
            seq=shown,
        )
        item["__openclaw"] = meta
        items.append(item)
    return items


def usage_series(events: list[dict[str, Any]], sid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``sessions.usage.timeseries`` and ``sessions.usage.logs`` shaped payloads."""
    points, logs = [], []
    cum_tokens, cum_cost = 0, 0.0
    for event in events:
        msg = event.get("message") if event.get("type") == "message" else None
        if msg is None or msg.get("role") not in ("user", "assistant", "toolResult"):
            continue
        content = msg.get("content")
        text = (
            content
            if isinstance(content, str)
            else " ".join(b.get("text", "") for b in content or [] if b.get("type") == "text")
        )
        entry: dict[str, Any] = {
            "timestamp": msg["timestamp"],
            "role": msg["role"],
            "content": text,
        }
        usage = msg.get("usage")
        if msg["role"] == "assistant" and usage:
            cost = usage["cost"]["total"]
            cum_tokens += usage["totalTokens"]
            cum_cost += cost
            points.append(
                {
                    "timestamp": msg["timestamp"],
                    "input": usage["input"],
                    "output": usage["output"],
                    "cacheRead": usage["cacheRead"],
                    "cacheWrite": usage["cacheWrite"],
                    "totalTokens": usage["totalTokens"],
                    "cost": cost,
                    "cumulativeTokens": cum_tokens,
                    "cumulativeCost": cum_cost,
                }
            )
            entry.update(tokens=usage["totalTokens"], cost=cost)
        logs.append(entry)
    return {"sessionId": sid, "points": points}, {"logs": logs}


def load_recorded(fixtures: Path) -> Recorded:
    gw = fixtures / "gateway"
    listing = json.loads((gw / "sessions.list.json").read_text())
    history: dict[str, list[dict[str, Any]]] = {}
    timeseries: dict[str, dict[str, Any]] = {}
    logs: dict[str, dict[str, Any]] = {}
    for row in listing["sessions"]:
        sid = row["sessionId"]
        path = fixtures / "transcripts" / f"{sid}.jsonl"
        events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        history[row["key"]] = history_from_transcript(events)
        timeseries[row["key"]], logs[row["key"]] = usage_series(events, sid)
    # What the real gateway answered for the main session replaces the rebuilt shapes.
    history[MAIN_KEY] = json.loads((gw / "http.sessions.history.main.json").read_text())["items"]
    timeseries[MAIN_KEY] = json.loads((gw / "sessions.usage.timeseries.main.json").read_text())
    logs[MAIN_KEY] = json.loads((gw / "sessions.usage.logs.main.json").read_text())
    return Recorded(
        handshake=json.loads((gw / "ws.handshake.json").read_text()),
        sessions_list=listing,
        usage=json.loads((gw / "sessions.usage.json").read_text()),
        history=history,
        timeseries=timeseries,
        logs=logs,
    )


@dataclass
class FakeGateway:
    recorded: Recorded
    token: str = TOKEN
    faults: Faults = field(default_factory=Faults)
    calls: list[str] = field(default_factory=list)
    params: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    history_requests: int = 0
    subscribers: list[WebSocket] = field(default_factory=list)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    # Workspace files per agent (agents.files.*); shapes from OpenClaw's server-methods/agents.ts,
    # not recorded from a real gateway yet.
    files: dict[str, dict[str, str]] = field(default_factory=dict)
    file_writes: list[tuple[str, str, str]] = field(default_factory=list)
    scopes_seen: list[list[str]] = field(default_factory=list)
    on_write: Callable[[str, str, str], None] | None = None

    # -- pushed events (what ``sessions.subscribe`` makes the real gateway send) -----------------

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Send an event frame, shaped like the real gateway's, to every subscriber."""
        await self.send_raw(json.dumps({"type": "event", "event": event, "payload": payload}))

    async def send_raw(self, text: str) -> None:
        for websocket in list(self.subscribers):
            with contextlib.suppress(Exception):
                await websocket.send_text(text)

    async def drop_subscribers(self) -> None:
        """Close every subscribed socket, as a restarting gateway does."""
        self.subscribed.clear()
        for websocket in list(self.subscribers):
            with contextlib.suppress(Exception):
                await websocket.close(code=1012)
        self.subscribers.clear()

    # -- WebSocket RPC ---------------------------------------------------------------------------

    async def ws(self, websocket: WebSocket) -> None:
        await websocket.accept()
        hs = self.recorded.handshake
        await websocket.send_json(hs["1_server_challenge_event"])
        try:
            req = await websocket.receive_json()
            token = ((req.get("params") or {}).get("auth") or {}).get("token")
            if req.get("method") != "connect" or token != self.token or self.faults.ws_reject_token:
                await websocket.send_json(
                    {
                        "type": "res",
                        "id": req.get("id"),
                        "ok": False,
                        "error": {"code": "UNAUTHORIZED", "message": "gateway token mismatch"},
                    }
                )
                await websocket.close(code=1008)
                return
            self.scopes_seen.append(list((req.get("params") or {}).get("scopes") or []))
            hello = copy.deepcopy(hs["3_server_hello_res"])
            hello["id"] = req["id"]
            await websocket.send_json(hello)
            while True:
                req = await websocket.receive_json()
                self.calls.append(req.get("method"))
                self.params.append((req.get("method"), dict(req.get("params") or {})))
                if self.faults.rpc_delay:
                    await asyncio.sleep(self.faults.rpc_delay)
                params = req.get("params") or {}
                if (
                    self.faults.ws_drop_on_list_offset
                    and req.get("method") == "sessions.list"
                    and params.get("offset")
                ):
                    await websocket.close(code=1011)
                    return
                if req.get("method") == "sessions.subscribe":
                    self.subscribers.append(websocket)
                    self.subscribed.set()
                await websocket.send_json(self._answer(req))
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            if websocket in self.subscribers:
                self.subscribers.remove(websocket)

    def _answer(self, req: dict[str, Any]) -> dict[str, Any]:
        method, params = req.get("method"), req.get("params") or {}
        rec = self.recorded
        payload: Any
        if method == "sessions.list":
            limit, offset = int(params.get("limit") or 50), int(params.get("offset") or 0)
            rows = rec.sessions_list["sessions"]
            page = rows[offset : offset + limit]
            more = offset + limit < len(rows)
            payload = {
                **{k: v for k, v in rec.sessions_list.items() if k != "sessions"},
                "count": len(page),
                "totalCount": len(rows),
                "limitApplied": limit,
                "nextOffset": offset + limit if more else None,
                "hasMore": more,
                "sessions": page,
            }
        elif method == "sessions.subscribe":
            payload = {"subscribed": True}
        elif method == "sessions.describe":
            row = next(
                (r for r in rec.sessions_list["sessions"] if r["key"] == params.get("key")), None
            )
            payload = {"session": row} if row is not None else None
        elif method == "sessions.usage":
            payload = rec.usage
            if self.faults.usage_cold_answers > 0:
                self.faults.usage_cold_answers -= 1
                payload = stale_usage(rec.usage)
        elif method == "sessions.usage.timeseries":
            payload = rec.timeseries.get(params.get("key"))
        elif method == "sessions.usage.logs":
            payload = rec.logs.get(params.get("key"))
        elif method is not None and method.startswith("agents.files."):
            return self._files(req)
        else:
            payload = None
        if payload is None:
            return {
                "type": "res",
                "id": req.get("id"),
                "ok": False,
                "error": {"code": "INVALID_REQUEST", "message": f"unknown method {method}"},
            }
        return {"type": "res", "id": req.get("id"), "ok": True, "payload": payload}

    def _files(self, req: dict[str, Any]) -> dict[str, Any]:
        method, params = req.get("method"), req.get("params") or {}
        agent, name = str(params.get("agentId") or ""), str(params.get("name") or "")

        def error(message: str) -> dict[str, Any]:
            err = {"code": "INVALID_REQUEST", "message": message}
            return {"type": "res", "id": req.get("id"), "ok": False, "error": err}

        if agent not in self.files:
            return error("unknown agent id")
        workspace = f"/home/openclaw/.openclaw/workspace-{agent}"
        files = self.files[agent]
        if method == "agents.files.list":
            listing = [
                {"name": n, "path": f"{workspace}/{n}", "missing": False, "size": len(t.encode())}
                for n, t in sorted(files.items())
            ]
            payload: dict[str, Any] = {"agentId": agent, "workspace": workspace, "files": listing}
        elif name not in ALLOWED_FILES:
            return error(f'unsupported file "{name}"')
        elif method == "agents.files.get":
            entry: dict[str, Any] = {"name": name, "path": f"{workspace}/{name}"}
            if name in files:
                entry.update(missing=False, size=len(files[name].encode()), content=files[name])
            else:
                entry["missing"] = True
            payload = {"agentId": agent, "workspace": workspace, "file": entry}
        elif method == "agents.files.set":
            content = str(params.get("content"))
            files[name] = content
            self.file_writes.append((agent, name, content))
            if self.on_write is not None:
                self.on_write(agent, name, content)
            entry = {"name": name, "path": f"{workspace}/{name}", "missing": False}
            payload = {"ok": True, "agentId": agent, "workspace": workspace, "file": entry}
        else:
            return error(f"unknown method {method}")
        return {"type": "res", "id": req.get("id"), "ok": True, "payload": payload}

    # -- HTTP history ----------------------------------------------------------------------------

    async def history(self, request: Request) -> Response:
        self.history_requests += 1
        if self.faults.http_delay:
            await asyncio.sleep(self.faults.http_delay)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if self.faults.http_status:
            headers = {"Retry-After": self.faults.retry_after} if self.faults.retry_after else {}
            return JSONResponse({"error": "unavailable"}, self.faults.http_status, headers=headers)
        key = request.path_params["key"]
        items = self.recorded.history.get(key)
        if items is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        missing = self.faults.history_misses_newest.pop(key, 0)
        if items is not None and missing:
            items = items[:-missing]
        limit = int(request.query_params.get("limit") or 1000)
        cursor = request.query_params.get("cursor")
        older = [i for i in items if cursor is None or i["__openclaw"]["seq"] < int(cursor)]
        page = older[-limit:]
        body: dict[str, Any] = {
            "sessionKey": key,
            "items": page,
            "messages": page,
            "hasMore": len(older) > len(page),
        }
        if body["hasMore"]:
            body["nextCursor"] = str(page[0]["__openclaw"]["seq"])
        raw = json.dumps(body).encode()
        cut = self.faults.truncate_history_after_pages
        if cut is not None:
            if cut <= 0:
                return StreamingResponse(_cut_body(raw), media_type="application/json")
            self.faults.truncate_history_after_pages = cut - 1
        return Response(raw, media_type="application/json")

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                WebSocketRoute("/", self.ws),
                Route("/sessions/{key:path}/history", self.history),
            ]
        )


async def _cut_body(raw: bytes) -> AsyncIterator[bytes]:
    # Half a body, then the connection drops: the client sees an incomplete response.
    yield raw[: len(raw) // 2]
    raise ConnectionResetError("fake gateway dropped the connection mid-page")


@contextlib.asynccontextmanager
async def serve(gateway: FakeGateway) -> AsyncIterator[str]:
    """Run the fake on an ephemeral 127.0.0.1 port; yields its ws:// URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        gateway.app(), log_level="critical", lifespan="off", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        sock.close()
