"""Dataloaders keep a sessions page at a fixed number of SQL statements, whatever its size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from starlette.applications import Starlette

from tests.graphql.conftest import Api

PAGE = """
query($first: Int) {
  sessions(first: $first, filter: {hasReview: true}) {
    edges { node {
      id key title status
      agent { id displayName }
      metrics { runCount inputTokens outputTokens cost wallTimeMs }
      latestReview { verdict rating createdBy }
      childCount
      parent { key }
    } }
  }
}
"""


@contextmanager
def count_statements(app: Starlette) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = app.state.services.engine.sync_engine

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The throttled last-used write of the API key runs beside the request, not in it.
        # Authentication is not page work: its key lookup is cached (and re-read after a
        # NOTIFY), its last-use touch batched.
        if not statement.startswith(("UPDATE api_keys", "SELECT api_keys.id, api_keys.name")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_page_of_5_and_of_50_run_the_same_statements(
    api: dict[str, Api], app: Starlette
) -> None:
    # Reviewed sessions only, so both pages touch every relation (incl. review authors).
    with count_statements(app) as small:
        data = await api["viewer"].ok(PAGE, {"first": 5})
    assert len(data["sessions"]["edges"]) == 5
    with count_statements(app) as large:
        data = await api["viewer"].ok(PAGE, {"first": 50})
    assert len(data["sessions"]["edges"]) == 50
    # key lookup, page, agents, metrics, latest reviews, child counts, parents, key names
    assert len(small) == len(large) <= 9, large
