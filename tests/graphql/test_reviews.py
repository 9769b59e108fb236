from __future__ import annotations

import pytest

from tests.graphql.conftest import Api

CREATE = """
mutation($input: CreateReviewInput!) {
  createReview(input: $input) { id verdict rating summary reviewerKind createdBy editable runId }
}
"""
UPDATE = "mutation($id: ID!, $input: UpdateReviewInput!) { updateReview(id: $id, input: $input) { id rating summary } }"
DELETE = "mutation($id: ID!) { deleteReview(id: $id) }"


async def _task_session(api: Api) -> str:
    data = await api.ok(
        "{ sessions(first: 1, filter: {kinds: [TASK], statuses: [COMPLETED]}) { edges { node { id } } } }"
    )
    return data["sessions"]["edges"][0]["node"]["id"]


async def test_review_lifecycle(api: dict[str, Api]) -> None:
    sid = await _task_session(api["reviewer"])
    made = (
        await api["reviewer"].ok(
            CREATE,
            {
                "input": {
                    "sessionId": sid,
                    "verdict": "ACCOMPLISHED",
                    "rating": 5,
                    "summary": " Shipped. ",
                }
            },
        )
    )["createReview"]
    assert made["reviewerKind"] == "HUMAN"
    assert made["createdBy"] == "test reviewer"
    assert made["summary"] == "Shipped."
    assert made["editable"] is True
    detail = await api["viewer"].ok(
        "query($id: ID) { session(id: $id) { latestReview { id createdBy editable } reviews { id } } }",
        {"id": sid},
    )
    assert detail["session"]["latestReview"]["id"] == made["id"]
    assert detail["session"]["latestReview"]["editable"] is False  # viewer cannot edit
    # Another reviewer cannot touch it; an admin can.
    other = api["operator"]
    assert await other.error_code(UPDATE, {"id": made["id"], "input": {"rating": 1}}) == "FORBIDDEN"
    updated = await api["admin"].ok(UPDATE, {"id": made["id"], "input": {"rating": 4}})
    assert updated["updateReview"]["rating"] == 4
    assert (await api["reviewer"].ok(DELETE, {"id": made["id"]}))["deleteReview"] == made["id"]
    assert await api["reviewer"].error_code(DELETE, {"id": made["id"]}) == "NOT_FOUND"


async def test_heartbeat_run_review(api: dict[str, Api]) -> None:
    hb = await api["reviewer"].ok("{ heartbeats(first: 1) { edges { node { id sessionId } } } }")
    node = hb["heartbeats"]["edges"][0]["node"]
    made = await api["reviewer"].ok(
        CREATE,
        {
            "input": {
                "sessionId": node["sessionId"],
                "runId": node["id"],
                "verdict": "PARTIAL",
                "rating": 3,
            }
        },
    )
    assert made["createReview"]["runId"] == node["id"]
    run = await api["viewer"].ok(
        "query($id: ID!) { run(id: $id) { latestReview { id } reviews { id } } }",
        {"id": node["id"]},
    )
    assert run["run"]["latestReview"]["id"] == made["createReview"]["id"]


@pytest.mark.parametrize(
    ("patch", "field", "code"),
    [
        ({"rating": 6}, "rating", "BAD_USER_INPUT"),
        ({"rating": 0}, "rating", "BAD_USER_INPUT"),
        ({"summary": "x" * 5001}, "summary", "BAD_USER_INPUT"),
        ({"sessionId": "999999"}, "sessionId", "NOT_FOUND"),
        ({"sessionId": "nope"}, "sessionId", "BAD_USER_INPUT"),
        ({"runId": "999999"}, "runId", "NOT_FOUND"),
    ],
)
async def test_review_validation_names_the_field(
    api: dict[str, Api], patch: dict[str, object], field: str, code: str
) -> None:
    sid = await _task_session(api["reviewer"])
    body = await api["reviewer"].raw(
        CREATE, {"input": {"sessionId": sid, "verdict": "FAILED", "rating": 2, **patch}}
    )
    err = body["errors"][0]
    assert (err["extensions"]["code"], err["extensions"].get("field")) == (code, field)
    assert body["data"] is None


async def test_wrong_verdict_enum_is_a_validation_error(api: dict[str, Api]) -> None:
    sid = await _task_session(api["reviewer"])
    body = await api["reviewer"].raw(
        CREATE, {"input": {"sessionId": sid, "verdict": "GREAT", "rating": 2}}
    )
    assert body["errors"] and body["data"] is None
    assert "GREAT" in body["errors"][0]["message"]


async def test_archive_rules(api: dict[str, Api]) -> None:
    q = "mutation($id: ID!) { archiveSession(id: $id) { status archivedAt } }"
    sid = await _task_session(api["operator"])
    assert await api["reviewer"].error_code(q, {"id": sid}) == "FORBIDDEN"
    archived = (await api["operator"].ok(q, {"id": sid}))["archiveSession"]
    assert archived["status"] == "ARCHIVED" and archived["archivedAt"]
    back = await api["operator"].ok(
        "mutation($id: ID!) { unarchiveSession(id: $id) { status archivedAt } }", {"id": sid}
    )
    assert back["unarchiveSession"] == {"status": "COMPLETED", "archivedAt": None}
    main = await api["operator"].ok('{ session(key: "agent:sofia:main") { id } }')
    assert await api["operator"].error_code(q, {"id": main["session"]["id"]}) == "CONFLICT"
