"""The dashboard's CSV download of a filtered sessions list."""

from __future__ import annotations

import csv
import io

from tests.graphql.conftest import Api


async def test_sessions_csv_follows_the_filter(api: dict[str, Api]) -> None:
    query = (
        "query($f: SessionFilter, $n: Int!) { sessionsCsv(filter: $f, limit: $n)"
        " { filename rowCount truncated content } }"
    )
    f = {"agentIds": ["atlas"], "kinds": ["TASK"]}
    data = (await api["viewer"].ok(query, {"f": f, "n": 20000}))["sessionsCsv"]
    total = (
        await api["viewer"].ok(
            "query($f: SessionFilter) { sessions(filter: $f) { totalCount } }", {"f": f}
        )
    )["sessions"]["totalCount"]
    rows = list(csv.DictReader(io.StringIO(data["content"])))
    assert total > 2 and data["rowCount"] == len(rows) == total and not data["truncated"]
    assert {r["agent_id"] for r in rows} == {"atlas"} and {r["kind"] for r in rows} == {"task"}
    assert data["filename"].startswith("sessions-") and data["filename"].endswith(".csv")
    small = (await api["viewer"].ok(query, {"f": f, "n": 2}))["sessionsCsv"]
    assert small["rowCount"] == 2 and small["truncated"]
    assert await api["viewer"].error_code(query, {"f": f, "n": 0}) == "BAD_USER_INPUT"
    assert await api["anonymous"].error_code(query, {"f": f, "n": 1}) == "UNAUTHENTICATED"
