"""One parser for OpenClaw transcript events, whatever carried them.

The JSON of a transcript event is the same in a SQLite ``transcript_events`` row
(``event_json`` or zstd ``event_zstd``), a line of a legacy ``<sessionId>.jsonl`` file and a
cold archive. Gateway history items are the ``message`` part of such an event plus an
``__openclaw`` envelope; :func:`event_from_history_item` turns them back into events so that
the same :func:`parse_event` serves them too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import zstandard

from observatory.db.enums import MessageRole
from observatory.sync.source import (
    Block,
    Compaction,
    MessageContent,
    OtherBlock,
    TextBlock,
    ToolCall,
    ToolResult,
    Usage,
)

HEARTBEAT_PROMPT = "[OpenClaw heartbeat poll]"
SUBAGENT_PROMPT = "[Subagent Context]"
CRON_PROMPT = "[cron:"
ERROR_STOP_REASONS = frozenset({"error", "aborted"})
PREVIEW_CHARS = 280

_ROLES = {
    "user": MessageRole.USER,
    "assistant": MessageRole.ASSISTANT,
    "toolResult": MessageRole.TOOL_RESULT,
    "custom": MessageRole.SYSTEM,
    "system": MessageRole.SYSTEM,
}
_zstd = zstandard.ZstdDecompressor()


class EventDecodeError(ValueError):
    """A transcript row or line could not be decoded."""


@dataclass(slots=True)
class ParsedEvent:
    """The parts of one transcript event that sync uses."""

    seq: int
    type: str
    event_id: str | None
    parent_id: str | None
    timestamp: datetime | None  # when the message was produced (message.timestamp)
    recorded_at: datetime | None = None  # when the event was written (event timestamp)
    role: MessageRole | None = None  # set for events that become messages
    content: MessageContent = field(default_factory=MessageContent)
    run_id: str | None = None  # explicit runId carried by the event
    model: str | None = None
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None
    error_message: str | None = None
    is_error: bool = False
    source_tool: str | None = None  # provenance.sourceTool of internal prompts
    text: str | None = None  # first text, for previews and trigger detection
    tool_calls: int = 0
    tool_name: str | None = None
    idempotency_key: str | None = None

    @property
    def is_message(self) -> bool:
        return self.role is not None


# -- decoding ---------------------------------------------------------------------------------


def decode_row(event_json: str | bytes | None, event_zstd: bytes | None) -> dict[str, Any]:
    """Decode a ``transcript_events`` row: plain ``event_json`` or a zstd frame."""
    if event_json is not None:
        raw: str | bytes = event_json
    elif event_zstd is not None:
        try:
            # A frame written without a content size needs max_output_size.
            raw = _zstd.decompress(bytes(event_zstd), max_output_size=8 * 1024 * 1024)
        except zstandard.ZstdError as exc:
            raise EventDecodeError(f"bad zstd event: {exc}") from exc
    else:
        raise EventDecodeError("transcript row has neither event_json nor event_zstd")
    return loads_event(raw)


def json_loads(raw: str | bytes) -> Any:
    """``json.loads`` minus NUL characters, which PostgreSQL text and JSONB cannot hold."""
    obj = json.loads(raw)
    marker: str | bytes = "\\u0000" if isinstance(raw, str) else b"\\u0000"
    return _strip_nul(obj) if marker in raw else obj  # type: ignore[operator]


def _strip_nul(obj: Any) -> Any:
    if isinstance(obj, str):
        return obj.replace("\x00", "\ufffd")
    if isinstance(obj, list):
        return [_strip_nul(v) for v in obj]
    if isinstance(obj, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in obj.items()}
    return obj


def loads_event(raw: str | bytes) -> dict[str, Any]:
    try:
        obj = json_loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventDecodeError(f"bad event JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise EventDecodeError("event JSON is not an object")
    return obj


def complete_length(data: bytes) -> int:
    """How many leading bytes of JSONL ``data`` are complete lines.

    A writer may be mid-line: the bytes after the last newline are left for the next read,
    unless they already form a whole JSON object (a last line written without a newline; a
    cut-off object never parses).
    """
    end = data.rfind(b"\n") + 1
    tail = data[end:]
    if tail.strip():
        try:
            if isinstance(json.loads(tail), dict):
                return len(data)
        except ValueError:
            pass
    return end


# -- conversion helpers ------------------------------------------------------------------------


def to_datetime(value: Any) -> datetime | None:
    """Epoch milliseconds or an ISO-8601 string to an aware UTC datetime."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        # str() keeps the shortest repr of a float: 0.038136, not its binary expansion.
        return Decimal(str(value)) if isinstance(value, int | float | str) else None
    except InvalidOperation:
        return None


