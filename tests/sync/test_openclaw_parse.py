"""Parsing the recorded OpenClaw 2026.9.6 data: store, legacy files and gateway shapes."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from observatory.db.enums import MessageRole, RunStatus, RunTrigger, SessionKind, SessionStatus
from observatory.sync.openclaw import LegacyStore, SqliteStore, UnsupportedSchemaError
from observatory.sync.openclaw.derive import derive
from observatory.sync.openclaw.events import (
    complete_length,
    decode_row,
    event_from_history_item,
    parse_event,
)
from observatory.sync.openclaw.mapping import record_from_entry, session_kind
from observatory.sync.source import SessionSource, SourceUnavailable, SyncBatch

MAIN = "agent:sofia:main"
MAIN_SID = "15b6a2e8-2cda-4488-8add-f7cf4a717fdf"
EXPECTED_KINDS = {
    MAIN: SessionKind.MAIN,
    "agent:sofia:main:heartbeat": SessionKind.HEARTBEAT,
    "agent:sofia:subagent:59bb0f5c-ad6d-43f4-b35e-ab17b84fc9ee": SessionKind.TASK,
    "agent:sofia:cron:dca27c3f-a77a-48fc-baa6-eba0fe64c9e2": SessionKind.CRON,
}


async def sync_all(source: SessionSource) -> dict[str, SyncBatch]:
    out = {}
    for record in await source.list_sessions():
        out[record.key] = await source.fetch(record, None)
    await source.aclose()
    return out


def sqlite_store(fixtures: Path) -> SqliteStore:
    return SqliteStore(fixtures / "sqlite" / "openclaw-agent.sqlite")


def legacy_store(fixtures: Path) -> LegacyStore:
    return LegacyStore(fixtures / "sessions.json", fixtures / "transcripts")


@pytest.fixture(params=["sqlite", "legacy"])
def store(request: pytest.FixtureRequest, fixtures_dir: Path) -> SessionSource:
    return sqlite_store(fixtures_dir) if request.param == "sqlite" else legacy_store(fixtures_dir)


# -- every file parses -------------------------------------------------------------------------


def test_every_transcript_line_parses(fixtures_dir: Path) -> None:
    files = sorted((fixtures_dir / "transcripts").glob("*.jsonl"))
    assert len(files) == 4
    for path in files:
        lines = path.read_text().splitlines()
        events = [parse_event(json.loads(line), seq) for seq, line in enumerate(lines)]
        assert events[0].type == "session"
        assert all(e.type for e in events)
        assert any(e.role is MessageRole.ASSISTANT for e in events)


def test_every_gateway_file_and_entry_parses(fixtures_dir: Path) -> None:
    paths = sorted((fixtures_dir / "gateway").glob("*.json"))
    assert paths
    for path in paths:
        assert isinstance(json.loads(path.read_text()), dict), path.name
    sse = (fixtures_dir / "gateway" / "http.sessions.history.main.limit2.sse.txt").read_text()
    frames = [json.loads(line[5:]) for line in sse.splitlines() if line.startswith("data:")]
    assert frames and all(event_from_history_item(i) for f in frames for i in f["items"])
    entries = json.loads((fixtures_dir / "sessions.json").read_text())
    rows = json.loads((fixtures_dir / "session_rows.json").read_text())
    assert {r["session_nodes"]["session_key"] for r in rows} == set(entries)
    for key, entry in entries.items():
        record = record_from_entry(key, entry)
        assert record.kind is EXPECTED_KINDS[key]
        assert record.agent_id == "sofia"


def test_compressed_row_is_decoded(fixtures_dir: Path) -> None:
    row = json.loads((fixtures_dir / "transcript_event_compressed_row.json").read_text())
    event = decode_row(row["event_json"], base64.b64decode(row["event_zstd_base64"]))
    assert len(json.dumps(event, ensure_ascii=False).encode()) > 0
    line = (fixtures_dir / "transcripts" / f"{row['session_id']}.jsonl").read_text().splitlines()
    assert event == json.loads(line[row["seq"]])
    parsed = parse_event(event, row["seq"])
    assert parsed.role is MessageRole.TOOL_RESULT
    assert parsed.run_id == "68ff0097-69c5-4c1a-be27-e9ff057788e4"


def test_sqlite_store_decodes_its_compressed_rows(fixtures_dir: Path) -> None:
    conn = sqlite3.connect(fixtures_dir / "sqlite" / "openclaw-agent.sqlite")
    rows = conn.execute(
        "SELECT session_id, seq, event_zstd FROM transcript_events WHERE event_zstd IS NOT NULL"
    ).fetchall()
    conn.close()
    assert rows
    for sid, seq, blob in rows:
        line = (fixtures_dir / "transcripts" / f"{sid}.jsonl").read_text().splitlines()[seq]
        assert decode_row(None, blob) == json.loads(line)


# -- kinds, runs, totals ---------------------------------------------------------------------------


async def test_kinds_and_statuses(store: SessionSource) -> None:
    batches = await sync_all(store)
    assert {k: b.session.kind for k, b in batches.items()} == EXPECTED_KINDS
    assert all(b.session.status is SessionStatus.COMPLETED for b in batches.values())
    sub = batches["agent:sofia:subagent:59bb0f5c-ad6d-43f4-b35e-ab17b84fc9ee"].session
    assert sub.parent_key == MAIN
    assert sub.title == "observatory-summary"


async def test_runs_of_the_main_session(store: SessionSource) -> None:
    batch = (await sync_all(store))[MAIN]
    triggers = [r.trigger for r in batch.runs]
    assert triggers.count(RunTrigger.HEARTBEAT) == 1
    assert triggers.count(RunTrigger.ANNOUNCE) == 1
    assert triggers.count(RunTrigger.MESSAGE) == 4
    announce = next(r for r in batch.runs if r.trigger is RunTrigger.ANNOUNCE)
    assert announce.provider_run_id.startswith("announce:v1:")
    heartbeat = next(r for r in batch.runs if r.trigger is RunTrigger.HEARTBEAT)
    assert heartbeat.prompt_preview == "[OpenClaw heartbeat poll]"
    assert heartbeat.outcome_preview == "HEARTBEAT_OK"
    # the heartbeat prompt joins its run even though its idempotencyKey names another id
    prompt = next(m for m in batch.messages if m.seq == 24)
    assert prompt.role is MessageRole.USER and prompt.provider_run_id == heartbeat.provider_run_id
    read_run = next(r for r in batch.runs if r.provider_run_id.startswith("b7375cf4"))
    assert read_run.tool_call_count == 1 and read_run.tool_error_count == 0
    assert all(r.status is RunStatus.COMPLETED for r in batch.runs)
    assert all(r.duration_ms is not None and r.duration_ms >= 0 for r in batch.runs)
    kinds = {m.seq: [b.get("type") for b in m.content.to_json()["blocks"]] for m in batch.messages}
    compaction = next(m for m in batch.messages if kinds[m.seq] == ["compaction"])
    assert compaction.role is MessageRole.SYSTEM and compaction.seq == 26


async def test_other_session_triggers(store: SessionSource) -> None:
    batches = await sync_all(store)
    by_kind = {b.session.kind: b for b in batches.values()}
    assert [r.trigger for r in by_kind[SessionKind.CRON].runs] == [RunTrigger.CRON]
    assert [r.trigger for r in by_kind[SessionKind.TASK].runs] == [RunTrigger.SPAWN]
    assert [r.trigger for r in by_kind[SessionKind.HEARTBEAT].runs] == [RunTrigger.HEARTBEAT]


async def test_token_and_cost_sums_equal_gateway_usage(
    store: SessionSource, fixtures_dir: Path
) -> None:
    usage = json.loads((fixtures_dir / "gateway" / "sessions.usage.json").read_text())
    batches = await sync_all(store)
    assert {s["key"] for s in usage["sessions"]} == set(batches)
    for entry in usage["sessions"]:
        runs = batches[entry["key"]].runs
        expected = entry["usage"]
        assert sum(r.usage.input_tokens or 0 for r in runs) == expected["input"]
        assert sum(r.usage.output_tokens or 0 for r in runs) == expected["output"]
        assert sum(r.usage.cache_read_tokens or 0 for r in runs) == expected["cacheRead"]
        assert sum(r.usage.cache_write_tokens or 0 for r in runs) == expected["cacheWrite"]
        cost = sum((r.usage.cost for r in runs if r.usage.cost is not None), Decimal(0))
        assert abs(cost - Decimal(str(expected["totalCost"]))) < Decimal("1e-9")
        assigned = [m for m in batches[entry["key"]].messages if m.role is MessageRole.ASSISTANT]
        assert len(assigned) == expected["messageCounts"]["assistant"]


async def test_unknown_usage_stays_null(store: SessionSource) -> None:
    batch = (await sync_all(store))[MAIN]
    compaction_run = next(r for r in batch.runs if r.trigger is RunTrigger.OTHER)
    assert compaction_run.usage.input_tokens is None and compaction_run.usage.cost is None
    user = next(m for m in batch.messages if m.role is MessageRole.USER)
    assert user.usage.cost is None and user.usage.input_tokens is None


async def test_sqlite_and_legacy_layouts_agree(fixtures_dir: Path) -> None:
    a = await sync_all(sqlite_store(fixtures_dir))
    b = await sync_all(legacy_store(fixtures_dir))
    assert set(a) == set(b)
    for key in a:
        assert a[key].messages == b[key].messages
        assert a[key].runs == b[key].runs
        sa, sb = a[key].session, b[key].session
        assert (sa.kind, sa.status, sa.started_at, sa.ended_at, sa.title, sa.parent_key) == (
            sb.kind,
            sb.status,
            sb.started_at,
            sb.ended_at,
            sb.title,
            sb.parent_key,
        )


async def test_history_items_map_to_store_seqs(fixtures_dir: Path) -> None:
    history = json.loads((fixtures_dir / "gateway" / "http.sessions.history.main.json").read_text())
    store_batch = (await sync_all(sqlite_store(fixtures_dir)))[MAIN]
    by_seq = {m.seq: m for m in store_batch.messages}
    assert history["items"]
    for item in history["items"]:
        converted = event_from_history_item(item)
        assert converted is not None
        seq, event = converted
        parsed = parse_event(event, seq)
        stored = by_seq[seq]
        assert (parsed.role, parsed.event_id, parsed.timestamp) == (
            stored.role,
            stored.provider_event_id,
            stored.created_at,
        )
        if parsed.role is MessageRole.ASSISTANT:
            assert parsed.usage == stored.usage
    hidden = set(by_seq) - {event_from_history_item(i)[0] for i in history["items"]}  # type: ignore[index]
    assert {by_seq[s].provider_run_id for s in hidden} == {"505bf520-0f06-4c36-ac99-80a8cb16bf31"}


# -- incremental reads ----------------------------------------------------------------------------


def test_complete_length() -> None:
    assert complete_length(b'{"a":1}\n{"b":') == 8
    assert complete_length(b'{"a":1}\n{"b":2}') == 15  # whole object, newline not yet written
    assert complete_length(b"") == 0


async def test_truncated_last_line_is_ignored_until_complete(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    shutil.copy(fixtures_dir / "sessions.json", tmp_path / "sessions.json")
    full = (fixtures_dir / "transcripts" / f"{MAIN_SID}.jsonl").read_bytes()
    lines = full.splitlines(keepends=True)
    cut = sum(len(line) for line in lines[:20]) + len(lines[20]) // 2
    transcript = tmp_path / f"{MAIN_SID}.jsonl"
    transcript.write_bytes(full[:cut])
    source = LegacyStore(tmp_path / "sessions.json", tmp_path)
    record = next(r for r in await source.list_sessions() if r.key == MAIN)
    first = await source.fetch(record, None)
    assert max(m.seq for m in first.messages) == 19  # line 20 is half written
    assert first.cursor["windows"][MAIN_SID]["seq"] <= 20

    again = await source.fetch(record, first.cursor)  # nothing new: same partial view
    assert max(m.seq for m in again.messages) == 19

    transcript.write_bytes(full)  # the writer finishes the line and goes on
    record = next(r for r in await source.list_sessions() if r.key == MAIN)
    second = await source.fetch(record, again.cursor)
    assert min(m.seq for m in second.messages) >= first.cursor["windows"][MAIN_SID]["seq"]
    merged = {m.seq: m for m in first.messages} | {m.seq: m for m in second.messages}
    whole = await legacy_store(fixtures_dir).fetch(record, None)
    assert merged == {m.seq: m for m in whole.messages}
    run_ids = {r.provider_run_id for r in second.runs}
    assert {r.provider_run_id for r in whole.runs if r.started_at >= second.runs[0].started_at} == (
        run_ids
    )


async def test_sqlite_resume_rereads_only_the_last_run(fixtures_dir: Path) -> None:
    store = sqlite_store(fixtures_dir)
    record = next(r for r in await store.list_sessions() if r.key == MAIN)
    first = await store.fetch(record, None)
    second = await store.fetch(record, first.cursor)
    await store.aclose()
    last_run = first.runs[-1]
    assert [r.provider_run_id for r in second.runs] == [last_run.provider_run_id]
    assert second.runs[0] == last_run
    assert second.cursor == first.cursor


# -- refusing what we do not understand --------------------------------------------------------------


def _copy_store(fixtures_dir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "openclaw-agent.sqlite"
    shutil.copy(fixtures_dir / "sqlite" / "openclaw-agent.sqlite", path)
    return path


async def test_unknown_schema_version_is_refused(fixtures_dir: Path, tmp_path: Path) -> None:
    path = _copy_store(fixtures_dir, tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_meta SET schema_version = 24")
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    with pytest.raises(UnsupportedSchemaError, match=r"schema_version 24 .*supported: 23"):
        await store.list_sessions()


async def test_store_is_opened_read_only(fixtures_dir: Path, tmp_path: Path) -> None:
    path = _copy_store(fixtures_dir, tmp_path)
    before = path.read_bytes()
    store = SqliteStore(path)
    await store.list_sessions()

    def write(conn: sqlite3.Connection) -> Any:
        return conn.execute("DELETE FROM session_nodes")

    with pytest.raises(SourceUnavailable, match="readonly"):
        await store._call(write)
    await store.aclose()
    assert path.read_bytes() == before


async def test_busy_store_is_retried_then_reported(fixtures_dir: Path, tmp_path: Path) -> None:
    path = _copy_store(fixtures_dir, tmp_path)
    locker = sqlite3.connect(path, check_same_thread=False)
    locker.execute("PRAGMA journal_mode=DELETE")
    locker.execute("BEGIN EXCLUSIVE")
    store = SqliteStore(path, busy_timeout=0.05, busy_retries=2)
    with pytest.raises(SourceUnavailable, match="locked"):
        await store.list_sessions()
    await store.aclose()

    patient = SqliteStore(path, busy_timeout=0.05, busy_retries=8)
    threading.Timer(0.3, locker.rollback).start()
    started = time.monotonic()
    records = await patient.list_sessions()
    assert len(records) == 4 and time.monotonic() - started >= 0.2
    await patient.aclose()
    locker.close()


# -- derivation details ---------------------------------------------------------------------------


def _msg(seq: int, role: str, ts: int, **extra: Any) -> dict[str, Any]:
    message = {"role": role, "timestamp": ts, **extra}
    return {
        "type": "message",
        "id": f"e{seq}",
        "parentId": None,
        "timestamp": ts,
        "message": message,
    }


def test_errors_and_open_runs() -> None:
    events = [
        _msg(1, "user", 1000, content="do it", idempotencyKey="r1:user"),
        _msg(
            2,
            "assistant",
            2000,
            content=[{"type": "toolCall", "id": "c1", "name": "exec", "arguments": {}}],
            stopReason="toolUse",
            usage={"input": 10, "output": 2, "cost": {"total": 0.5}},
            __openclaw={"runId": "r1"},
        ),
        _msg(
            3,
            "toolResult",
            2500,
            toolCallId="c1",
            toolName="exec",
            content=[{"type": "text", "text": "boom"}],
            isError=True,
            __openclaw={"runId": "r1"},
        ),
        _msg(
            4,
            "assistant",
            3000,
            content=[],
            stopReason="error",
            errorMessage="provider overloaded",
            usage={"input": 5, "output": 0},
            __openclaw={"runId": "r1"},
        ),
        _msg(5, "user", 4000, content="again"),
        _msg(
            6,
            "assistant",
            4500,
            content=[{"type": "toolCall", "id": "c2", "name": "exec", "arguments": {}}],
            stopReason="toolUse",
            __openclaw={"runId": "r2"},
        ),
    ]
    parsed = [parse_event(e, i + 1) for i, e in enumerate(events)]
    result = derive(parsed, "s1", kind=SessionKind.MAIN, active=True, next_seq=7)
    r1, r2 = result.runs
    assert r1.status is RunStatus.FAILED and r1.error == "provider overloaded"
    assert r1.tool_error_count == 1 and r1.tool_call_count == 1
    assert r1.usage.input_tokens == 15 and r1.usage.cost == Decimal("0.5")  # unknown cost is not 0
    assert r2.status is RunStatus.RUNNING and r2.finished_at is None
    assert r2.usage.input_tokens is None
    assert result.resume_seq == 5  # the open run is read again next time
    assert [m.is_error for m in result.messages] == [False, False, True, True, False, False]
    closed = derive(parsed, "s1", kind=SessionKind.MAIN, active=False, next_seq=7)
    assert closed.runs[1].status is RunStatus.COMPLETED


def test_transcripts_without_run_ids_get_one_run_per_turn() -> None:
    events = [
        _msg(1, "user", 1000, content="one", idempotencyKey="k1:user"),
        _msg(2, "assistant", 1100, content=[{"type": "text", "text": "a"}], stopReason="stop"),
        _msg(3, "user", 2000, content="two"),
        _msg(4, "assistant", 2100, content=[{"type": "text", "text": "b"}], stopReason="stop"),
    ]
    parsed = [parse_event(e, i + 1) for i, e in enumerate(events)]
    result = derive(parsed, "s9", kind=SessionKind.OTHER, active=False, next_seq=5)
    assert [r.provider_run_id for r in result.runs] == ["k1", "turn:s9:3"]
    assert [r.trigger for r in result.runs] == [RunTrigger.MESSAGE, RunTrigger.MESSAGE]


def test_prompt_without_answer_waits() -> None:
    parsed = [parse_event(_msg(1, "user", 1000, content="hello?"), 7)]
    result = derive(parsed, "s", kind=SessionKind.MAIN, active=True, next_seq=8)
    assert result.runs == [] and result.resume_seq == 7
    assert result.messages[0].provider_run_id is None


@pytest.mark.parametrize(
    ("key", "kwargs", "kind"),
    [
        ("agent:a:main", {}, SessionKind.MAIN),
        ("agent:a:main:heartbeat", {}, SessionKind.HEARTBEAT),
        ("agent:a:subagent:x", {}, SessionKind.TASK),
        ("agent:a:cron:job:run:abc", {}, SessionKind.CRON),
        ("agent:a:telegram:group:42", {}, SessionKind.CHANNEL),
        ("agent:a:whatever", {"created_via": "spawn"}, SessionKind.TASK),
        ("agent:a:whatever", {}, SessionKind.OTHER),
        ("agent:a:whatever", {"classification": "heartbeat"}, SessionKind.HEARTBEAT),
    ],
)
def test_session_kind_grammar(key: str, kwargs: dict[str, Any], kind: SessionKind) -> None:
    assert session_kind(key, **kwargs) is kind


def test_provider_status_mapping() -> None:
    base = {"updatedAt": 1, "createdAt": 1}
    for status, ours in [
        ("running", SessionStatus.RUNNING),
        ("done", SessionStatus.COMPLETED),
        ("failed", SessionStatus.FAILED),
        ("killed", SessionStatus.FAILED),
        ("timeout", SessionStatus.FAILED),
        ("archived", None),
    ]:
        assert record_from_entry("agent:a:main", {**base, "status": status}).status is ours


# -- configuration ----------------------------------------------------------------------------


async def test_state_dir_discovery_prefers_the_sqlite_store(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    from observatory.sync.openclaw import OpenClawSource, from_config
    from observatory.sync.source import SourceConfigError

    agent = tmp_path / "agents" / "sofia"
    (agent / "agent").mkdir(parents=True)
    (agent / "sessions").mkdir()
    shutil.copy(fixtures_dir / "sqlite" / "openclaw-agent.sqlite", agent / "agent")
    shutil.copy(fixtures_dir / "sessions.json", agent / "sessions")  # legacy leftovers
    other = tmp_path / "agents" / "bob" / "sessions"
    other.mkdir(parents=True)
    (other / "sessions.json").write_text("{}")

    source = from_config("openclaw", {"state_dir": str(tmp_path), "gateway_url": "ws://x:1"})
    assert isinstance(source, OpenClawSource)
    assert [type(t).__name__ for t in source.transports] == ["LegacyStore", "SqliteStore"]
    assert len(await source.list_sessions()) == 4
    await source.aclose()

    only = from_config("openclaw", {"state_dir": str(tmp_path), "agents": ["sofia"]})
    assert [type(t).__name__ for t in only.transports] == ["SqliteStore"]
    remote = from_config(
        "openclaw", {"state_dir": str(tmp_path / "elsewhere"), "gateway_url": "ws://x:1"}
    )
    assert [type(t).__name__ for t in remote.transports] == ["GatewaySource"]
    await remote.aclose()
    with pytest.raises(SourceConfigError):
        from_config("openclaw-store", {"state_dir": str(tmp_path / "elsewhere")})
    with pytest.raises(SourceConfigError):
        from_config("openclaw", {})
