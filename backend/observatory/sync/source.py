"""The provider protocol and the provider-neutral records that sync moves into PostgreSQL.

A provider adapter (``observatory.sync.openclaw`` today) implements :class:`SessionSource`:
it lists the sessions an installation has and, for one session, returns a :class:`SyncBatch`
with everything new since an opaque cursor it handed out earlier. Ingestion knows nothing
about the provider beyond these records, so a second provider is one new module.

Conventions (see DESIGN.md): times are timezone-aware UTC, money is ``Decimal`` (USD),
and ``None`` means "the provider did not say" -- never an invented zero.

Messages are stored in the provider-neutral form of :class:`MessageContent` (its ``to_json``);
every reader outside ``sync/<provider>/`` goes through :meth:`MessageContent.from_json` or reads
the documented keys, never a provider's own.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar, runtime_checkable

from observatory.db.enums import (
    MessageRole,
    RunStatus,
    RunTrigger,
    SessionKind,
    SessionStatus,
)

Cursor = dict[str, Any]
_N = TypeVar("_N", int, Decimal)


@dataclass(slots=True)
class Usage:
    """Token counts and cost of one model call or a sum of them (None = not reported)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost: Decimal | None = None

    def is_empty(self) -> bool:
        return all(
            v is None
            for v in (
                self.input_tokens,
                self.output_tokens,
                self.cache_read_tokens,
                self.cache_write_tokens,
                self.cost,
            )
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            _add(self.input_tokens, other.input_tokens),
            _add(self.output_tokens, other.output_tokens),
            _add(self.cache_read_tokens, other.cache_read_tokens),
            _add(self.cache_write_tokens, other.cache_write_tokens),
            _add(self.cost, other.cost),
        )


def _add(a: _N | None, b: _N | None) -> _N | None:
    # Unknown + known = known: a run whose calls partly lack usage still reports what it has.
    if a is None:
        return b
    if b is None:
        return a
    return a + b


@dataclass(slots=True)
class SessionRecord:
    """One conversation context at the provider, identified by (source, key)."""

    key: str
    agent_id: str
    kind: SessionKind
    provider_status: str | None
    started_at: datetime
    updated_at: datetime
    provider_session_id: str | None = None
    # None: not decided by the listing alone; derived from runs when the batch is built.
    status: SessionStatus | None = None
    title: str | None = None
    parent_key: str | None = None
    model: str | None = None
    channel: str | None = None
    ended_at: datetime | None = None
    # Opaque change marker: a session whose fingerprint equals the stored one is skipped.
    fingerprint: str | None = None
    # Provider-specific bits the adapter needs again in fetch() (not stored).
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(slots=True)
class RunRecord:
    """One agent invocation inside a session (a turn, heartbeat poll, cron fire, ...)."""

    provider_run_id: str
    trigger: RunTrigger
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    model: str | None = None
    usage: Usage = field(default_factory=Usage)
    error: str | None = None
    prompt_preview: str | None = None
    outcome_preview: str | None = None
    tool_call_count: int = 0
    tool_error_count: int = 0

    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


# -- the neutral message model -------------------------------------------------------------------
#
# Stored JSON (``messages.content``):
#   {"blocks": [
#      {"type": "text", "text"},
#      {"type": "thinking", "text"},                        private reasoning
#      {"type": "tool_call", "id", "name", "arguments"},
#      {"type": "tool_result", "tool_call_id", "name", "is_error", "text"},
#      {"type": "compaction", "summary", "tokens_before", "tokens_after"},
#      {"type": <other>, ...}                               kept as given (images, raw JSON)
#    ],
#    "stop_reason"?, "error_message"?, "meta"?}             meta: provider details, shown as is


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str
    thinking: bool = False  # private reasoning, kept apart from what the agent said


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str | None
    name: str
    arguments: Any = None


@dataclass(frozen=True, slots=True)
class ToolResult:
    tool_call_id: str | None
    name: str | None
    is_error: bool
    text: str


@dataclass(frozen=True, slots=True)
class Compaction:
    summary: str | None
    tokens_before: int | None = None
    tokens_after: int | None = None


