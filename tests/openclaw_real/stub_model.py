"""A deterministic OpenAI-compatible chat-completions server for the real-OpenClaw tier.

Binds 127.0.0.1 on a free port in a daemon thread. Replies depend only on the request:

- the newest user text contains ``READFILE`` -> a ``read`` tool call for ``NOTES.md``;
- it contains ``SPAWN <label>`` -> a ``sessions_spawn`` call (directly when OpenClaw offers
  that tool, else through its ``tool_call`` tool-search bridge);
- a tool result follows the prompt -> ``Done. The tool returned: <first 120 chars>``;
- a heartbeat poll -> ``HEARTBEAT_OK``; a compaction request -> a summary with every section
  OpenClaw asks for;
- anything else -> ``Stub reply <n>. You said: <last 80 chars>``.

Every answer carries ``usage``: prompt tokens = request characters / 4, completion tokens =
reply characters / 4 + 1 (so numbers are exact and reproducible, not realistic). Streaming
(``"stream": true``) sends the same answer as SSE chunks and a final chunk with ``usage``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "stub-model"
INTERNAL = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT"
# Sections OpenClaw 2026.9.6's compaction safeguard requires (its "missing_section" feedback).
REQUIRED_SECTIONS = (
    "Decisions",
    "Open TODOs",
    "Constraints/Rules",
    "Pending user asks",
    "Exact identifiers",
)
HEADING = re.compile(r"##\s+([A-Za-z][A-Za-z /-]*[A-Za-z])")
IDENTIFIER = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|agent:[\w:-]+|\b[\w-]+\.md\b"
)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text") or "") for part in content if isinstance(part, dict))
    return ""


def _tool_names(body: dict[str, Any]) -> set[str]:
    names = set()
    for tool in body.get("tools") or []:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            names.add(fn["name"])
    return names


def _call_id(body: dict[str, Any], name: str) -> str:
    digest = hashlib.sha256(json.dumps(body.get("messages"), sort_keys=True).encode()).hexdigest()
    return f"call_{name[:8]}_{digest[:8]}"


def summary(request: str) -> str:
    """A compaction summary that passes OpenClaw's quality checks: every ``## Section`` the
    request names (template and "missing_section" feedback) and its identifiers, verbatim."""
    sections = dict.fromkeys([*REQUIRED_SECTIONS, *HEADING.findall(request)])
    ids = dict.fromkeys(IDENTIFIER.findall(request))
    lines = []
    for section in sections:
        lines.append(f"## {section}")
        if section == "Exact identifiers":
            lines += [f"- {i}" for i in ids] or ["- none"]
        else:
            lines.append("- The user greeted the agent, read NOTES.md and spawned a helper.")
    return "\n".join(lines)


def answer(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(reply text, tool calls) for a chat-completions request body."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    system = " ".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
    if "context summarization assistant" in system:
        return summary(" ".join(_text(m.get("content")) for m in messages)), []
    # OpenClaw appends its own "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>" user message after
    # the real prompt; the prompt is the newest user message that is not one of those.
    users = [
        m
        for m in messages
        if m.get("role") == "user" and not _text(m.get("content")).startswith(INTERNAL)
    ]
    prompt = _text(users[-1].get("content")) if users else ""
    # A tool result after the prompt answers our tool call: finish the turn (OpenClaw may put
    # its internal-context message after the result, so "newest message" is not enough).
    start = messages.index(users[-1]) if users else 0
    results = [m for m in messages[start:] if m.get("role") == "tool"]
    if results:
        result = " ".join(_text(results[-1].get("content")).split())
        return f"Done. The tool returned: {result[:120]}", []
    if "heartbeat" in prompt.lower() or "HEARTBEAT" in prompt:
        return "HEARTBEAT_OK", []
    tools = _tool_names(body)
    if "[Subagent Context]" in prompt:  # a spawned child: answer, never spawn again
        return f"Child done: {' '.join(prompt.split())[-60:]}", []
    if "READFILE" in prompt:
        args = {"path": "NOTES.md"}
        return "", [_tool_call(body, "read", args, tools)]
    if "SPAWN " in prompt:
        label = prompt.split("SPAWN ", 1)[1].split()[0].strip(".,")
        args = {"task": f"Summarise the word '{label}' in one sentence.", "label": label}
        return "", [_tool_call(body, "sessions_spawn", args, tools)]
    turn = len(users)
    # OpenClaw appends "Runtime: agent=... | os=..." to the prompt; echo what precedes it.
    tail = " ".join(prompt.split("Runtime:")[0].split())[-80:]
    return f"Stub reply {turn}. You said: {tail}", []


def _tool_call(
    body: dict[str, Any], name: str, args: dict[str, Any], tools: set[str]
) -> dict[str, Any]:
    # OpenClaw 2026.9 offers rarely used tools only through its tool-search bridge.
    if name not in tools and "tool_call" in tools:
        name, args = "tool_call", {"id": name, "args": args}
    return {
        "id": _call_id(body, name),
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }


def usage_for(body: dict[str, Any], reply: str, calls: list[dict[str, Any]]) -> dict[str, int]:
    prompt_chars = len(json.dumps(body.get("messages"))) + len(json.dumps(body.get("tools") or []))
    completion = len(reply) + len(json.dumps(calls)) if calls else len(reply)
    prompt_tokens = prompt_chars // 4
    completion_tokens = completion // 4 + 1
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


class _Handler(BaseHTTPRequestHandler):
    server: StubServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": MODEL_ID, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        reply, calls = answer(body)
        usage = usage_for(body, reply, calls)
        with self.server.lock:
            self.server.requests.append(body)
            n = len(self.server.requests)
        rid = f"chatcmpl-stub-{n}"
        finish = "tool_calls" if calls else "stop"
        message: dict[str, Any] = {"role": "assistant", "content": reply or None}
        if calls:
            message["tool_calls"] = calls
        if not body.get("stream"):
            self._json(
                200,
                {
                    "id": rid,
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model") or MODEL_ID,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": usage,
                },
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        base = {
            "id": rid,
            "object": "chat.completion.chunk",
            "created": 0,
            "model": body.get("model"),
        }
        delta: dict[str, Any] = {"role": "assistant"}
        if reply:
            delta["content"] = reply
        if calls:
            delta["tool_calls"] = [{"index": i, **c} for i, c in enumerate(calls)]
        chunks = [
            {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
            {**base, "choices": [], "usage": usage},
        ]
        for chunk in chunks:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@contextmanager
def serve_stub() -> Iterator[StubServer]:
    server = StubServer()
    thread = threading.Thread(target=server.serve_forever, name="stub-model", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
