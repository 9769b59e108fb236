"""OpenClaw's cold transcript archives (``session_transcript_cold_archives``, ``*.jsonl.zst``):
a session moved to cold storage reads exactly as it did while its rows were hot."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import zstandard

from observatory.sync.openclaw import SqliteStore
from observatory.sync.openclaw.events import decode_row
from observatory.sync.source import SourceUnavailable, SyncBatch

SUBAGENT = "agent:sofia:subagent:59bb0f5c-ad6d-43f4-b35e-ab17b84fc9ee"
SUBAGENT_SID = "25710d2c-744e-4d6e-b09a-1da014eb6a07"


async def read(store_path: Path, key: str) -> SyncBatch:
    store = SqliteStore(store_path)
    try:
        record = next(r for r in await store.list_sessions() if r.key == key)
        return await store.fetch(record, None)
    finally:
        await store.aclose()


def archive(store_path: Path, sid: str, *, storage: str) -> Path:
    """Do what OpenClaw's cold-storage maintenance does to one session id: write its events as
    a zstd JSONL archive (a file under sessions/cold/, or a blob), drop the hot rows."""
    conn = sqlite3.connect(store_path)
    try:
        rows = conn.execute(
            "SELECT seq, event_json, event_zstd FROM transcript_events WHERE session_id = ? "
            "ORDER BY seq",
            (sid,),
        ).fetchall()
        assert rows and [r[0] for r in rows] == list(range(len(rows)))
        raw = "".join(json.dumps(decode_row(ej, ez)) + "\n" for _, ej, ez in rows).encode()
        # No content size in the frame header, as a streaming writer leaves it.
        blob = zstandard.ZstdCompressor(write_content_size=False).compress(raw)
        sha = hashlib.sha256(blob).hexdigest()
        name = f"{sha}.jsonl.zst"
        path = store_path.parent.parent / "sessions" / "cold" / name
        if storage == "file":
            path.parent.mkdir(parents=True)
            path.write_bytes(blob)
        conn.execute(
            "INSERT INTO session_transcript_cold_archives (session_id, generation, archive_name, "
            "archive_sha256, event_count, raw_bytes, archive_bytes, last_seq, archived_at, "
            "storage, archive_blob) VALUES (?, 'g1', ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            (
                sid,
                name,
                sha,
                len(rows),
                len(raw),
                len(blob),
                rows[-1][0],
                storage,
                blob if storage == "sqlite" else None,
            ),
        )
        conn.execute("DELETE FROM transcript_events WHERE session_id = ?", (sid,))
        conn.commit()
    finally:
        conn.close()
    return path


@pytest.mark.parametrize("storage", ["file", "sqlite"])
async def test_cold_archive_reads_like_hot_rows(
    fixtures_dir: Path, tmp_path: Path, storage: str
) -> None:
    original = fixtures_dir / "sqlite" / "openclaw-agent.sqlite"
    hot = await read(original, SUBAGENT)
    assert hot.messages and hot.runs
    agent = tmp_path / "agents" / "sofia" / "agent"
    agent.mkdir(parents=True)
    copy = agent / "openclaw-agent.sqlite"
    shutil.copy(original, copy)
    archive(copy, SUBAGENT_SID, storage=storage)
    cold = await read(copy, SUBAGENT)
    assert cold.messages == hot.messages
    assert cold.runs == hot.runs
    assert cold.cursor == hot.cursor


async def test_missing_cold_file_is_a_source_error(fixtures_dir: Path, tmp_path: Path) -> None:
    agent = tmp_path / "agents" / "sofia" / "agent"
    agent.mkdir(parents=True)
    copy = agent / "openclaw-agent.sqlite"
    shutil.copy(fixtures_dir / "sqlite" / "openclaw-agent.sqlite", copy)
    archive(copy, SUBAGENT_SID, storage="file").unlink()
    with pytest.raises(SourceUnavailable, match="not found"):
        await read(copy, SUBAGENT)
