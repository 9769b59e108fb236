"""Tool analytics over the demo data, checked against SQL over tool_calls and the messages."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.demo import FLAKY_TOOL, TOOL_PROFILE
from tests.graphql.conftest import ANCHOR, Api

RANGE = {"f": "2026-11-06T12:00:00Z", "t": "2026-11-20T12:00:00Z"}
F, T = datetime(2026, 11, 6, 12, tzinfo=UTC), ANCHOR

SUMMARY = """query($f: DateTime!, $t: DateTime!, $filter: ToolFilterInput, $split: ToolGroupBy) {
  toolSummary(from: $f, to: $t, filter: $filter, splitBy: $split) {
    tool group calls sessions completed errors pending errorRate durationP50Ms durationP95Ms } }"""


async def test_summary_matches_sql(api: dict[str, Api], demo_engine: AsyncEngine) -> None:
    rows = (await api["viewer"].ok(SUMMARY, RANGE))["toolSummary"]
    assert rows, "the demo has tool calls"
    assert {r["tool"] for r in rows} == set(TOOL_PROFILE)
    assert [r["calls"] for r in rows] == sorted((r["calls"] for r in rows), reverse=True)
    async with demo_engine.connect() as conn:
        expected = {
            r.tool_name: r
            for r in await conn.execute(
                text(
                    "SELECT tool_name, count(*) AS calls, count(DISTINCT session_id) AS sessions, "
                    "count(*) FILTER (WHERE is_error) AS errors, "
                    "count(*) FILTER (WHERE result_at IS NULL) AS pending FROM tool_calls "
                    "WHERE called_at >= :f AND called_at < :t GROUP BY 1"
                ),
                {"f": F, "t": T},
            )
        }
    for r in rows:
        e = expected[r["tool"]]
        assert (r["calls"], r["sessions"], r["errors"], r["pending"]) == (
            e.calls, e.sessions, e.errors, e.pending,
        )  # fmt: skip
        assert r["completed"] == r["calls"] - r["pending"]
        assert r["errorRate"] == (r["errors"] / r["completed"] if r["completed"] else None)
        assert r["durationP50Ms"] <= r["durationP95Ms"]
        assert r["group"] is None
    # the slow tool is the slowest, by far
    by_tool = {r["tool"]: r for r in rows}
    assert by_tool["browser"]["durationP50Ms"] > 5 * by_tool["exec"]["durationP50Ms"]


async def test_split_by_model_and_filters(api: dict[str, Api]) -> None:
    split = (
        await api["viewer"].ok(SUMMARY, {**RANGE, "split": "MODEL", "filter": {"tools": ["exec"]}})
    )["toolSummary"]
    assert split and all(r["tool"] == "exec" and r["group"] for r in split)
    whole = (await api["viewer"].ok(SUMMARY, {**RANGE, "filter": {"tools": ["exec"]}}))[
        "toolSummary"
    ]
    assert sum(r["calls"] for r in split) == whole[0]["calls"]
    sofia = (
        await api["viewer"].ok(
            SUMMARY, {**RANGE, "filter": {"agentIds": ["sofia"], "kinds": ["MAIN"]}}
        )
    )["toolSummary"]
    assert sofia and all(
        r["calls"] < by["calls"] for r in sofia for by in whole if by["tool"] == r["tool"]
    )
    failing = (await api["viewer"].ok(SUMMARY, {**RANGE, "filter": {"failingOnly": True}}))[
        "toolSummary"
    ]
    assert failing and all(r["errors"] > 0 for r in failing)


async def test_flaky_tool_gets_worse_in_the_last_week(api: dict[str, Api]) -> None:
    q = """query($f: DateTime!, $t: DateTime!) {
      toolSeries(groupBy: TOOL, bucket: WEEK, from: $f, to: $t, filter: {tools: ["exec"]}) {
        groups points { bucketStart group calls completed errors errorRate } } }"""
    early = await api["viewer"].ok(q, {"f": "2026-11-06T12:00:00Z", "t": "2026-11-13T12:00:00Z"})
    late = await api["viewer"].ok(q, {"f": "2026-11-13T12:00:00Z", "t": "2026-11-20T12:00:00Z"})

    def rate(data: dict) -> float:
        points = data["toolSeries"]["points"]
        assert points
        return sum(p["errors"] for p in points) / sum(p["completed"] for p in points)

    assert late["toolSeries"]["groups"] == [FLAKY_TOOL]
    assert rate(late) > 2 * rate(early)


async def test_error_groups_and_their_calls(api: dict[str, Api], demo_engine: AsyncEngine) -> None:
    q = """query($f: DateTime!, $t: DateTime!) {
      toolErrors(tool: "exec", from: $f, to: $t) {
        id tool fingerprint count sessions firstSeen lastSeen latestText trend } }"""
    groups = (await api["viewer"].ok(q, RANGE))["toolErrors"]
    # one error type ("ToolError"), several distinct errors: one group per kind, not per call
    assert 2 <= len(groups) <= 4, [g["fingerprint"] for g in groups]
    assert all(g["fingerprint"].startswith("ToolError: ") for g in groups)
    assert len({g["fingerprint"] for g in groups}) == len(groups)
    for g in groups:
        assert sum(g["trend"]) == g["count"] and len(g["trend"]) == 12
        assert g["firstSeen"] <= g["lastSeen"]
    total = sum(g["count"] for g in groups)
    async with demo_engine.connect() as conn:
        errors = await conn.scalar(
            text(
                "SELECT count(*) FROM tool_calls WHERE tool_name = 'exec' AND is_error "
                "AND called_at >= :f AND called_at < :t"
            ),
            {"f": F, "t": T},
        )
    assert total == errors

    page_q = """query($g: ID!, $f: DateTime!, $t: DateTime!, $after: String) {
      toolErrorCalls(group: $g, from: $f, to: $t, first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { id tool calledAt errorText sessionId runId callMessageId resultMessageId
                       session { id } run { id } } } } }"""
    biggest = groups[0]
    seen: list[str] = []
    after = None
    while True:
        conn_ = (await api["viewer"].ok(page_q, {"g": biggest["id"], **RANGE, "after": after}))[
            "toolErrorCalls"
        ]
        assert conn_["totalCount"] == biggest["count"]
        nodes = [e["node"] for e in conn_["edges"]]
        assert nodes
        for n in nodes:
            assert n["tool"] == "exec" and n["session"]["id"] == n["sessionId"]
            assert n["run"]["id"] == n["runId"] and n["resultMessageId"]
        seen += [n["id"] for n in nodes]
        if not conn_["pageInfo"]["hasNextPage"]:
            break
        after = conn_["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == biggest["count"]
    # the linked result message is the failed tool result
    async with demo_engine.connect() as conn:
        flags = (
            await conn.execute(
                text(
                    "SELECT m.role, m.is_error FROM tool_calls t "
                    "JOIN messages m ON m.id = t.result_message_id WHERE t.id = ANY(:ids)"
                ),
                {"ids": [int(i) for i in seen]},
            )
        ).all()
    assert flags and all(f == ("tool_result", True) for f in flags)


async def test_bounds_scopes_and_bad_input(api: dict[str, Api]) -> None:
    q = "query($f: DateTime!, $t: DateTime!) { toolSummary(from: $f, to: $t) { tool } }"
    assert await api["anonymous"].error_code(q, RANGE) == "UNAUTHENTICATED"
    assert (await api["viewer"].ok(q, RANGE))["toolSummary"]
    bad = [
        ("query($f: DateTime!, $t: DateTime!) { toolSummary(from: $f, to: $t, first: 0) { tool } }", "first"),
        ("query($f: DateTime!, $t: DateTime!) { toolSummary(from: $t, to: $f) { tool } }", "from"),
        ("query($f: DateTime!, $t: DateTime!) { toolSeries(groupBy: TOOL, bucket: HOUR, from: $f, to: $t, groups: 99) { groups } }", "groups"),
        ('query($f: DateTime!, $t: DateTime!) { toolErrorCalls(group: "nope!", from: $f, to: $t) { totalCount } }', "group"),
        ('query($f: DateTime!, $t: DateTime!) { toolErrors(tool: "", from: $f, to: $t) { id } }', "tool"),
    ]  # fmt: skip
    for query, field in bad:
        body = await api["viewer"].raw(query, RANGE)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, query
