"""Every caller-caused failure gets a stable code; no single request can stall the others."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any

import httpx
import pytest

from tests.graphql.conftest import Api

STALLING = (
    "{ "
    + " ".join(
        f"a{i}: sessions(first: 200) {{ edges {{ node {{ id runs(first: 200) {{ edges {{ node {{ id "
        "messages(first: 200) { edges { node { id text } } } } } } } } }"
        for i in range(15)
    )
    + " }"
)
PAGE = "{ sessions(first: 20) { edges { node { id title agent { id } } } } }"


def _cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


async def test_node_budget_refuses_the_stalling_query(api: dict[str, Api]) -> None:
    body = await api["viewer"].raw(STALLING)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["budget"] == 50_000
    assert error["extensions"]["nodes"] > 100_000_000
    assert "50000" in error["message"]
    assert body["data"] is None


async def test_node_budget_counts_variables_and_fragments(api: dict[str, Api]) -> None:
    q = """query($n: Int) { sessions(first: $n) { ...S } }
      fragment S on SessionConnection { edges { node { runs(first: $n) { edges { node {
        messages(first: $n) { edges { node { id } } } } } } } } }"""
    assert await api["viewer"].error_code(q, {"n": 100}) == "QUERY_TOO_COSTLY"
    data = await api["viewer"].ok(q, {"n": 3})
    assert data["sessions"]["edges"]


async def test_introspection_needs_a_key_and_counts(api: dict[str, Api]) -> None:
    q = "{ __schema { types { name fields { name } } } }"
    assert await api["anonymous"].error_code(q) == "UNAUTHENTICATED"
    data = await api["viewer"].ok(q)
    assert data["__schema"]["types"]
    aliased = (
        "{ "
        + " ".join(
            f"a{i}: __schema {{ types {{ fields {{ type {{ fields {{ type {{ name }} }} }} }} }} }}"
            for i in range(15)
        )
        + " }"
    )
    assert await api["viewer"].error_code(aliased) == "QUERY_TOO_COSTLY"
    deep = "{ __schema { types { fields { type { " + "ofType { " * 12 + "name" + " }" * 16 + " }"
    assert await api["viewer"].error_code(deep) == "QUERY_TOO_COSTLY"


async def test_graphiql_introspection_fits(api: dict[str, Api]) -> None:
    from graphql import get_introspection_query

    data = await api["viewer"].ok(get_introspection_query(descriptions=True))
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_a_normal_page_completes_while_a_heavy_query_runs(
    api: dict[str, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heavy key is capped at its share of database sessions: another key's page is served
    while the heavy request still waits (asserted by order of completion, not by time)."""
    heavy = (
        "{ "
        + " ".join(
            f"a{i}: sessions(first: 40) {{ edges {{ node {{ runs(first: 20) {{ edges {{ node {{ id }} }} }} }} }} }}"
            for i in range(5)
        )
        + " }"
    )
    from observatory.graphql.types import core

    gate = asyncio.Event()
    original = core.session_runs
    entered = 0

    async def slow_session_runs(
        info: Any, session_id: int, first: int | None, after: Any, *filters: Any
    ) -> Any:
        nonlocal entered
        # Hold a database session until the page is done: without the per-key cap the heavy
        # request's 200 nested connections would take the whole pool (20) and the page would
        # wait behind them.
        async with info.context.db():
            entered += 1
            await gate.wait()
        return await original(info, session_id, first, after, *filters)

    monkeypatch.setattr(core, "session_runs", slow_session_runs)
    done: list[str] = []

    async def run_heavy() -> None:
        body = await api["reviewer"].raw(heavy)
        assert not body.get("errors"), body.get("errors")
        done.append("heavy")

    heavy_task = asyncio.create_task(run_heavy())
    for _ in range(200):
        if entered:
            break
        await asyncio.sleep(0.01)
    assert entered, "the heavy query never reached its nested connections"
    page = await api["viewer"].ok(PAGE)
    done.append("page")
    assert page["sessions"]["edges"]
    gate.set()
    await heavy_task
    assert done == ["page", "heavy"]


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (
            "query($s: String) { sessions(filter: {search: $s}) { totalCount } }",
            {"s": "a\x00b"},
            "filter.search",
        ),
        (
            "query($s: String) { sessions(filter: {search: $s}) { totalCount } }",
            {"s": "\ud800"},
            "filter.search",
        ),
        (
            "query($s: String) { sessions(filter: {search: $s}) { totalCount } }",
            {"s": "x" * 30_000},
            "filter.search",
        ),
        ('{ session(key: "a\\u0000b") { id } }', None, "key"),
        (
            "query($ids: [ID!]) { sessions(filter: {ids: $ids}) { totalCount } }",
            {"ids": [str(i) for i in range(1, 40_001)]},
            "filter.ids",
        ),
        (
            "query($a: [String!]) { sessions(filter: {agentIds: $a}) { totalCount } }",
            {"a": ["x"] * 5000},
            "filter.agentIds",
        ),
        (
            "query($a: String) { sessions(first: 5, after: $a) { totalCount } }",
            {"a": _cursor(["1e400", 1])},
            "after",
        ),
        (
            "query($a: String) { runs(first: 5, after: $a) { totalCount } }",
            {"a": _cursor(["2026-01-01T00:00:00+00:00", 10**30])},
            "after",
        ),
        (
            "query($a: String) { sessions(first: 5, after: $a, orderBy: {field: COST}) { totalCount } }",
            {"a": _cursor(["Infinity", 1])},
            "after",
        ),
        (
            "query($a: String) { reviews(first: 5, after: $a) { totalCount } }",
            {"a": _cursor(["2026-01-01T00:00:00", 1])},
            "after",
        ),
        (
            "query($t: DateTime) { sessions(filter: {startedAfter: $t}) { totalCount } }",
            {"t": "2026-01-01T00:00:00"},
            "t",
        ),
        (
            "query($t: DateTime) { sessions(filter: {startedAfter: $t}) { totalCount } }",
            {"t": "9999-12-31T23:59:59-23:59"},
            "t",
        ),
        (
            "query($t: DateTime) { sessions(filter: {startedAfter: $t}) { totalCount } }",
            {"t": "0001-01-01T00:00:00+14:00"},
            "t",
        ),
    ],
)
async def test_bad_arguments_are_bad_user_input(
    api: dict[str, Api], query: str, variables: dict[str, object] | None, field: str
) -> None:
    # json.dumps escapes a lone surrogate as \\ud800 (httpx's own encoder refuses it).
    response = await _post(
        api["admin"].client,
        json.dumps({"query": query, "variables": variables}).encode(),
        api["admin"].secret or "",
    )
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field, error
    assert len(error["message"]) < 400