@dataclass(frozen=True, slots=True)
class OtherBlock:
    """A block the neutral model does not interpret (an image, raw JSON): kept as given."""

    data: dict[str, Any]


Block = TextBlock | ToolCall | ToolResult | Compaction | OtherBlock


@dataclass(slots=True)
class MessageContent:
    blocks: list[Block] = field(default_factory=list)
    stop_reason: str | None = None
    error_message: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """What was said: text blocks, tool-result text and compaction summaries, joined."""
        parts: list[str] = []
        for b in self.blocks:
            if isinstance(b, TextBlock) and not b.thinking:
                parts.append(b.text)
            elif isinstance(b, ToolResult):
                parts.append(b.text)
            elif isinstance(b, Compaction) and b.summary is not None:
                parts.append(b.summary)
        return "\n".join(parts)

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [b for b in self.blocks if isinstance(b, ToolCall)]

    @property
    def tool_result(self) -> ToolResult | None:
        return next((b for b in self.blocks if isinstance(b, ToolResult)), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"blocks": [_block_json(b) for b in self.blocks]}
        if self.stop_reason is not None:
            out["stop_reason"] = self.stop_reason
        if self.error_message is not None:
            out["error_message"] = self.error_message
        if self.meta:
            out["meta"] = self.meta
        return out

    @classmethod
    def from_json(cls, raw: Any) -> MessageContent:
        """Read stored content; anything malformed becomes an uninterpreted block."""
        if not isinstance(raw, dict):
            return cls([] if raw is None else [OtherBlock({"type": "json", "value": raw})])
        blocks = raw.get("blocks")
        return cls(
            [_block_from(b) for b in blocks] if isinstance(blocks, list) else [],
            stop_reason=_opt_str(raw.get("stop_reason")),
            error_message=_opt_str(raw.get("error_message")),
            meta=raw["meta"] if isinstance(raw.get("meta"), dict) else {},
        )


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _block_json(b: Block) -> dict[str, Any]:
    if isinstance(b, TextBlock):
        return {"type": "thinking" if b.thinking else "text", "text": b.text}
    if isinstance(b, ToolCall):
        return {"type": "tool_call", "id": b.id, "name": b.name, "arguments": b.arguments}
    if isinstance(b, ToolResult):
        return {
            "type": "tool_result",
            "tool_call_id": b.tool_call_id,
            "name": b.name,
            "is_error": b.is_error,
            "text": b.text,
        }
    if isinstance(b, Compaction):
        return {
            "type": "compaction",
            "summary": b.summary,
            "tokens_before": b.tokens_before,
            "tokens_after": b.tokens_after,
        }
    return b.data


def _block_from(raw: Any) -> Block:
    if not isinstance(raw, dict):
        return OtherBlock({"type": "json", "value": raw})
    kind = raw.get("type")
    if kind in ("text", "thinking") and isinstance(raw.get("text"), str):
        return TextBlock(raw["text"], thinking=kind == "thinking")
    if kind == "tool_call":
        return ToolCall(_opt_str(raw.get("id")), str(raw.get("name") or "?"), raw.get("arguments"))
    if kind == "tool_result":
        return ToolResult(
            _opt_str(raw.get("tool_call_id")),
            _opt_str(raw.get("name")),
            raw.get("is_error") is True,
            str(raw.get("text") or ""),
        )
    if kind == "compaction":
        return Compaction(
            _opt_str(raw.get("summary")),
            _opt_int(raw.get("tokens_before")),
            _opt_int(raw.get("tokens_after")),
        )
    return OtherBlock(raw)


@dataclass(slots=True)
class MessageRecord:
    """One cached transcript entry, ordered by (provider_session_id, seq)."""

    provider_session_id: str
    seq: int
    role: MessageRole
    content: MessageContent
    created_at: datetime
    provider_event_id: str | None = None
    parent_event_id: str | None = None
    provider_run_id: str | None = None
    model: str | None = None
    usage: Usage = field(default_factory=Usage)
    is_error: bool = False


