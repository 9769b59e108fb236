"""Malformed, oversized and abusive requests get clear errors, never a 500 or a leak."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.graphql.conftest import Api


async def _post(api: Api, body: object) -> httpx.Response:
    return await api.client.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {api.secret}"}
    )


@pytest.mark.parametrize(
    "query",
    [
        "{ sessions(first: 1) { edges { node { id } } }",  # unbalanced
        "{ nope }",
        '{ sessions(first: "x") { totalCount } }',
    ],
)
async def test_malformed_queries(api: dict[str, Api], query: str) -> None:
    response = await _post(api["admin"], {"query": query})
    assert response.status_code in (200, 400)
    assert response.json()["errors"]


async def test_wrong_variable_type(api: dict[str, Api]) -> None:
    body = await api["admin"].raw(
        "query($n: Int) { sessions(first: $n) { totalCount } }", {"n": "many"}
    )
    assert body["errors"] and "Int" in body["errors"][0]["message"]


async def test_depth_limit(api: dict[str, Api]) -> None:
    deep = "{ sessions(first: 1) { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } }"
    body = await api["admin"].raw(deep)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_alias_limit(api: dict[str, Api]) -> None:
    query = "{ " + " ".join(f"a{i}: me {{ name }}" for i in range(40)) + " }"
    body = await api["admin"].raw(query)
    assert "aliases" in body["errors"][0]["message"].lower()


async def test_token_limit(api: dict[str, Api]) -> None:
    query = "{ me { " + " ".join(["name"] * 3000) + " } }"
    body = await api["admin"].raw(query)
    assert "token" in body["errors"][0]["message"].lower()


async def test_metric_range_is_required_and_bounded(api: dict[str, Api]) -> None:
    q = "query($f: DateTime!, $t: DateTime!) { metricSeries(groupBy: AGENT, bucket: HOUR, from: $f, to: $t) { groups } }"
    body = await api["admin"].raw(q, {"f": "2025-01-01T00:00:00Z", "t": "2026-11-01T00:00:00Z"})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "to"}
    body = await api["admin"].raw(q, {"f": "2026-01-01T00:00:00Z", "t": "2026-11-01T00:00:00Z"})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "bucket"}
    body = await api["admin"].raw(q, {"f": "2026-11-02T00:00:00Z", "t": "2026-11-01T00:00:00Z"})
    assert body["errors"][0]["extensions"]["field"] == "from"
    body = await api["admin"].raw("{ metricSeries(groupBy: AGENT, bucket: DAY) { groups } }")
    assert body["errors"]


async def test_unexpected_errors_are_masked_and_logged(
    api: dict[str, Api], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from observatory.graphql.resolvers import sessions

    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(sessions, "get_session", boom)
    monkeypatch.setattr("observatory.graphql.queries.get_session", boom)
    with caplog.at_level(logging.ERROR, logger="observatory.graphql"):
        body = await api["admin"].raw('{ session(id: "1") { id } }')
    assert body["errors"][0]["message"] == "Internal error (logged on the server)."
    assert "secret" not in str(body)
    assert any("SELECT secret" in str(r.exc_info) for r in caplog.records)
