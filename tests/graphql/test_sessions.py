from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.graphql.conftest import Api

LIST = """
query($first: Int, $after: String, $filter: SessionFilter, $order: SessionOrder) {
  sessions(first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id key kind status title agentId totalCost totalTokens durationMs startedAt
                   latestReview { verdict } } }
  }
}
"""


async def _all(api: Api, variables: dict[str, Any], page: int = 7) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        data = await api.ok(LIST, {**variables, "first": page, "after": after})
        conn = data["sessions"]
        nodes += [e["node"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            return nodes
        after = conn["pageInfo"]["endCursor"]


@pytest.mark.parametrize(
    ("field", "sql"),
    [
        ("STARTED_AT", "started_at"),
        ("COST", "coalesce(total_cost, -1)"),
        ("TOKENS", "coalesce(total_tokens, -1)"),
        ("DURATION", "coalesce(duration_ms, -1)"),
        ("UPDATED_AT", "updated_at"),
    ],
)
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_keyset_paging_matches_sql_order(
    api: dict[str, Api], demo_engine: AsyncEngine, field: str, sql: str, direction: str
) -> None:
    nodes = await _all(api["viewer"], {"order": {"field": field, "direction": direction}}, page=23)
    async with demo_engine.connect() as conn:
        expected = (
            (
                await conn.execute(
                    text(f"SELECT id FROM sessions ORDER BY {sql} {direction}, id {direction}")
                )
            )
            .scalars()
            .all()
        )
    assert [int(n["id"]) for n in nodes] == list(expected)


async def test_filters(api: dict[str, Api], demo_engine: AsyncEngine) -> None:
    viewer = api["viewer"]
    tasks = await _all(
        viewer, {"filter": {"kinds": ["TASK"], "statuses": ["FAILED"], "agentIds": ["atlas"]}}
    )
    assert tasks and all(
        n["kind"] == "TASK" and n["status"] == "FAILED" and n["agentId"] == "atlas" for n in tasks
    )
    async with demo_engine.connect() as conn:
        n = await conn.scalar(
            text(
                "SELECT count(*) FROM sessions WHERE kind='task' AND status='failed' AND agent_id='atlas'"
            )
        )
    assert len(tasks) == n
    found = await _all(viewer, {"filter": {"search": "flaky"}})
    assert found and all(
        "flaky" in (n["title"] or "").lower() or "flaky" in n["key"] for n in found
    )
    unreviewed = await _all(viewer, {"filter": {"hasReview": False, "kinds": ["TASK"]}}, page=50)
    assert unreviewed and all(n["latestReview"] is None for n in unreviewed)
    failed_verdicts = await _all(viewer, {"filter": {"verdicts": ["FAILED"]}}, page=50)
    assert failed_verdicts and all(
        n["latestReview"]["verdict"] == "FAILED" for n in failed_verdicts
    )
    window = {"startedAfter": "2026-11-15T00:00:00Z", "startedBefore": "2026-11-16T00:00:00Z"}
    ranged = await _all(viewer, {"filter": window})
    assert ranged and all("2026-11-15" in n["startedAt"] for n in ranged)


async def test_total_count_matches_filter(api: dict[str, Api]) -> None:
    data = await api["viewer"].ok(LIST, {"first": 1, "filter": {"kinds": ["MAIN"]}})
    assert data["sessions"]["totalCount"] == 4


async def test_session_detail_with_transcript_and_children(api: dict[str, Api]) -> None:
    q = """
    query($key: String) { session(key: $key) {
        id kind agent { id } childCount children { key parent { key } }
        metrics { runCount cost inputTokens usageComplete }
        messages(first: 5) { totalCount pageInfo { hasNextPage endCursor }
          edges { node { seq role text toolCalls { name } } } }
        runs(first: 3) { edges { node { trigger status } } }
    } }
    """
    s = (await api["viewer"].ok(q, {"key": "agent:sofia:main"}))["session"]
    assert s["kind"] == "MAIN" and s["agent"]["id"] == "sofia"
    assert s["childCount"] == len(s["children"]) > 0
    assert all(c["parent"]["key"] == "agent:sofia:main" for c in s["children"])
    assert s["metrics"]["runCount"] > 10 and s["metrics"]["usageComplete"]
    assert s["messages"]["totalCount"] > 5 and s["messages"]["pageInfo"]["hasNextPage"]
    assert s["messages"]["edges"][0]["node"]["role"] == "USER"


async def test_session_runs_filtered_by_status_are_paged_in_time_order(
    api: dict[str, Api],
) -> None:
    q = """query($key: String, $after: String) { session(key: $key) { metrics { failedRuns }
        runs(first: 2, after: $after, statuses: [FAILED]) { totalCount
          pageInfo { hasNextPage endCursor } edges { node { status startedAt error } } } } }"""
    seen: list[dict[str, str]] = []
    after = None
    while True:
        s = (await api["viewer"].ok(q, {"key": "agent:sofia:main", "after": after}))["session"]
        seen += [e["node"] for e in s["runs"]["edges"]]
        if not s["runs"]["pageInfo"]["hasNextPage"]:
            break
        after = s["runs"]["pageInfo"]["endCursor"]
    assert seen, "the demo main session has failed runs"
    assert all(n["status"] == "FAILED" and n["error"] for n in seen)
    assert len(seen) == s["runs"]["totalCount"] == s["metrics"]["failedRuns"]
    assert [n["startedAt"] for n in seen] == sorted(n["startedAt"] for n in seen)
    # Opened at a run: the page starts at that run's start.
    q2 = """query($key: String, $t: DateTime) { session(key: $key) {
        runs(first: 1, startedAfter: $t) { edges { node { startedAt } } } } }"""
    t = seen[-1]["startedAt"]
    s = (await api["viewer"].ok(q2, {"key": "agent:sofia:main", "t": t}))["session"]
    assert [e["node"]["startedAt"] for e in s["runs"]["edges"]] == [t]


async def test_unknown_usage_stays_null(api: dict[str, Api]) -> None:
    q = '{ session(key: "agent:orion:main") { totalCost metrics { cost inputTokens usageComplete } } }'
    s = (await api["viewer"].ok(q))["session"]
    assert s["totalCost"] is None
    assert s["metrics"] == {"cost": None, "inputTokens": None, "usageComplete": False}


async def test_heartbeats(api: dict[str, Api]) -> None:
    q = """query($f: HeartbeatFilter) { heartbeats(first: 50, filter: $f) { totalCount
            edges { node { trigger outcomePreview agentId session { kind } } } } }"""
    quiet = (await api["viewer"].ok(q, {"f": {"quiet": True, "agentIds": ["nova"]}}))["heartbeats"]
    nodes = [e["node"] for e in quiet["edges"]]
    assert nodes and all(
        n["trigger"] == "HEARTBEAT"
        and n["outcomePreview"] == "HEARTBEAT_OK"
        and n["agentId"] == "nova"
        for n in nodes
    )
    acted = (await api["viewer"].ok(q, {"f": {"quiet": False, "agentIds": ["nova"]}}))["heartbeats"]
    assert acted["edges"]
    assert all(e["node"]["outcomePreview"] != "HEARTBEAT_OK" for e in acted["edges"])
    total = (await api["viewer"].ok(q, {"f": {"agentIds": ["nova"]}}))["heartbeats"]["totalCount"]
    assert total == quiet["totalCount"] + acted["totalCount"]


async def test_agents_with_metrics(api: dict[str, Api]) -> None:
    q = """{ agents { id mainSession { key }
              metrics(from: "2026-11-06T00:00:00Z", to: "2026-11-21T00:00:00Z") {
                runCount cost heartbeatRuns sessionsByStatus { status count } } } }"""
    agents = [a for a in (await api["viewer"].ok(q))["agents"] if a["mainSession"]]
    assert [a["id"] for a in agents] == ["atlas", "nova", "orion", "sofia"]
    for a in agents:
        assert a["mainSession"]["key"] == f"agent:{a['id']}:main"
        assert a["metrics"]["runCount"] > 0 and a["metrics"]["heartbeatRuns"] > 0
    orion = next(a for a in agents if a["id"] == "orion")
    assert orion["metrics"]["cost"] is None


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (LIST, {"first": 500}, "first"),
        (LIST, {"first": 0}, "first"),
        (LIST, {"after": "garbage!!"}, "after"),
        (LIST, {"after": "WzFd"}, "after"),
        (LIST, {"filter": {"search": "x" * 300}}, "filter.search"),
        (
            LIST,
            {
                "filter": {
                    "startedAfter": "2026-11-16T00:00:00Z",
                    "startedBefore": "2026-11-15T00:00:00Z",
                }
            },
            "filter.startedAfter",
        ),
        ('{ session(id: "abc") { id } }', {}, "id"),
        ('{ session(id: "1", key: "x") { id } }', {}, "key"),
    ],
)
async def test_bad_input_is_bad_user_input(
    api: dict[str, Api], query: str, variables: dict[str, Any], field: str
) -> None:
    body = await api["viewer"].raw(query, variables)
    err = body["errors"][0]
    assert err["extensions"]["code"] == "BAD_USER_INPUT", err
    assert err["extensions"]["field"] == field


async def test_tool_calls_and_results_in_transcript(api: dict[str, Api]) -> None:
    q = """{ sessions(first: 30, filter: {kinds: [TASK], statuses: [COMPLETED]}) { edges { node {
            messages(first: 50) { edges { node { role text toolCalls { id name }
              toolResult { toolCallId name isError } } } } } } } }"""
    data = await api["viewer"].ok(q)
    messages = [
        m["node"] for e in data["sessions"]["edges"] for m in e["node"]["messages"]["edges"]
    ]
    calls = {c["id"]: c["name"] for m in messages for c in m["toolCalls"]}
    results = [m["toolResult"] for m in messages if m["role"] == "TOOL_RESULT"]
    assert calls and results
    assert all(r["toolCallId"] in calls and calls[r["toolCallId"]] == r["name"] for r in results)
    assert all(m["toolResult"] is None for m in messages if m["role"] != "TOOL_RESULT")
