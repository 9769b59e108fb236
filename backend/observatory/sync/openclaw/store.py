"""Same-host transport: the agent's SQLite store, or the legacy sessions.json + JSONL layout.

OpenClaw 2026.7.2+ keeps each agent's sessions in
``agents/<agent>/agent/openclaw-agent.sqlite`` (WAL). We open it read-only through a
``file:...?mode=ro`` URI so sync can never write to the agent's state, retry while the agent
holds a lock, and refuse a ``schema_version`` we have not seen rather than guess at it.
Up to 2026.7.1 the state was ``agents/<agent>/sessions/sessions.json`` plus one
``<sessionId>.jsonl`` per session; those files are read by byte offset, complete lines only.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote

import zstandard

from observatory.sync.openclaw.batch import WindowRead, build_batch
from observatory.sync.openclaw.events import (
    EventDecodeError,
    ParsedEvent,
    complete_length,
    decode_row,
    loads_event,
    parse_event,
)
from observatory.sync.openclaw.mapping import agent_from_key, record_from_entry
from observatory.sync.source import (
    SessionRecord,
    SessionUnreadable,
    SourceConfigError,
    SourceUnavailable,
    SyncBatch,
)

SUPPORTED_SCHEMA_VERSIONS = frozenset({23})
STORE_FILENAME = "openclaw-agent.sqlite"
_ARCHIVE_ZSTD = zstandard.ZstdDecompressor()
_T = TypeVar("_T")
log = logging.getLogger(__name__)


class UnsupportedSchemaError(SourceConfigError):
    """The store was written by an OpenClaw whose schema we do not know."""


class SqliteStore:
    """Read one agent's ``openclaw-agent.sqlite`` (read-only)."""

    provider = "openclaw"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 2.0,
        busy_retries: int = 6,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.busy_retries = busy_retries
        self.agent_id: str | None = None
        self.schema_version: int | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    # -- connection ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        if not self.path.is_file():
            raise SourceUnavailable(f"OpenClaw store file missing: {self.path}")
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout, check_same_thread=False)
        try:
            row = conn.execute(
                "SELECT schema_version, agent_id, app_version FROM schema_meta "
                "ORDER BY meta_key = 'primary' DESC LIMIT 1"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            conn.close()
            if _is_busy(exc):
                raise
            raise UnsupportedSchemaError(f"{self.path} {_what_is_wrong(exc)}") from exc
        version = row[0] if row else None
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            conn.close()
            supported = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
            raise UnsupportedSchemaError(
                f"{self.path}: OpenClaw store schema_version {version} "
                f"(app {row[2] if row else '?'}) is not supported; supported: {supported}. "
                "Upgrade Session Observatory or point it at the gateway instead."
            )
        self.schema_version = version
        self.agent_id = row[1] or self.path.parent.parent.name
        self._conn = conn
        return conn

    def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``fn`` on the connection, retrying while the agent holds a lock."""
        delay = 0.05
        for attempt in range(self.busy_retries + 1):
            try:
                with self._lock:
                    return fn(self._connect())
            except sqlite3.DatabaseError as exc:
                if not _is_busy(exc) or attempt == self.busy_retries:
                    if _is_busy(exc):
                        raise SourceUnavailable(f"{self.path} stayed locked: {exc}") from exc
                    raise SourceUnavailable(f"{self.path} {_what_is_wrong(exc)}") from exc
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    async def _call(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        return await asyncio.to_thread(self._run, fn)

    async def aclose(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- cold archives ----------------------------------------------------------------------------

    def _cold_dir(self) -> Path:
        # agents/<agent>/agent/openclaw-agent.sqlite -> agents/<agent>/sessions/cold/
        return self.path.parent.parent / "sessions" / "cold"

    def _cold_events(self, conn: sqlite3.Connection, sid: str, start: int) -> list[ParsedEvent]:
        """Events at or after ``start`` that OpenClaw moved to cold storage for ``sid``.

        ``session_transcript_cold_archives`` names one zstd JSONL archive per session id (the
        same lines as a legacy transcript, the last one being ``last_seq``), kept as a file in
        ``sessions/cold/`` or as ``archive_blob``; its ``transcript_events`` rows are gone.
        """
        row = conn.execute(
            "SELECT archive_name, storage, archive_blob, event_count, last_seq "
            "FROM session_transcript_cold_archives WHERE session_id = ?",
            (sid,),
        ).fetchone()
        if row is None or int(row[4]) < start:
            return []
        name, storage, blob, count, last_seq = row[0], row[1], row[2], int(row[3]), int(row[4])
        what = f"cold archive {name!r} of {sid}"
        if storage == "sqlite" and blob is not None:
            data = bytes(blob)
        else:
            if "/" in name or "\\" in name or name in (".", ".."):
                raise SourceConfigError(f"{what}: refusing a path in the archive name")
            path = self._cold_dir() / name
            try:
                data = path.read_bytes()
            except FileNotFoundError as exc:
                raise SourceUnavailable(f"{what} not found at {path}") from exc
        lines = [ln for ln in _decompress_archive(data, what).splitlines() if ln.strip()]
        if len(lines) != count:
            raise SourceUnavailable(f"{what}: {len(lines)} lines, the store says {count}")
        first = last_seq - count + 1
        events = []
        for offset, line in enumerate(lines):
            seq = first + offset
            if seq >= start:
                try:
                    events.append(parse_event(loads_event(line), seq))
                except EventDecodeError as exc:
                    raise SourceUnavailable(f"{what} seq {seq}: {exc}") from exc
        return events

    # -- SessionSource --------------------------------------------------------------------------

    async def list_sessions(self) -> list[SessionRecord]:
        rows = await self._call(_list_rows)
        records = []
        for row in rows:
            entry = json.loads(row["entry_json"]) if row["entry_json"] else {}
            if not isinstance(entry, dict):
                entry = {}
            entry.setdefault("sessionId", row["current_session_id"])
            entry.setdefault("updatedAt", row["updated_at"])
            entry.setdefault("createdAt", row["created_at"])
            for column, field in (
                ("label", "label"),
                ("display_name", "displayName"),
                ("parent_session_key", "parentSessionKey"),
                ("spawned_by", "spawnedBy"),
                ("created_via", "createdVia"),
            ):
                if row[column] and not entry.get(field):
                    entry[field] = row[column]
            if row["node_status"] and not entry.get("status"):
                entry["status"] = row["node_status"]
            fingerprint = ":".join(
                str(row[c])
                for c in ("updated_at", "current_session_id", "transcript_updated_at", "max_seq")
            )
            record = record_from_entry(
                row["session_key"],
                entry,
                agent_id=agent_from_key(row["session_key"]) or self.agent_id,
                fallback_status=row["window_status"],
                channel=row["channel"],
                fingerprint=fingerprint,
            )
            records.append(record)
        return records

    async def fetch(self, session: SessionRecord, cursor: Mapping[str, Any] | None) -> SyncBatch:
        known: dict[str, int] = dict((cursor or {}).get("windows") or {})

        def read(conn: sqlite3.Connection) -> list[WindowRead]:
            windows = conn.execute(
                "SELECT session_id FROM session_windows WHERE session_key = ? "
                "ORDER BY created_at, session_id",
                (session.key,),
            ).fetchall()
            ids = [w[0] for w in windows]
            if session.provider_session_id and session.provider_session_id not in ids:
                ids.append(session.provider_session_id)
            reads = []
            for sid in ids:
                start = int(known.get(sid, 0))
                cold = self._cold_events(conn, sid, start)
                rows = conn.execute(
                    "SELECT seq, event_json, event_zstd FROM transcript_events "
                    "WHERE session_id = ? AND seq >= ? ORDER BY seq",
                    (sid, start),
                ).fetchall()
                if not rows and not cold and sid in known:
                    continue
                hot = [_parse_row(sid, seq, ej, ez) for seq, ej, ez in rows]
                events = cold + [e for e in hot if not cold or e.seq > cold[-1].seq]
                next_seq = events[-1].seq + 1 if events else start
                reads.append(WindowRead(sid, events, start, next_seq))
            return reads

        reads = await self._call(read)
        batch, resume = build_batch(session, reads, cursor)
        known.update(resume)
        batch.cursor["windows"] = known
        return batch


def _what_is_wrong(exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "file is not a database" in text:
        return "is not an SQLite database"
    if "malformed" in text or "disk I/O" in text:
        return f"is truncated or corrupt ({text})"
    if "no such table" in text:
        return "is an SQLite database but not an OpenClaw agent store (no schema_meta table)"
    return f"cannot be read as an OpenClaw agent store ({text})"


def _decompress_archive(blob: bytes, what: str) -> bytes:
    try:
        # Stream-decompress: an archive frame may be written without its content size.
        with _ARCHIVE_ZSTD.stream_reader(io.BytesIO(blob)) as reader:
            return reader.read()
    except zstandard.ZstdError as exc:
        raise SourceUnavailable(f"{what}: bad zstd archive: {exc}") from exc


def _parse_row(sid: str, seq: int, event_json: Any, event_zstd: Any) -> ParsedEvent:
    try:
        return parse_event(decode_row(event_json, event_zstd), seq)
    except EventDecodeError as exc:
        raise SessionUnreadable(f"transcript {sid} event {seq} cannot be decoded: {exc}") from exc


def _list_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(
            """
            SELECT n.session_key, n.current_session_id, n.entry_json, n.updated_at,
                   n.created_at, n.status AS node_status, n.created_via, n.label,
                   n.display_name, n.parent_session_key, n.spawned_by,
                   w.status AS window_status, w.channel, w.transcript_updated_at,
                   COALESCE(
                     (SELECT MAX(seq) FROM transcript_events t
                       WHERE t.session_id = n.current_session_id),
                     (SELECT last_seq FROM session_transcript_cold_archives c
                       WHERE c.session_id = n.current_session_id)) AS max_seq
              FROM session_nodes n
              LEFT JOIN session_windows w ON w.session_id = n.current_session_id
             ORDER BY n.session_key
            """
        ).fetchall()
    finally:
        conn.row_factory = None


def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


# -- legacy layout ---------------------------------------------------------------------------------


class LegacyStore:
    """Read ``sessions.json`` + ``<sessionId>.jsonl`` (OpenClaw up to 2026.7.1).

    The cursor keeps, per session id, the byte offset and seq (line number) reading resumes
    from; only complete lines are consumed, so a line the agent is still writing is read on a
    later pass.
    """

    provider = "openclaw"

    def __init__(
        self,
        sessions_json: str | os.PathLike[str],
        transcripts_dir: str | os.PathLike[str] | None = None,
        *,
        agent_id: str | None = None,
    ) -> None:
        self.sessions_json = Path(sessions_json)
        self.transcripts_dir = Path(transcripts_dir or self.sessions_json.parent)
        # agents/<agentId>/sessions/sessions.json
        self.agent_id = agent_id or self.sessions_json.parent.parent.name or None

    async def aclose(self) -> None:
        return None

    def _transcript(self, sid: str) -> Path:
        return self.transcripts_dir / f"{sid}.jsonl"

    def _load_entries(self) -> dict[str, Any]:
        try:
            data = json.loads(self.sessions_json.read_bytes())
        except FileNotFoundError as exc:
            raise SourceUnavailable(f"{self.sessions_json} not found") from exc
        except ValueError as exc:
            # Caught mid-write by a non-atomic writer: try again on the next pass.
            raise SourceUnavailable(f"{self.sessions_json} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise SourceConfigError(f"{self.sessions_json} is not a key -> entry map")
        return data

    async def list_sessions(self) -> list[SessionRecord]:
        entries = await asyncio.to_thread(self._load_entries)
        records = []
        for key, entry in entries.items():
            if not isinstance(entry, dict):
                continue
            sid = entry.get("sessionId")
            stat = _stat(self._transcript(sid)) if isinstance(sid, str) else None
            fingerprint = f"{entry.get('updatedAt')}:{sid}:{stat}"
            records.append(
                record_from_entry(
                    key,
                    entry,
                    agent_id=agent_from_key(key) or self.agent_id,
                    fingerprint=fingerprint,
                )
            )
        return records

    async def fetch(self, session: SessionRecord, cursor: Mapping[str, Any] | None) -> SyncBatch:
        known: dict[str, dict[str, int]] = {
            sid: dict(pos) for sid, pos in ((cursor or {}).get("windows") or {}).items()
        }
        ids = list(known)
        if session.provider_session_id and session.provider_session_id not in ids:
            ids.append(session.provider_session_id)
        reads_and_offsets = await asyncio.to_thread(self._read_windows, ids, known)
        reads = [r for r, _ in reads_and_offsets]
        batch, resume = build_batch(session, reads, cursor)
        for read, offsets in reads_and_offsets:
            sid = read.provider_session_id
            seq = resume[sid]
            known[sid] = {"seq": seq, "offset": offsets[seq]}
        batch.cursor["windows"] = known
        return batch

    def _read_windows(
        self, ids: list[str], known: dict[str, dict[str, int]]
    ) -> list[tuple[WindowRead, dict[int, int]]]:
        out = []
        for sid in ids:
            pos = known.get(sid) or {"seq": 0, "offset": 0}
            path = self._transcript(sid)
            try:
                with path.open("rb") as fh:
                    if pos["offset"] and not _continues(fh, pos["offset"]):
                        # Rewritten under us (shorter, or our offset is no longer a line
                        # start): read it again from the top; runs upsert by id, and the
                        # batch replaces the cached messages from seq 0.
                        log.warning("%s was rewritten; reading it again from the start", path)
                        pos = {"seq": 0, "offset": 0}
                    fh.seek(pos["offset"])
                    data = fh.read()
            except FileNotFoundError:
                if sid in known:
                    continue  # rolled over and archived: what we have is all there is
                data = b""
            base, seq = pos["offset"], pos["seq"]
            complete = complete_length(data)
            events: list[ParsedEvent] = []
            # seq -> byte offset of its line, so a resume seq maps back to a file position
            offsets = {seq: base}
            at = 0
            while at < complete:
                nl = data.find(b"\n", at, complete)
                line_end = nl if nl >= 0 else complete
                line = data[at:line_end].strip()
                at = line_end + 1 if nl >= 0 else complete
                if not line:
                    offsets[seq] = base + at
                    continue
                try:
                    events.append(parse_event(loads_event(line), seq))
                except EventDecodeError as exc:
                    raise SessionUnreadable(
                        f"transcript {path} line {seq + 1} cannot be decoded: {exc}"
                    ) from exc
                seq += 1
                offsets[seq] = base + at
            out.append((WindowRead(sid, events, pos["seq"], seq), offsets))
        return out


def _continues(fh: BinaryIO, offset: int) -> bool:
    """Whether ``offset`` (where our last read stopped) still ends a line of this file."""
    if os.fstat(fh.fileno()).st_size < offset:
        return False
    fh.seek(offset - 1)
    return fh.read(1) == b"\n"


def _stat(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}"
