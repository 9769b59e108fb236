"""Gateway transport as a :class:`SessionSource`.

Sessions come from ``sessions.list`` (offset paging), transcripts from the HTTP history
(cursor paging, newest first). The history is display-cleaned and hides heartbeat turns, so
calls that ``sessions.usage`` counts but the history does not show are rebuilt from
``sessions.usage.timeseries`` (tokens and cost per model call) and ``sessions.usage.logs``
(role and text per message). Rebuilt entries carry no provider event id, their run id is
``hidden:<epoch ms>`` and their seq is placed in the gap the hidden events left in the raw
transcript numbering; when a store transport is available it is preferred for this reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Collection, Mapping
from datetime import datetime
from typing import Any

import httpx

from observatory.db.enums import MessageRole
from observatory.sync.openclaw.batch import WindowRead, build_batch
from observatory.sync.openclaw.events import (
    ParsedEvent,
    event_from_history_item,
    parse_event,
    to_datetime,
    usage_from,
)
from observatory.sync.openclaw.gateway import GatewayRpc, HistoryClient, RpcError
from observatory.sync.openclaw.mapping import ms, record_from_entry
from observatory.sync.source import (
    Block,
    Change,
    MessageContent,
    SessionRecord,
    SourceUnavailable,
    SyncBatch,
    TextBlock,
    Usage,
)

log = logging.getLogger(__name__)
HIDDEN_RUN_PREFIX = "hidden:"
# ``sessions.usage`` params: every agent's sessions (without ``agentScope`` the gateway covers
# only its default agent), all time (the default 30-day window undercounts older sessions' calls)
# and the row limit raised from its default of 50 to the listing's size.
USAGE_PARAMS: dict[str, Any] = {"agentScope": "all", "range": "all"}
# The first ``sessions.usage`` after activity answers from a cold cache (``cacheStatus.status``
# ``refreshing``, stale counts) and refreshes behind it. Stale counts would skip the hidden-turn
# check and lose heartbeat runs, so a non-fresh answer is asked again for up to this long, then
# not used at all: every session is checked against its timeseries instead (one more call per
# changed session, never a lost run).
USAGE_FRESH_WAIT_S = 10.0
USAGE_RETRY_S = 0.5


class GatewaySource:
    provider = "openclaw"

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 15.0,
        list_page_size: int = 200,
        history_page_size: int = 200,
        list_params: Mapping[str, Any] | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout
        self.list_page_size = list_page_size
        self.history_page_size = history_page_size
        self.list_params = dict(list_params or {})
        self.listing_complete = True
        self._rpc: GatewayRpc | None = None
        self._history = HistoryClient(url, token, timeout=timeout, transport=http_transport)
        self._usage: dict[str, dict[str, Any]] = {}

    async def _client(self) -> GatewayRpc:
        if self._rpc is None or not self._rpc.connected:
            if self._rpc is not None:
                await self._rpc.aclose()
            self._rpc = GatewayRpc(self.url, self.token, timeout=self.timeout)
            await self._rpc.connect()
        return self._rpc

    async def aclose(self) -> None:
        if self._rpc is not None:
            await self._rpc.aclose()
            self._rpc = None
        await self._history.aclose()

    # -- listing ---------------------------------------------------------------------------------

    async def _list_once(self) -> tuple[dict[str, dict[str, Any]], bool]:
        rpc = await self._client()
        rows: dict[str, dict[str, Any]] = {}
        offset, total = 0, None
        for _ in range(100_000):
            params = {**self.list_params, "limit": self.list_page_size, "offset": offset}
            page = await rpc.call("sessions.list", params)
            sessions = page.get("sessions") or []
            for row in sessions:
                if isinstance(row, dict) and isinstance(row.get("key"), str):
                    rows[row["key"]] = row
            total = page.get("totalCount", total)
            next_offset = page.get("nextOffset")
            if not page.get("hasMore") or next_offset is None or not sessions:
                break
            offset = int(next_offset)
        # Rows that move between pages while we read can be missed: then we know we did.
        complete = total is None or len(rows) >= int(total)
        return rows, complete

    async def _methods(self) -> set[str]:
        """The RPC methods the gateway advertised in ``hello-ok``."""
        features = (await self._client()).hello.get("features") or {}
        return set(features.get("methods") or []) if isinstance(features, dict) else set()

    async def _describe(self, keys: Collection[str]) -> dict[str, dict[str, Any]]:
        """``sessions.describe`` per key: the same row ``sessions.list`` gives, for one key."""
        rpc = await self._client()
        rows: dict[str, dict[str, Any]] = {}
        for key in sorted(keys):
            try:
                payload = await rpc.call("sessions.describe", {"key": key})
            except RpcError as exc:
                log.info("sessions.describe %s: %s", key, exc)  # gone, or not ours to read
                continue
            row = (payload or {}).get("session") if isinstance(payload, dict) else None
            if isinstance(row, dict) and row.get("key") == key:
                rows[key] = row
        return rows

    async def list_sessions(self, keys: Collection[str] | None = None) -> list[SessionRecord]:
        if keys is not None and "sessions.describe" in await self._methods():
            # A pushed change: describe just those sessions. Without the usage summary every
            # one of them is checked for hidden turns (one timeseries call each).
            rows = await self._describe(keys)
            self._usage = {}
            return self._records(rows)
        rows, complete = await self._list_once()
        for _ in range(2):
            if complete:
                break
            more, complete = await self._list_once()
            rows.update(more)
        self.listing_complete = complete
        self._usage = await self._usage_by_key(len(rows))
        return self._records(rows)

    def changes(self) -> AsyncIterator[Change]:
        from observatory.sync.openclaw.watch import gateway_changes

        return gateway_changes(self.url, self.token, rpc_timeout_s=self.timeout)

    def _records(self, rows: dict[str, dict[str, Any]]) -> list[SessionRecord]:
        records = []
        for key, row in rows.items():
            fingerprint = ":".join(
                str(row.get(f)) for f in ("updatedAt", "sessionId", "status", "lastActivityAt")
            )
            records.append(
                record_from_entry(
                    key,
                    row,
                    classification=row.get("classification"),
                    fingerprint=fingerprint,
                )
            )
        return records

    async def _usage_by_key(self, sessions: int) -> dict[str, dict[str, Any]]:
        """Per-session usage summaries, or {} when no fresh summary is to be had."""
        params = {**USAGE_PARAMS, "limit": max(sessions, 1)}
        deadline = time.monotonic() + USAGE_FRESH_WAIT_S
        while True:
            try:
                payload = await (await self._client()).call("sessions.usage", params)
            except RpcError as exc:
                # Optional: without it every changed session is checked for hidden turns.
                log.info("sessions.usage unavailable (%s); checking timeseries per session", exc)
                return {}
            status = ((payload or {}).get("cacheStatus") or {}).get("status")
            if status in (None, "fresh"):
                break
            if time.monotonic() >= deadline:
                log.info("sessions.usage still %s; checking timeseries per session", status)
                return {}
            await asyncio.sleep(USAGE_RETRY_S)
        out = {}
        for entry in (payload or {}).get("sessions") or []:
            if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                out[entry["key"]] = entry
        return out

    # -- transcripts -------------------------------------------------------------------------------

    async def _history_since(self, key: str, next_seq: int) -> list[tuple[int, dict[str, Any]]]:
        """History items with raw seq >= next_seq, paging back from the newest."""
        found: dict[int, dict[str, Any]] = {}
        cursor: str | None = None
        for _ in range(100_000):
            page = await self._history.page(key, limit=self.history_page_size, cursor=cursor)
            items = page.get("items")
            if items is None:
                items = page.get("messages") or []
            oldest = None
            for item in items:
                converted = event_from_history_item(item) if isinstance(item, dict) else None
                if converted is None:
                    continue
                raw_seq, event = converted
                oldest = raw_seq if oldest is None else min(oldest, raw_seq)
                if raw_seq >= next_seq:
                    found[raw_seq] = event
            next_cursor = page.get("nextCursor")
            if not page.get("hasMore") or next_cursor is None:
                break
            if oldest is not None and oldest < next_seq:
                break
            if next_cursor == cursor:
                raise SourceUnavailable(f"history of {key}: cursor {cursor!r} does not advance")
            cursor = str(next_cursor)
        return sorted(found.items())

    async def fetch(self, session: SessionRecord, cursor: Mapping[str, Any] | None) -> SyncBatch:
        sid = session.provider_session_id or f"key:{session.key}"
        previous = dict(cursor or {})
        if previous.get("sid") == sid:
            next_seq = int(previous.get("next_seq") or 0)
            mark = previous.get("ts")
            calls = int(previous.get("calls") or 0)
        else:  # first sync, or the key rolled over to a new session id
            next_seq, mark, calls = 0, None, 0
        items = await self._history_since(session.key, next_seq)
        events = [parse_event(event, raw_seq) for raw_seq, event in items]
        visible_calls = sum(1 for e in events if e.role is MessageRole.ASSISTANT)
        usage = self._usage.get(session.key)
        if usage is not None and usage.get("sessionId") not in (None, sid):
            usage = None
        expected = _assistant_count(usage)
        if expected is None or expected > calls + visible_calls:
            events = await self._with_hidden_turns(session, sid, events, next_seq, mark, usage)
        read_to = events[-1].seq + 1 if events else next_seq
        batch, resume = build_batch(session, [WindowRead(sid, events, next_seq, read_to)], cursor)
        resume_seq = resume[sid]
        done = [e for e in events if e.seq < resume_seq and e.is_message]
        stamps = [ms(e.timestamp) for e in done if e.timestamp]
        batch.cursor.update(
            sid=sid,
            next_seq=resume_seq,
            ts=max([s for s in stamps if s is not None] + ([mark] if mark else []), default=None),
            calls=calls + sum(1 for e in done if e.role is MessageRole.ASSISTANT),
        )
        return batch

    async def _with_hidden_turns(
        self,
        session: SessionRecord,
        sid: str,
        visible: list[ParsedEvent],
        next_seq: int,
        mark: int | None,
        usage: dict[str, Any] | None,
    ) -> list[ParsedEvent]:
        """``visible`` plus the turns the history hides, rebuilt from the usage timeseries."""
        rpc = await self._client()
        try:
            series = await rpc.call("sessions.usage.timeseries", {"key": session.key})
        except RpcError as exc:
            log.info("no timeseries for %s: %s", session.key, exc)
            return visible
        if (series or {}).get("sessionId") not in (None, sid):
            return visible
        points = _unshown_points(series, visible, mark)
        newest = max((ms(e.timestamp) or 0 for e in visible if e.timestamp), default=None)
        if points and (newest is None or points[-1]["timestamp"] > newest):
            # The history was read before the timeseries: a reply written in between is in the
            # series but not in that read. Rebuilt here, it would be read again as a visible
            # message on the next pass: one turn, two runs (bench_live.py --real against the
            # real gateway: 1 turn in 30 while pushed passes follow a turn). Such a call is
            # newer than everything the read showed; then the history is read again, now that
            # it is at least as new as the series (hidden calls between visible messages, the
            # usual heartbeat case, cost no second read).
            items = await self._history_since(session.key, next_seq)
            visible = [parse_event(event, raw_seq) for raw_seq, event in items]
            points = _unshown_points(series, visible, mark)
        if not points:
            return visible
        try:
            logs_payload = await rpc.call(
                "sessions.usage.logs", {"key": session.key, "limit": 10_000}
            )
            logs = [x for x in (logs_payload or {}).get("logs") or [] if isinstance(x, dict)]
        except RpcError as exc:
            log.info("no usage logs for %s: %s", session.key, exc)
            logs = []
        model = _single_model(usage) or session.model
        shown = [e for e in visible if e.is_message and e.timestamp is not None]
        rebuilt = _rebuild(points, logs, shown, next_seq, mark, model)
        return sorted([*visible, *rebuilt], key=lambda e: e.seq)


def _unshown_points(
    series: Any, visible: list[ParsedEvent], mark: int | None
) -> list[dict[str, Any]]:
    """Model calls of the timeseries after ``mark`` that no visible assistant message made."""
    shown_calls = {
        ms(e.timestamp)
        for e in visible
        if e.is_message and e.timestamp is not None and e.role is MessageRole.ASSISTANT
    }
    return sorted(
        (
            p
            for p in (series or {}).get("points") or []
            if isinstance(p, dict)
            and isinstance(p.get("timestamp"), int | float)
            and (mark is None or p["timestamp"] > mark)
            and int(p["timestamp"]) not in shown_calls
        ),
        key=lambda p: p["timestamp"],
    )


def _assistant_count(usage: dict[str, Any] | None) -> int | None:
    counts = ((usage or {}).get("usage") or {}).get("messageCounts") or {}
    value = counts.get("assistant")
    return int(value) if isinstance(value, int) else None


def _single_model(usage: dict[str, Any] | None) -> str | None:
    models = ((usage or {}).get("usage") or {}).get("modelUsage") or []
    if len(models) == 1 and isinstance(models[0], dict):
        return models[0].get("model")
    return (usage or {}).get("model")


def _rebuild(
    points: list[dict[str, Any]],
    logs: list[dict[str, Any]],
    shown: list[ParsedEvent],
    next_seq: int,
    mark: int | None,
    model: str | None,
) -> list[ParsedEvent]:
    """Hidden model calls (and their prompts) as events placed between the visible ones."""
    shown = sorted(shown, key=lambda e: (ms(e.timestamp) or 0, e.seq))
    shown_ts = [ms(e.timestamp) or 0 for e in shown]
    shown_users = {ms(e.timestamp) for e in shown if e.role is MessageRole.USER}
    # Prompts the history hides (heartbeat polls): each one starts a turn of its own.
    hidden_prompts = [
        int(entry["timestamp"])
        for entry in logs
        if entry.get("role") == "user"
        and isinstance(entry.get("timestamp"), int | float)
        and entry["timestamp"] not in shown_users
    ]
    # Consecutive hidden calls form one turn unless a visible message or a hidden prompt lies
    # between them: two heartbeat polls back to back are two runs, never one (issue 9).
    groups: list[list[dict[str, Any]]] = []
    for point in points:
        ts = int(point["timestamp"])
        if groups:
            last = int(groups[-1][-1]["timestamp"])
            if not any(last < t < ts for t in shown_ts) and not any(
                last < t <= ts for t in hidden_prompts
            ):
                groups[-1].append(point)
                continue
        groups.append([point])
    # Turns that share one gap between visible entries are numbered together, in order.
    placed: dict[tuple[int, int | None], list[ParsedEvent]] = {}
    for group in groups:
        first, last = int(group[0]["timestamp"]), int(group[-1]["timestamp"])
        before = [e for t, e in zip(shown_ts, shown, strict=True) if t < first]
        after = [e for t, e in zip(shown_ts, shown, strict=True) if t > last]
        floor = ms(before[-1].timestamp) if before else mark
        prompt = next(
            (
                entry
                for entry in reversed(logs)
                if entry.get("role") == "user"
                and isinstance(entry.get("timestamp"), int | float)
                and (floor is None or entry["timestamp"] > floor)
                and entry["timestamp"] <= first
                and entry["timestamp"] not in shown_users
            ),
            None,
        )
        run_id = f"{HIDDEN_RUN_PREFIX}{first}"
        made: list[ParsedEvent] = []
        if prompt is not None:
            made.append(_made(MessageRole.USER, prompt["timestamp"], prompt.get("content"), run_id))
        for point in group:
            text = next(
                (
                    e.get("content")
                    for e in logs
                    if e.get("role") == "assistant" and e.get("timestamp") == point["timestamp"]
                ),
                None,
            )
            event = _made(MessageRole.ASSISTANT, point["timestamp"], text, run_id)
            event.usage = _point_usage(point)
            event.model = model
            event.stop_reason = "stop"
            made.append(event)
        # seq 0 is the transcript's session header, never a message
        low = max([e.seq for e in before] + [next_seq - 1, 0])
        high = min(e.seq for e in after) if after else None
        placed.setdefault((low, high), []).extend(made)
    out: list[ParsedEvent] = []
    for (low, high), made in placed.items():
        if high is not None and high - low - 1 < len(made):
            log.warning("no room for %d hidden entries between seq %d and %d", len(made), low, high)
            continue
        start = high - len(made) if high is not None else low + 1
        for offset, event in enumerate(made):
            event.seq = start + offset
        out.extend(made)
    return out


def _made(role: MessageRole, ts: float, text: Any, run_id: str) -> ParsedEvent:
    when: datetime | None = to_datetime(ts)
    blocks: list[Block] = [TextBlock(text)] if isinstance(text, str) and text else []
    return ParsedEvent(
        seq=0,
        type="message",
        event_id=None,
        parent_id=None,
        timestamp=when,
        recorded_at=when,
        role=role,
        content=MessageContent(blocks, meta={"rebuilt_from": "sessions.usage"}),
        run_id=run_id,
        text=text if isinstance(text, str) else None,
    )


def _point_usage(point: dict[str, Any]) -> Usage:
    return usage_from(
        {
            "input": point.get("input"),
            "output": point.get("output"),
            "cacheRead": point.get("cacheRead"),
            "cacheWrite": point.get("cacheWrite"),
            "cost": point.get("cost"),
        }
    )