async def test_syntax_and_validation_errors_carry_codes(api: dict[str, Api]) -> None:
    assert await api["admin"].error_code("{ sessions(") == "GRAPHQL_PARSE_FAILED"
    assert await api["admin"].error_code("{ nope }") == "GRAPHQL_VALIDATION_FAILED"


async def _post(client: httpx.AsyncClient, content: bytes, secret: str) -> httpx.Response:
    return await client.post(
        "/graphql",
        content=content,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("body", [b"null", b'"x"', b"[1]", b"42", b"[" * 100_000 + b"]" * 100_000])
async def test_non_object_bodies_get_a_graphql_shaped_400(api: dict[str, Api], body: bytes) -> None:
    response = await _post(api["admin"].client, body, api["admin"].secret or "")
    assert response.status_code in (400, 413)
    assert response.json()["errors"][0]["extensions"]["code"] in ("BAD_REQUEST", "BAD_USER_INPUT")


async def test_body_size_is_limited_and_never_logged(
    api: dict[str, Api], caplog: pytest.LogCaptureFixture
) -> None:
    huge = json.dumps({"query": "{ me { name } }", "variables": {"x": "y" * (10 << 20)}}).encode()
    with caplog.at_level(logging.DEBUG):
        response = await _post(api["admin"].client, huge, api["admin"].secret or "")
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert sum(len(r.getMessage()) for r in caplog.records) < 10_000


async def test_long_values_are_cut_in_answers_and_logs(
    api: dict[str, Api], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        body = await api["admin"].raw(
            "query($n: Int) { sessions(first: $n) { totalCount } }", {"n": "9" * 500_000}
        )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(body["errors"][0]["message"]) < 400
    assert sum(len(r.getMessage()) for r in caplog.records) < 10_000


async def test_database_down_is_503(api: dict[str, Api], monkeypatch: pytest.MonkeyPatch) -> None:
    services = api["admin"].client._transport.app.state.services  # type: ignore[attr-defined]

    async def down(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    monkeypatch.setattr(services.keys, "resolve", down)
    response = await _post(
        api["admin"].client, b'{"query": "{ me { name } }"}', api["admin"].secret or ""
    )
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


def test_every_dashboard_operation_fits_the_budget() -> None:
    """Each operation of the dashboard, with every variable at the largest page (200), stays
    well under the default node budget and depth."""
    import re
    from pathlib import Path

    from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse
    from observatory.graphql.cost import NodeEstimator
    from observatory.graphql.guard import INTROSPECTION_DEPTH_ALLOWANCE
    from observatory.graphql.schema import build_schema
    from observatory.settings import load_settings

    src = Path(__file__).resolve().parents[2] / "frontend" / "src"
    texts = [
        t
        for p in sorted(src.rglob("*.ts*"))
        if "gql" not in p.parts
        for t in re.findall(r"graphql\(`([^`]*)`", p.read_text())
    ]
    document = parse("\n".join(texts))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) > 10
    settings = load_settings()
    estimator = NodeEstimator(build_schema()._schema, 50)
    for op in operations:
        variables = {v.variable.name.value: 200 for v in op.variable_definitions or ()}
        estimate = estimator.estimate(op, fragments, variables)
        assert estimate.nodes <= settings.max_query_nodes // 10, (op.name, estimate)
        assert estimate.depth <= settings.max_query_depth + INTROSPECTION_DEPTH_ALLOWANCE
