"""``observatory sources add|list|remove|disable`` and ``observatory sync --once``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sync_helpers import count

from observatory.cli import main


async def cli(*argv: str) -> int:
    # the CLI runs its own event loop: keep it off the test's loop
    return await asyncio.to_thread(main, list(argv))


async def test_sources_and_sync_once(
    clean_db: AsyncEngine,
    db_url: str,
    fixtures_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OBSERVATORY_DATABASE_URL", db_url)
    store = str(fixtures_dir / "sqlite" / "openclaw-agent.sqlite")
    assert await cli("sources", "add", "sofia", "--store", store) == 0
    assert await cli("sources", "add", "bad") == 2  # nothing to read from
    assert await cli("sync", "--once") == 0
    err = capsys.readouterr().err
    assert "sync sofia: 4/4 sessions, 23 messages" in err  # progress on stderr
    assert "sofia: ok - 4/4 sessions synced (4 new), 10 runs, 23 messages" in err
    assert await count(clean_db, "SELECT count(*) FROM sessions") == 4

    assert await cli("sources", "list") == 0
    out = capsys.readouterr().out
    assert "sofia [openclaw] sessions=4 circuit=closed failures=0" in out

    assert await cli("sources", "remove", "sofia") == 1  # it has sessions: disable instead
    assert await cli("sources", "disable", "sofia") == 0
    assert await cli("sync", "--once", "--quiet") == 0
    assert "no enabled sources" in capsys.readouterr().err

    assert (
        await cli("sources", "add", "gw", "--gateway-url", "ws://127.0.0.1:9", "--token-env", "X")
        == 0
    )
    assert "gw (openclaw)" in capsys.readouterr().out
    assert await cli("sources", "remove", "gw") == 0
    assert await count(clean_db, "SELECT count(*) FROM sync_sources") == 1
