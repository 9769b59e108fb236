"""A real OpenAI-compatible chat-completions stub on 127.0.0.1 for the reviewer tests.

``script`` is a queue of behaviours (``valid``, ``malformed``, ``429``, ``500``, or a callable
returning a dict answer); when it is empty the server answers ``default``. Every request body is
recorded in ``requests`` (so tests can read the prompts).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

VALID_ANSWER: dict[str, Any] = {
    "verdict": "accomplished",
    "rating": 4,
    "summary": "The agent did what was asked and reported the result.",
    "confidence": 0.82,
    "evidence": [{"message": "#1", "note": "the ask"}, {"message": "#2", "note": "the result"}],
    "suggestions": [{"target": "task_execution", "text": "Run the tests before announcing."}],
}
USAGE = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}

Behaviour = str | Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class StubModel:
    script: list[Behaviour] = field(default_factory=list)
    default: Behaviour = "valid"
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0
    retry_after: str | None = "0"
    url: str = ""

    def reset(self) -> None:
        self.script.clear()
        self.requests.clear()
        self.default = "valid"
        self.delay_s = 0.0
        self.retry_after = "0"

    def prompts(self) -> list[str]:
        return [r["messages"][-1]["content"] for r in self.requests]

    async def handle(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        behaviour = self.script.pop(0) if self.script else self.default
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if behaviour == "429":
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            return JSONResponse({"error": {"message": "rate limited"}}, 429, headers=headers)
        if behaviour == "500":
            return JSONResponse({"error": {"message": "boom"}}, 500)
        if behaviour == "malformed":
            content = '{"verdict": "great", "rating": 9, "summary": '
        elif callable(behaviour):
            content = json.dumps(behaviour(body))
        else:
            content = json.dumps(VALID_ANSWER)
        return JSONResponse(
            {
                "id": "chatcmpl-stub",
                "object": "chat.completion",
                "model": body.get("model", "stub"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
                "usage": USAGE,
            }
        )


@contextlib.asynccontextmanager
async def serve_stub() -> AsyncIterator[StubModel]:
    stub = StubModel()
    app = Starlette(routes=[Route("/v1/chat/completions", stub.handle, methods=["POST"])])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn exposes only a flag for "started"
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    stub.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield stub
    finally:
        server.should_exit = True
        await task
