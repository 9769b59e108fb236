from __future__ import annotations

from tests.graphql.conftest import Api

PAGE = """
query($first: Int, $after: String, $filter: SessionFilter, $order: SessionOrder) {
  sessions(first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id key kind status title totalCost
      agent { id displayName }
      metrics { runCount inputTokens cost timeToCompletionMs usageComplete }
      latestReview { verdict rating createdBy }
      childCount } }
  }
}
"""


async def test_sessions_page(api: dict[str, Api]) -> None:
    data = await api["admin"].ok(PAGE, {"first": 5})
    conn = data["sessions"]
    assert conn["totalCount"] > 5
    assert len(conn["edges"]) == 5
    assert conn["pageInfo"]["hasNextPage"]
    nxt = await api["admin"].ok(PAGE, {"first": 5, "after": conn["pageInfo"]["endCursor"]})
    first_ids = {e["node"]["id"] for e in conn["edges"]}
    assert not first_ids & {e["node"]["id"] for e in nxt["sessions"]["edges"]}
