"""One unreadable session is quarantined; the rest of its source keeps syncing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sync_helpers import POLICY, add_source, source_row

from observatory.settings import load_settings
from observatory.sync.runner import sync_once

POISONED = "15b6a2e8-2cda-4488-8add-f7cf4a717fdf"  # the main session's provider id


def _copy_store(fixtures: Path, tmp: Path) -> Path:
    for path in (fixtures / "sqlite").iterdir():
        shutil.copy(path, tmp / path.name)
    return tmp / "openclaw-agent.sqlite"


def _octets(value: object) -> int | None:
    if value is None:
        return None
    return len(value if isinstance(value, bytes) else str(value).encode())


def _write(store: Path, statement: str, *args: object) -> None:
    conn = sqlite3.connect(store)
    # The store's CHECK constraints call octet_length(), which Debian 12's SQLite lacks.
    conn.create_function("octet_length", 1, _octets)
    conn.execute("PRAGMA ignore_check_constraints = ON")  # write what a corrupt store holds
    try:
        conn.execute(statement, args)
        conn.commit()
    finally:
        conn.close()


async def _sessions(engine: AsyncEngine) -> dict[str, tuple[str | None, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT s.provider_session_id, s.sync_error, "
                "(SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS n FROM sessions s"
            )
        )
        return {r.provider_session_id: (r.sync_error, int(r.n)) for r in rows}


async def test_one_poisoned_session_among_healthy_ones(
    clean_db: AsyncEngine, fixtures_dir: Path, tmp_path: Path
) -> None:
    store = _copy_store(fixtures_dir, tmp_path)
    conn = sqlite3.connect(store)
    original = conn.execute(
        "SELECT seq, event_json, event_zstd FROM transcript_events WHERE session_id = ? "
        "ORDER BY seq LIMIT 1",
        (POISONED,),
    ).fetchone()
    conn.close()
    assert original is not None
    # Bad zstd in one row of one session (the failure of issue 10).
    _write(
        store,
        "UPDATE transcript_events SET event_json = NULL, event_zstd = ? "
        "WHERE session_id = ? AND seq = ?",
        b"\x28\xb5\x2f\xfd garbage",
        POISONED,
        original[0],
    )
    src = await add_source(clean_db, "sofia", {"store_paths": [str(store)]})

    for _ in range(2):  # the poisoned session is retried; the source never fails
        report = await sync_once(clean_db, load_settings(), policy=POLICY, force=True)
        assert report.ok, report
        [rep] = report.sources
        assert rep.outcome == "ok"
        assert rep.sessions_quarantined == 1
        row = await source_row(clean_db, src)
        assert row.circuit_state == "closed" and row.consecutive_failures == 0

    sessions = await _sessions(clean_db)
    assert len(sessions) == 4
    error, messages = sessions[POISONED]
    assert error is not None and "cannot be decoded" in error
    healthy = [v for k, v in sessions.items() if k != POISONED]
    assert healthy and all(e is None and n > 0 for e, n in healthy)

    # Repaired at the provider: the next pass reads it and clears the error.
    _write(
        store,
        "UPDATE transcript_events SET event_json = ?, event_zstd = ? WHERE session_id = ? AND seq = ?",
        original[1],
        original[2],
        POISONED,
        original[0],
    )
    report = await sync_once(clean_db, load_settings(), policy=POLICY, force=True)
    assert report.sources[0].sessions_quarantined == 0
    error, messages = (await _sessions(clean_db))[POISONED]
    assert error is None and messages > 0


async def test_source_level_failures_say_what_happened(
    clean_db: AsyncEngine, tmp_path: Path
) -> None:
    not_sqlite = tmp_path / "openclaw-agent.sqlite"
    not_sqlite.write_bytes(b"this is not a database at all" * 100)
    cases = {
        "missing": ({"store_paths": [str(tmp_path / "nope.sqlite")]}, "file missing"),
        "garbage": ({"store_paths": [str(not_sqlite)]}, "is not an SQLite database"),
        "nodir": ({"state_dir": str(tmp_path / "gone")}, "state directory"),
    }
    for name, (config, _) in cases.items():
        await add_source(clean_db, name, config)
    report = await sync_once(clean_db, load_settings(), policy=POLICY, force=True)
    by_name = {r.name: r for r in report.sources}
    for name, (_, expected) in cases.items():
        assert by_name[name].outcome == "failed"
        assert expected in (by_name[name].error or ""), by_name[name].error
