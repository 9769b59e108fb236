"""Remote transport: the OpenClaw gateway's WebSocket RPC and its HTTP history endpoint.

WebSocket protocol v4 (recorded in fixtures ``gateway/ws.handshake.json``): the server opens
with a ``connect.challenge`` event; the client's first request is ``connect`` with the shared
token; the server answers ``hello-ok``. After that, ``{"type": "req", "id", "method",
"params"}`` frames are answered by ``{"type": "res", "id", "ok", "payload" | "error"}``;
``{"type": "event"}`` frames (ticks, presence) may arrive at any time and are ignored here.

``GET /sessions/<key>/history`` (Bearer token) pages backwards: the first page is the newest
``limit`` items, ``nextCursor`` continues with older ones. It returns display-cleaned
messages and hides heartbeat turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import json
import platform
import time
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from observatory import __version__
from observatory.sync.openclaw.events import json_loads
from observatory.sync.source import (
    SourceAuthError,
    SourceConfigError,
    SourceError,
    SourceUnavailable,
)

PROTOCOL_VERSION = 4
# Markers the reader puts on the events queue (never a ``type`` the gateway sends).
INVALID_FRAME = "observatory.invalid-frame"
CLOSED = "observatory.closed"
_AUTH_CODES = {"UNAUTHORIZED", "FORBIDDEN", "AUTH_FAILED", "INVALID_TOKEN", "AUTH_REQUIRED"}


def http_base(url: str) -> str:
    """ws(s)://host:port[/path] -> http(s)://host:port (and http URLs unchanged)."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "", "", "")).rstrip("/")


def ws_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path or "/", "", ""))


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RpcError(SourceError):
    def __init__(self, method: str, code: str | None, message: str) -> None:
        super().__init__(f"{method}: {code or 'error'}: {message}")
        self.method = method
        self.code = code


