"""ASGI middleware: a request id per HTTP request (the caller's ``X-Request-ID`` if it is
sane, else a new one) echoed in the response header, and one access log line with duration,
status, operation and key id."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observatory.monitoring.context import RequestInfo, current

HEADER = b"x-request-id"
_SANE = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
access = logging.getLogger("observatory.access")


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers") or ():
        if name == HEADER and _SANE.match(value):
            return str(value.decode())
    return uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        info = RequestInfo(_incoming_id(scope))
        token = current.set(info)
        started = time.perf_counter()
        status: dict[str, Any] = {"code": None}

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                status["code"] = message.get("status")
                headers = list(message.get("headers") or [])
                headers.append((HEADER, info.request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http" and scope.get("path") != "/metrics":
                took = round((time.perf_counter() - started) * 1000, 2)
                access.info(
                    "%s %s %s %.1f ms",
                    scope.get("method"),
                    scope.get("path"),
                    status["code"],
                    took,
                    extra={
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status["code"],
                        "duration_ms": took,
                    },
                )
            current.reset(token)
