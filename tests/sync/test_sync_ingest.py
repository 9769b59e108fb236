"""Ingestion into PostgreSQL: totals, idempotency, crashes, incremental files, pruning."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sync_helpers import POLICY, Clock, add_source, count, snapshot

from observatory.settings import load_settings
from observatory.sync import ingest
from observatory.sync.runner import ENV_SOURCE_NAME, default_factory, sync_once
from observatory.sync.source import SessionRecord, SessionSource, SyncBatch

MAIN = "agent:sofia:main"
MAIN_SID = "15b6a2e8-2cda-4488-8add-f7cf4a717fdf"


def store_config(fixtures: Path) -> dict[str, Any]:
    return {"store_paths": [str(fixtures / "sqlite" / "openclaw-agent.sqlite")]}


def legacy_dir(fixtures: Path, tmp: Path) -> Path:
    shutil.copy(fixtures / "sessions.json", tmp / "sessions.json")
    for path in (fixtures / "transcripts").glob("*.jsonl"):
        shutil.copy(path, tmp / path.name)
    return tmp


async def run(engine: AsyncEngine, **kw: Any) -> Any:
    kw.setdefault("policy", POLICY)
    kw.setdefault("force", True)
    settings = kw.pop("settings", None) or load_settings()
    return await sync_once(engine, settings, **kw)


async def test_store_sync_matches_gateway_usage(clean_db: AsyncEngine, fixtures_dir: Path) -> None:
    engine = clean_db
    src = await add_source(engine, "sofia", store_config(fixtures_dir))
    report = await run(engine)
    assert report.ok, report
    [rep] = report.sources
    assert (rep.sessions_listed, rep.sessions_synced, rep.sessions_created) == (4, 4, 4)
    assert (rep.runs, rep.messages) == (10, 23)
    usage = json.loads((fixtures_dir / "gateway" / "sessions.usage.json").read_text())
    async with engine.connect() as conn:
        rows = {
            r.key: r
            for r in await conn.execute(
                text("SELECT key, total_tokens, total_cost, run_count FROM sessions")
            )
        }
        by_kind = dict(
            (await conn.execute(text("SELECT kind, count(*) FROM sessions GROUP BY kind"))).all()
        )
    assert by_kind == {"main": 1, "task": 1, "cron": 1, "heartbeat": 1}
    assert usage["sessions"]
    for entry in usage["sessions"]:
        row = rows[entry["key"]]
        assert row.total_tokens == entry["usage"]["totalTokens"]
        assert abs(row.total_cost - Decimal(str(entry["usage"]["totalCost"]))) < Decimal("1e-8")
    heartbeats_in_main = await count(
        engine,
        "SELECT count(*) FROM runs r JOIN sessions s ON s.id = r.session_id "
        "WHERE s.key = :k AND r.trigger = 'heartbeat'",
        k=MAIN,
    )
    assert heartbeats_in_main == 1
    assert await count(engine, "SELECT count(*) FROM runs WHERE trigger = 'heartbeat'") == 2
    # every message that belongs to a run is linked to it
    assert (
        await count(
            engine,
            "SELECT count(*) FROM messages WHERE provider_run_id IS NOT NULL AND run_id IS NULL",
        )
        == 0
    )
    assert await count(engine, "SELECT count(*) FROM agents WHERE id = 'sofia'") == 1
    status = await count(
        engine,
        "SELECT count(*) FROM sync_sources WHERE id = :i AND last_success_at IS NOT NULL",
        i=src,
    )
    assert status == 1


async def test_sync_twice_changes_nothing(clean_db: AsyncEngine, fixtures_dir: Path) -> None:
    engine = clean_db
    await add_source(engine, "sofia", store_config(fixtures_dir))
    await run(engine)
    first = await snapshot(engine)
    again = await run(engine)
    assert again.sources[0].sessions_synced == 0  # unchanged fingerprints: nothing re-read
    assert await snapshot(engine) == first
    # re-read from the stored cursors (the last run of each session is read again)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE sessions SET sync_cursor = sync_cursor - 'fp'"))
    assert (await run(engine)).sources[0].sessions_synced == 4
    assert await snapshot(engine) == first
    # and from scratch
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE sessions SET sync_cursor = '{}'"))
    await run(engine)
    assert await snapshot(engine) == first


class Exploding:
    """Wraps a source: fetching the n-th session raises, like a crash mid-pass."""

    def __init__(self, inner: SessionSource, fail_at: int) -> None:
        self.inner = inner
        self.fail_at = fail_at
        self.fetched = 0
        self.provider = inner.provider

    async def list_sessions(self) -> list[SessionRecord]:
        return await self.inner.list_sessions()

    async def fetch(self, session: SessionRecord, cursor: Mapping[str, Any] | None) -> SyncBatch:
        self.fetched += 1
        if self.fetched == self.fail_at:
            raise RuntimeError("killed half way")
        return await self.inner.fetch(session, cursor)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_killed_half_way_then_rerun(
    clean_db: AsyncEngine, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = clean_db
    await add_source(engine, "sofia", store_config(fixtures_dir))
    await run(engine)
    reference = await snapshot(engine)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE messages, runs, sessions RESTART IDENTITY CASCADE"))

    # 1) the provider side dies before the third session
    report = await run(engine, factory=lambda k, c: Exploding(default_factory(k, c), 3))
    assert not report.ok and "killed half way" in (report.sources[0].error or "")
    assert await count(engine, "SELECT count(*) FROM sessions") == 2
    partial = await snapshot(engine)
    for key in {row[0] for row in partial["sessions"]}:  # committed sessions are whole
        assert [r for r in partial["messages"] if r[0] == key] == [
            r for r in reference["messages"] if r[0] == key
        ]

    # 2) the database write dies in the middle of a session: that session is rolled back whole
    real = ingest._upsert_messages
    calls = {"n": 0}

    async def dying(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("killed between runs and messages")
        await real(*args, **kwargs)

    monkeypatch.setattr(ingest, "_upsert_messages", dying)
    report = await run(engine)
    assert not report.ok
    assert await count(engine, "SELECT count(*) FROM sessions") == 2
    assert (
        await count(
            engine,
            "SELECT count(*) FROM runs r WHERE NOT EXISTS "
            "(SELECT 1 FROM messages m WHERE m.run_id = r.id)",
        )
        == 0
    )
    monkeypatch.setattr(ingest, "_upsert_messages", real)

    report = await run(engine)
    assert report.ok
    assert await snapshot(engine) == reference


async def test_legacy_files_grow_and_roll_over(
    clean_db: AsyncEngine, fixtures_dir: Path, tmp_path: Path
) -> None:
    engine = clean_db
    legacy = legacy_dir(fixtures_dir, tmp_path)
    await add_source(engine, "legacy", {"sessions_json": str(legacy / "sessions.json")})
    await run(engine)
    reference = await snapshot(engine)

    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE messages, runs, sessions RESTART IDENTITY CASCADE"))
    transcript = legacy / f"{MAIN_SID}.jsonl"
    full = transcript.read_bytes()
    lines = full.splitlines(keepends=True)
    for upto in (9, 15):  # the agent is mid-way, mid-line
        partial = b"".join(lines[:upto]) + lines[upto][:40]
        transcript.write_bytes(partial)
        assert (await run(engine)).ok
    transcript.write_bytes(full)
    assert (await run(engine)).ok
    assert await snapshot(engine) == reference

    # reset: the key gets a new session id; the old transcript stays cached
    entries = json.loads((legacy / "sessions.json").read_text())
    new_sid = "99999999-0000-4000-8000-000000000001"
    entries[MAIN]["sessionId"] = new_sid
    entries[MAIN]["updatedAt"] += 60_000
    (legacy / "sessions.json").write_text(json.dumps(entries))
    fresh = [
        {"type": "session", "version": 4, "id": new_sid, "timestamp": "2026-11-25T02:00:00.000Z"},
        {
            "type": "message",
            "id": "n1",
            "parentId": None,
            "timestamp": "2026-11-25T02:00:01.000Z",
            "message": {"role": "user", "content": "after reset", "timestamp": 1795572001000},
        },
        {
            "type": "message",
            "id": "n2",
            "parentId": "n1",
            "timestamp": "2026-11-25T02:00:02.000Z",
            "message": {
                "role": "assistant",
                "content": [{"type": "text", "text": "hi again"}],
                "stopReason": "stop",
                "timestamp": 1795572002000,
                "usage": {"input": 7, "output": 3, "cost": {"total": 0.001}},
                "__openclaw": {"runId": "after-reset"},
            },
        },
    ]
    (legacy / f"{new_sid}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in fresh))
    assert (await run(engine)).ok
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT id, provider_session_id, run_count FROM sessions WHERE key = :k"),
                {"k": MAIN},
            )
        ).one()
        windows = dict(
            (
                await conn.execute(
                    text(
                        "SELECT provider_session_id, count(*) FROM messages "
                        "WHERE session_id = :s GROUP BY 1"
                    ),
                    {"s": row.id},
                )
            ).all()
        )
    assert row.provider_session_id == new_sid and row.run_count == 8
    assert windows == {MAIN_SID: 17, new_sid: 2}


async def test_missing_sessions_are_pruned_not_deleted(
    clean_db: AsyncEngine, fixtures_dir: Path, tmp_path: Path
) -> None:
    engine = clean_db
    legacy = legacy_dir(fixtures_dir, tmp_path)
    await add_source(engine, "legacy", {"sessions_json": str(legacy / "sessions.json")})
    clock = Clock()
    await run(engine, clock=clock)
    entries = json.loads((legacy / "sessions.json").read_text())
    gone = "agent:sofia:subagent:59bb0f5c-ad6d-43f4-b35e-ab17b84fc9ee"
    kept = entries.pop(gone)
    (legacy / "sessions.json").write_text(json.dumps(entries))
    clock.advance(60)
    report = await run(engine, clock=clock)
    assert report.sources[0].pruned == 1
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT id, pruned_at, run_count FROM sessions WHERE key = :k"), {"k": gone}
            )
        ).one()
    assert row.pruned_at == clock.now and row.run_count == 1
    assert await count(engine, "SELECT count(*) FROM messages WHERE session_id = :s", s=row.id) == 2

    entries[gone] = kept  # it comes back (e.g. restored): no longer pruned
    (legacy / "sessions.json").write_text(json.dumps(entries))
    await run(engine, clock=clock)
    assert await count(engine, "SELECT count(*) FROM sessions WHERE pruned_at IS NOT NULL") == 0


async def test_archived_is_ours_to_keep(clean_db: AsyncEngine, fixtures_dir: Path) -> None:
    engine = clean_db
    await add_source(engine, "sofia", store_config(fixtures_dir))
    await run(engine)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE sessions SET status = 'archived', archived_at = now(), "
                "sync_cursor = '{}' WHERE key = :k"
            ),
            {"k": MAIN},
        )
    await run(engine)
    assert (
        await count(
            engine, "SELECT count(*) FROM sessions WHERE key = :k AND status = 'archived'", k=MAIN
        )
        == 1
    )


async def test_env_source_comes_from_the_settings_given(
    clean_db: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner reads the Settings it is handed, never the environment again."""
    monkeypatch.delenv("OBSERVATORY_OPENCLAW_STATE_DIR", raising=False)
    given = dataclasses.replace(load_settings(), openclaw_state_dir=str(tmp_path))
    await run(clean_db, settings=given, names=["none-such"])
    async with clean_db.connect() as conn:
        rows = (await conn.execute(text("SELECT name, config FROM sync_sources"))).all()
    assert [(r.name, r.config) for r in rows] == [(ENV_SOURCE_NAME, {"state_dir": str(tmp_path)})]