def usage_from(raw: Any) -> Usage:
    """OpenClaw ``usage`` = {input, output, cacheRead, cacheWrite, cost: {total, ...}}."""
    if not isinstance(raw, dict):
        return Usage()
    cost = raw.get("cost")
    total = cost.get("total") if isinstance(cost, dict) else cost
    return Usage(
        input_tokens=_int(raw.get("input")),
        output_tokens=_int(raw.get("output")),
        cache_read_tokens=_int(raw.get("cacheRead")),
        cache_write_tokens=_int(raw.get("cacheWrite")),
        cost=to_decimal(total),
    )


def _blocks(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if isinstance(content, list):
        return [b if isinstance(b, dict) else {"type": "text", "text": str(b)} for b in content]
    return [{"type": "json", "value": content}]


def _first_text(blocks: list[dict[str, Any]]) -> str | None:
    for block in blocks:
        text = block.get("text")
        if block.get("type") == "text" and isinstance(text, str) and text.strip():
            return text
    return None


def preview(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


# -- parsing -------------------------------------------------------------------------------------


def parse_event(event: dict[str, Any], seq: int) -> ParsedEvent:
    """Parse one transcript event (any transport) into the fields sync needs."""
    etype = str(event.get("type") or "")
    meta = _obj(event.get("__openclaw"))
    parsed = ParsedEvent(
        seq=seq,
        type=etype,
        event_id=event.get("id") if isinstance(event.get("id"), str) else None,
        parent_id=event.get("parentId") if isinstance(event.get("parentId"), str) else None,
        timestamp=to_datetime(event.get("timestamp")),
    )
    parsed.recorded_at = parsed.timestamp
    if etype == "message" and isinstance(event.get("message"), dict):
        _parse_message(parsed, event["message"])
    elif etype == "compaction":
        parsed.role = MessageRole.SYSTEM
        parsed.run_id = _str(meta.get("runId"))
        parsed.content = MessageContent(
            [
                Compaction(
                    _str(event.get("summary")),
                    _int(event.get("tokensBefore")),
                    _int(event.get("tokensAfter")),
                )
            ]
        )
    elif etype == "session" and parsed.event_id:
        # The header's id is the session id, not an event id.
        parsed.event_id = None
    return parsed


def neutral_blocks(raw: list[dict[str, Any]]) -> list[Block]:
    """OpenClaw content blocks -> the neutral model (unknown kinds are kept as given)."""
    out: list[Block] = []
    for b in raw:
        kind = b.get("type")
        if kind == "text" and isinstance(b.get("text"), str):
            out.append(TextBlock(b["text"]))
        elif kind == "thinking" and isinstance(b.get("thinking"), str):
            out.append(TextBlock(b["thinking"], thinking=True))
        elif kind == "toolCall":
            out.append(ToolCall(_str(b.get("id")), str(b.get("name") or "?"), b.get("arguments")))
        else:
            out.append(OtherBlock(b))
    return out


def _parse_message(parsed: ParsedEvent, msg: dict[str, Any]) -> None:
    role = _ROLES.get(str(msg.get("role")), MessageRole.SYSTEM)
    meta = _obj(msg.get("__openclaw"))
    details = _obj(msg.get("details"))
    blocks = _blocks(msg.get("content"))
    content = MessageContent(neutral_blocks(blocks))
    parsed.role = role
    parsed.timestamp = to_datetime(msg.get("timestamp")) or parsed.timestamp
    parsed.run_id = _str(meta.get("runId")) or _str(msg.get("runId")) or _str(details.get("runId"))
    parsed.text = _first_text(blocks)
    parsed.idempotency_key = _str(msg.get("idempotencyKey"))
    provenance = msg.get("provenance")
    if isinstance(provenance, dict):
        parsed.source_tool = _str(provenance.get("sourceTool"))
        content.meta["provenance"] = provenance
    if role is MessageRole.ASSISTANT:
        parsed.model = _str(msg.get("model"))
        parsed.usage = usage_from(msg.get("usage"))
        parsed.stop_reason = _str(msg.get("stopReason"))
        parsed.error_message = _str(msg.get("errorMessage"))
        parsed.tool_calls = len(content.tool_calls)
        parsed.is_error = parsed.stop_reason in ERROR_STOP_REASONS
        content.stop_reason = parsed.stop_reason
        content.error_message = parsed.error_message
    elif role is MessageRole.TOOL_RESULT:
        parsed.tool_name = _str(msg.get("toolName"))
        parsed.is_error = msg.get("isError") is True
        # One tool_result block carries the answer's text; images and the like stay beside it.
        said = [b.text for b in content.blocks if isinstance(b, TextBlock) and not b.thinking]
        rest = [b for b in content.blocks if not isinstance(b, TextBlock) or b.thinking]
        text = "\n".join(said)
        result = ToolResult(_str(msg.get("toolCallId")), parsed.tool_name, parsed.is_error, text)
        content.blocks = [result, *rest]
    elif msg.get("role") == "custom":
        content.meta["custom_type"] = msg.get("customType")
        if details:
            content.meta["details"] = details
    parsed.content = content


def event_from_history_item(item: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """A gateway history item -> (raw transcript seq, equivalent transcript event).

    Items without a transcript position cannot be placed in the cached transcript and are
    skipped (None).
    """
    meta = _obj(item.get("__openclaw"))
    position = meta.get("transcriptPosition")
    raw_seq = _int(position.get("rawSeq")) if isinstance(position, dict) else None
    if raw_seq is None:
        return None
    event_id = _str(meta.get("id"))
    if item.get("role") == "system" and meta.get("kind") == "compaction":
        return raw_seq, {
            "type": "compaction",
            "id": event_id,
            "parentId": None,
            "timestamp": item.get("timestamp"),
            "summary": meta.get("summary"),
            "tokensBefore": meta.get("tokensBefore"),
            "tokensAfter": meta.get("tokensAfter"),
            "__openclaw": {"runId": meta.get("runId")},
        }
    return raw_seq, {
        "type": "message",
        "id": event_id,
        "parentId": None,
        "timestamp": meta.get("recordTimestampMs"),
        "message": _as_written(item, meta),
    }


def _as_written(item: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Undo the history's display rewrite of forwarded prompts.

    The 2026.9.6 history shows a prompt that another session forwarded (a cron run's prompt,
    recorded in ``real/gateway/http.history.rex-cron.json``) as role ``assistant`` with
    ``senderLabel`` "Forwarded from ...", and strips its ``provenance.sourcePromptPrefix``; the
    transcript has it as the run's ``user`` prompt. Read as an assistant entry it would open a
    run of its own, without tokens, before the run that answers it. Its ``:user`` idempotency
    key (the same convention derive.py relies on) marks it as the prompt it is.
    """
    key = _str(meta.get("idempotencyKey")) or _str(item.get("idempotencyKey"))
    if item.get("role") != "assistant" or not (key and key.endswith(":user")):
        return item
    restored = dict(item, role="user")
    for display_only in ("senderLabel", "senderSession"):
        restored.pop(display_only, None)
    prefix = _str(_obj(item.get("provenance")).get("sourcePromptPrefix"))
    content = item.get("content")
    if prefix and isinstance(content, str) and not content.startswith(prefix):
        restored["content"] = f"{prefix} {content}"
    return restored