class GatewayRpc:
    """A connected protocol-v4 WebSocket client with request/response matching."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 15.0,
        events: asyncio.Queue[dict[str, Any]] | None = None,
        scopes: tuple[str, ...] = ("operator.read",),
    ) -> None:
        self.url = ws_url(url)
        self.token = token
        self.timeout = timeout
        # Where pushed frames go (``type: event``, plus INVALID_FRAME / CLOSED markers); None:
        # events are dropped, as a plain request/response client needs none of them.
        self.events = events
        self.scopes = scopes
        self.hello: dict[str, Any] = {}
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._closed_reason: str | None = None

    async def __aenter__(self) -> GatewayRpc:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._closed_reason is None

    async def connect(self) -> None:
        try:
            self._ws = await websockets.connect(
                self.url,
                open_timeout=self.timeout,
                close_timeout=2,
                max_size=64 * 1024 * 1024,
                user_agent_header=f"session-observatory/{__version__}",
            )
            await self._handshake(self._ws)
        except SourceError:
            await self.aclose()
            raise
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            await self.aclose()
            if isinstance(exc, websockets.InvalidStatus) and exc.response.status_code in (
                401,
                403,
            ):
                raise SourceAuthError(f"gateway refused the WebSocket: {exc}") from exc
            raise SourceUnavailable(f"cannot connect to gateway {self.url}: {exc}") from exc
        self._reader = asyncio.create_task(self._read_loop(self._ws), name="openclaw-gateway-rpc")

    async def _handshake(self, ws: ClientConnection) -> None:
        # The challenge nonce is for device-identity signatures; token auth does not sign it.
        async with asyncio.timeout(self.timeout):
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("type") == "event" and frame.get("event") == "connect.challenge":
                    break
            request_id = "connect-1"
            await ws.send(
                json.dumps(
                    {
                        "type": "req",
                        "id": request_id,
                        "method": "connect",
                        "params": {
                            "minProtocol": PROTOCOL_VERSION,
                            "maxProtocol": PROTOCOL_VERSION,
                            "client": {
                                "id": "gateway-client",
                                "version": __version__,
                                "platform": platform.system().lower(),
                                "mode": "backend",
                            },
                            "role": "operator",
                            "scopes": list(self.scopes),
                            "caps": [],
                            "commands": [],
                            "permissions": {},
                            "auth": {"token": self.token} if self.token else {},
                            "userAgent": f"session-observatory/{__version__}",
                        },
                    }
                )
            )
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("type") == "res" and frame.get("id") == request_id:
                    break
        if not frame.get("ok"):
            error = frame.get("error") or {}
            code = str(error.get("code") or "")
            message = str(error.get("message") or "connect rejected")
            if (
                code.upper() in _AUTH_CODES
                or "auth" in message.lower()
                or "token" in message.lower()
            ):
                raise SourceAuthError(f"gateway rejected our token: {code} {message}".strip())
            raise SourceUnavailable(f"gateway rejected connect: {code} {message}".strip())
        payload = frame.get("payload") or {}
        if payload.get("protocol") != PROTOCOL_VERSION:
            raise SourceConfigError(
                f"gateway speaks protocol {payload.get('protocol')}, we speak {PROTOCOL_VERSION}"
            )
        self.hello = payload

    async def _read_loop(self, ws: ClientConnection) -> None:
        reason = "gateway closed the connection"
        try:
            async for raw in ws:
                try:
                    frame = json_loads(raw)
                    if not isinstance(frame, dict):
                        raise ValueError(f"a frame must be an object, not {type(frame).__name__}")
                except ValueError as exc:
                    if self.events is not None:
                        self.events.put_nowait(
                            {"type": INVALID_FRAME, "error": str(exc)[:200], "raw": str(raw[:200])}
                        )
                    continue
                if frame.get("type") != "res":
                    if self.events is not None and frame.get("type") == "event":
                        self.events.put_nowait(frame)
                    continue
                future = self._pending.pop(str(frame.get("id")), None)
                if future is not None and not future.done():
                    future.set_result(frame)
        except websockets.ConnectionClosed as exc:
            reason = f"gateway closed the connection: {exc}"
        except Exception as exc:  # the reader must hand every waiter an answer
            reason = f"gateway connection failed: {exc!r}"
        finally:
            self._closed_reason = reason
            if self.events is not None:
                self.events.put_nowait({"type": CLOSED, "reason": reason})
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(SourceUnavailable(reason))
            self._pending.clear()

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        if self._ws is None or self._closed_reason is not None:
            raise SourceUnavailable(self._closed_reason or "not connected to the gateway")
        request_id = f"r-{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._ws.send(
                json.dumps(
                    {"type": "req", "id": request_id, "method": method, "params": params or {}}
                )
            )
            async with asyncio.timeout(self.timeout):
                frame = await future
        except TimeoutError as exc:
            raise SourceUnavailable(f"gateway {method} timed out after {self.timeout}s") from exc
        except websockets.ConnectionClosed as exc:
            raise SourceUnavailable(f"gateway closed the connection during {method}") from exc
        finally:
            self._pending.pop(request_id, None)
        if not frame.get("ok"):
            error = frame.get("error") or {}
            code = error.get("code")
            if str(code or "").upper() in _AUTH_CODES:
                raise SourceAuthError(f"{method}: {code}: {error.get('message')}")
            raise RpcError(method, code, str(error.get("message") or "request failed"))
        return frame.get("payload")

    async def aclose(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader


class HistoryClient:
    """``GET /sessions/<key>/history`` over httpx, with Bearer auth and timeouts."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=http_base(base_url),
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )

    async def page(self, key: str, *, limit: int, cursor: str | None = None) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        path = f"/sessions/{quote(key, safe='')}/history"
        try:
            response = await self._client.get(path, params=params)
            body = response.content
        except httpx.TimeoutException as exc:
            raise SourceUnavailable(f"history of {key} timed out") from exc
        except httpx.TransportError as exc:
            raise SourceUnavailable(f"history of {key} failed mid-transfer: {exc!r}") from exc
        status = response.status_code
        if status in (401, 403):
            raise SourceAuthError(f"gateway answered {status} to our token (history of {key})")
        if status == 404:
            return {"items": [], "hasMore": False}  # pruned between listing and fetching
        if status == 429 or status >= 500:
            raise SourceUnavailable(
                f"gateway answered {status} (history of {key})",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if status >= 400:
            raise SourceError(f"gateway answered {status} (history of {key}): {body[:200]!r}")
        try:
            data = json_loads(body)
        except ValueError as exc:
            raise SourceUnavailable(f"history of {key}: truncated or invalid JSON") from exc
        if not isinstance(data, dict):
            raise SourceUnavailable(f"history of {key}: unexpected body")
        return data

    async def aclose(self) -> None:
        await self._client.aclose()
