"""A sessions page preloads its rows' relations (graphql/preload.py) and answers exactly as the
per-row loader path does for the same sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from observatory.graphql.types.core import Review, Session
from tests.graphql.conftest import Api

ROW = """
fragment Row on Session {
  id key
  agent { id displayName }
  metrics { runCount failedRuns inputTokens cost wallTimeMs timeToCompletionMs usageComplete }
  latestReview { id verdict rating reviewerKind createdBy }
}
"""
PAGE = (
    ROW
    + """
query($first: Int) {
  sessions(first: $first) { edges { node { ...Row ... on Session { also: agent { id } } } } }
}
"""
)
ONE = ROW + "query($id: ID!) { session(id: $id) { ...Row also: agent { id } } }"


@pytest.fixture
def resolver_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the per-row resolvers (the loader path) ran, by field."""
    calls = {"agent": 0, "metrics": 0, "latest_review": 0, "created_by": 0}
    for cls, name in [
        (Session, "agent"),
        (Session, "metrics"),
        (Session, "latest_review"),
        (Review, "created_by"),
    ]:
        resolver = cls.__strawberry_definition__.get_field(name).base_resolver  # type: ignore[attr-defined]
        monkeypatch.setattr(resolver, "wrapped_func", _counted(resolver.wrapped_func, name, calls))
    return calls


def _counted(fn: Callable[..., Any], name: str, calls: dict[str, int]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return fn(*args, **kwargs)

    return wrapper


async def test_page_rows_equal_the_loader_path(
    api: dict[str, Api], resolver_calls: dict[str, int]
) -> None:
    nodes = [e["node"] for e in (await api["viewer"].ok(PAGE, {"first": 50}))["sessions"]["edges"]]
    assert len(nodes) == 50
    # Both kinds of rows are on the page: reviewed and not.
    assert any(n["latestReview"] is None for n in nodes)
    assert any(n["latestReview"] is not None for n in nodes)
    assert resolver_calls == {"agent": 0, "metrics": 0, "latest_review": 0, "created_by": 0}

    for node in nodes:
        assert node == (await api["viewer"].ok(ONE, {"id": node["id"]}))["session"]
    # The loader path did run for the single sessions (agent twice: once per alias).
    assert resolver_calls["agent"] == 100
    assert resolver_calls["metrics"] == resolver_calls["latest_review"] == 50