@dataclass(slots=True)
class SyncBatch:
    """Everything new for one session since a cursor; ingested in one transaction.

    ``runs`` hold complete aggregates for every run they name (an adapter re-reads an
    unfinished run from its start), so upserting them overwrites older partial values.
    ``replace_from`` maps a provider session id to the seq from which this batch is the
    whole truth: cached messages at or after it that the batch lacks are dropped (a
    transcript re-read from a run's start may place entries differently than last time).
    """

    session: SessionRecord
    runs: list[RunRecord] = field(default_factory=list)
    messages: list[MessageRecord] = field(default_factory=list)
    cursor: Cursor = field(default_factory=dict)
    replace_from: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class SessionSource(Protocol):
    """What sync needs from a provider installation."""

    provider: str

    async def list_sessions(self) -> list[SessionRecord]:
        """Every session the provider currently has (sessions it dropped are absent)."""
        ...

    async def fetch(self, session: SessionRecord, cursor: Mapping[str, Any] | None) -> SyncBatch:
        """New transcript data for ``session`` after ``cursor`` (None: from the start)."""
        ...

    async def aclose(self) -> None:
        """Release connections and file handles."""
        ...


@dataclass(frozen=True, slots=True)
class Change:
    """What a provider pushed: these sessions changed, or (``keys`` None) anything may have.

    ``problem`` is something the runner shows in the source's sync status without failing it
    (an unknown event, an unparsable frame, a dropped event stream that is being re-opened).
    """

    keys: frozenset[str] | None = None
    problem: str | None = None

    @property
    def rescan(self) -> bool:
        return self.keys is None


@runtime_checkable
class WatchableSource(Protocol):
    """A source that can push changes (file watch, gateway events) instead of being polled.

    ``changes`` runs until cancelled; it reconnects on its own and yields a rescan
    (``Change()``) after every (re)connect, so nothing that happened while it was away is lost.
    ``list_sessions(keys)`` lists just those sessions where the provider can (others may
    return more; the runner filters).
    """

    def changes(self) -> AsyncIterator[Change]: ...

    async def list_sessions(self, keys: Collection[str] | None = None) -> list[SessionRecord]: ...


class AgentFiles(Protocol):
    """An agent's own instruction files (AGENTS.md, HEARTBEAT.md, ...) at its provider."""

    writable: bool  # False: read-only (a local store): proposals are downloaded as patches

    async def list_files(self, agent_id: str) -> list[str]:
        """Names of the files the agent has (missing ones left out)."""
        ...

    async def read(self, agent_id: str, name: str) -> str | None:
        """The file's text, or None when the agent has no such file."""
        ...

    async def write(self, agent_id: str, name: str, content: str) -> None:
        """Replace the file's text (only where ``writable``)."""
        ...

    async def aclose(self) -> None: ...


class SourceError(Exception):
    """A provider could not be read; the runner backs off and retries."""

    retry_after: float | None = None


class SourceAuthError(SourceError):
    """The provider refused our credentials (HTTP 401 / rejected connect)."""


class SourceUnavailable(SourceError):
    """The provider is temporarily unavailable (timeout, 5xx, dropped connection)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceConfigError(SourceError):
    """The source is misconfigured or its data is in a format we refuse to guess at."""


class SessionUnreadable(SourceError):
    """One session's transcript cannot be read (a corrupt row, a bad line); the source's other
    sessions can. The runner quarantines that session (``sessions.sync_error``) and retries it
    on later passes instead of failing the source."""


_PATH = re.compile(r"""(?<![\w.:/])/(?:[^\s/:'"(),]+/)+([^\s/:'"(),]+)""")


def public_message(text: str | None) -> str | None:
    """A sync error as viewers see it: server paths cut to their last part (the file name), so
    ``/srv/openclaw/agents/sofia/agent/openclaw-agent.sqlite is truncated`` reads
    ``openclaw-agent.sqlite is truncated``; the source is named by the row it belongs to."""
    return None if text is None else _PATH.sub(r"\1", text)
