"""The tool-error fingerprint: the same error with other ids, paths, numbers or quoted values
is one group; different errors are not."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

SAME = [
    [
        "ENOENT: no such file or directory, open '/srv/app/config.yml'",
        "ENOENT: no such file or directory, open '/home/u/other/file.json'",
    ],
    [
        "Command failed with exit code 1: npm test",
        "Command failed with exit code 127: npm test",
    ],
    [
        "cannot read /var/lib/data/0f3a.json: permission denied",
        "cannot read ./tmp/x.json: permission denied",
    ],
    [
        "session 6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f not found (call call_8f3a2b1c9d)",
        "session 00000000-1111-4222-8333-444444444444 not found (call toolu_01AbCdEf99)",
    ],
    [
        "Command timed out after 30000 ms: pytest tests/test_173.py",
        "Command timed out after 60000 ms: pytest ./tests/unit/test_9.py",
    ],
    [
        "fetch https://api.github.com/repos/a/b failed: HTTP 502",
        "fetch https://example.org/x?y=1 failed: HTTP 504",
    ],
    [
        "TimeoutError: navigation timeout of 30000 ms exceeded",
        "TimeoutError:   navigation timeout of 45000.5 ms\nexceeded",
    ],
    [
        'Unknown tool "web_fetch"; did you mean "web_search"?',
        'Unknown tool "shell"; did you mean "exec"?',
    ],
]
DIFFERENT = [
    "ENOENT: no such file or directory, open '/srv/app/config.yml'",
    "EACCES: permission denied, open '/srv/app/config.yml'",
    "Command failed with exit code 1: npm test",
    "TimeoutError: navigation timeout of 30000 ms exceeded",
    "HTTP 429 Too Many Requests",
    'Unknown tool "shell"; did you mean "exec"?',
]


async def _fingerprints(engine: AsyncEngine, bodies: list[str]) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT observatory_tool_error_fingerprint(b) FROM unnest(CAST(:b AS text[])) b"),
            {"b": bodies},
        )
        return [r[0] for r in rows]


@pytest.mark.parametrize("pair", SAME, ids=lambda p: p[0][:24])
async def test_same_error_other_details_is_one_group(engine: AsyncEngine, pair: list[str]) -> None:
    a, b = await _fingerprints(engine, pair)
    assert a == b
    assert a  # never empty for a non-empty error


async def test_different_errors_are_different_groups(engine: AsyncEngine) -> None:
    prints = await _fingerprints(engine, DIFFERENT)
    assert len(set(prints)) == len(DIFFERENT), prints


async def test_readable_and_bounded(engine: AsyncEngine) -> None:
    [short, long, empty] = await _fingerprints(engine, ["ENOENT: open '/a/b'", "x " * 5000, ""])
    assert short == "ENOENT: open <q>"
    [relative] = await _fingerprints(engine, ["timed out: pytest tests/test_1.py"])
    assert relative == "timed out: pytest <path>"
    assert len(long) <= 300
    assert empty == ""
