"""`observatory export`: every format, filters, nulls kept, progress on stderr."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import asyncpg
import pyarrow.parquet as pq
import pytest

from observatory.cli import build_parser
from observatory.db.engine import asyncpg_dsn
from observatory.export.cli import run_export
from tests.export.conftest import ANCHOR


async def export(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[str, str]:
    """The CLI in-process (a subprocess per call costs seconds on a busy machine)."""
    monkeypatch.setenv("OBSERVATORY_DATABASE_URL", db_url)
    assert await run_export(build_parser().parse_args(["export", *args])) == 0
    out = capsys.readouterr()
    return out.out, out.err


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(), newline="")))


async def _count(db_url: str, sql: str, *params: object) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        return int(await conn.fetchval(sql, *params))
    finally:
        await conn.close()


async def test_jsonl_csv_parquet_agree_with_the_database(
    export_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    what = "sessions,runs,messages,reviews"
    for fmt in ("jsonl", "csv", "parquet"):
        _, err = await export(
            export_db,
            monkeypatch,
            capsys,
            "--what",
            what,
            "--format",
            fmt,
            "--out",
            str(tmp_path / fmt),
        )
        assert "sessions:" in err and "rows" in err
    for table in what.split(","):
        expected = await _count(export_db, f"SELECT count(*) FROM {table}")
        assert expected > 0, table
        lines = (tmp_path / "jsonl" / f"{table}.jsonl").read_text().splitlines()
        rows = _csv(tmp_path / "csv" / f"{table}.csv")
        parquet = pq.read_table(tmp_path / "parquet" / f"{table}.parquet")
        assert len(lines) == len(rows) == parquet.num_rows == expected, table

    # Unknown cost stays unknown in every format (never 0).
    runs = [
        json.loads(line) for line in (tmp_path / "jsonl" / "runs.jsonl").read_text().splitlines()
    ]
    nulls = {r["id"] for r in runs if r["cost"] is None}
    assert nulls, "the demo data has runs without cost"
    assert {int(r["id"]) for r in _csv(tmp_path / "csv" / "runs.csv") if r["cost"] == ""} == nulls
    table = pq.read_table(tmp_path / "parquet" / "runs.parquet", columns=["id", "cost"]).to_pylist()
    assert {r["id"] for r in table if r["cost"] is None} == nulls


async def test_time_and_agent_filters(
    export_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    since = ANCHOR - timedelta(days=2)
    out, _ = await export(
        export_db, monkeypatch, capsys,
        "--what", "runs", "--since", since.isoformat(), "--agent", "atlas", "--out", "-",
    )  # fmt: skip
    rows = [json.loads(line) for line in out.splitlines()]
    expected = await _count(
        export_db, "SELECT count(*) FROM runs WHERE started_at >= $1 AND agent_id = 'atlas'", since
    )
    assert expected > 0 and len(rows) == expected
    assert all(r["agent_id"] == "atlas" and r["started_at"] >= since.isoformat() for r in rows)
