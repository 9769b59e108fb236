"""The review loop over GraphQL: human queue, AI review requests and policy, comparison,
patterns and suggestions with their measured impact (on the demo data)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from observatory.app import create_app
from observatory.settings import load_settings
from tests.graphql.conftest import Api

WEEK_A = {"aFrom": "2026-11-06T12:00:00Z", "aTo": "2026-11-13T12:00:00Z"}
WEEK_B = {"bFrom": "2026-11-13T12:00:00Z", "bTo": "2026-11-20T12:00:00Z"}
QUEUE = """query($first: Int) { reviewQueue(first: $first) {
  nextCursor counts { reason count }
  items { sessionId runId reasons priority claimed claimedByMe claimedBy latestAi { verdict confidence }
          session { key } } } }"""


async def test_queue_claim_conflict_and_submit(api: dict[str, Api]) -> None:
    page = (await api["reviewer"].ok(QUEUE, {"first": 20}))["reviewQueue"]
    assert page["items"], "the demo has unreviewed and failed sessions"
    counts = {c["reason"]: c["count"] for c in page["counts"]}
    assert counts["total"] >= len(page["items"])
    item = next(i for i in page["items"] if i["runId"] is None)
    claim = """mutation($s: ID!) { claimQueueItem(sessionId: $s) { sessionId expiresAt } }"""
    made = await api["reviewer"].ok(claim, {"s": item["sessionId"]})
    assert made["claimQueueItem"]["sessionId"] == item["sessionId"]
    assert await api["operator"].error_code(claim, {"s": item["sessionId"]}) == "CONFLICT"
    theirs = (await api["operator"].ok(QUEUE, {"first": 200}))["reviewQueue"]["items"]
    held = [i for i in theirs if i["sessionId"] == item["sessionId"]]
    assert held and all(
        i["claimed"] and not i["claimedByMe"] and i["claimedBy"] == "test reviewer" for i in held
    )
    submitted = await api["reviewer"].ok(
        """mutation($s: ID!) { submitQueueReview(sessionId: $s, verdict: PARTIAL, rating: 3,
             summary: "checked by hand") { id verdict createdBy reviewerKind } }""",
        {"s": item["sessionId"]},
    )
    review = submitted["submitQueueReview"]
    assert review["createdBy"] == "test reviewer" and review["reviewerKind"] == "HUMAN"
    bad = await api["reviewer"].raw(
        "mutation($s: ID!) { submitQueueReview(sessionId: $s, verdict: FAILED, rating: 9) { id } }",
        {"s": item["sessionId"]},
    )
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "rating"}


async def test_viewer_cannot_act_on_the_queue(api: dict[str, Api]) -> None:
    assert (await api["viewer"].ok(QUEUE, {"first": 1}))["reviewQueue"] is not None
    code = await api["viewer"].error_code("mutation { claimNextQueueItem { sessionId } }")
    assert code == "FORBIDDEN"


async def test_ai_review_request_needs_a_configured_reviewer(
    api: dict[str, Api], demo_db: str, keys: dict[str, str]
) -> None:
    q = 'mutation { requestAiReview(sessionId: "5") { id status created } }'
    assert await api["reviewer"].error_code(q) == "CONFLICT"
    settings = dataclasses.replace(
        load_settings(), database_url=demo_db, frontend_dir=None, ai_base_url="http://127.0.0.1:9"
    )
    app = create_app(settings, run_background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            configured = Api(client, keys["reviewer"])
            first = (await configured.ok(q))["requestAiReview"]
            again = (await configured.ok(q))["requestAiReview"]
            assert first["status"] == "queued" and first["created"] is True
            assert again["id"] == first["id"] and again["created"] is False
            jobs = await configured.ok('{ reviewJobs(sessionId: "5") { id status } }')
            assert [j["id"] for j in jobs["reviewJobs"]] == [first["id"]]


async def test_review_policy(api: dict[str, Api]) -> None:
    set_policy = """mutation($a: String!) { setReviewPolicy(agentId: $a, enabled: true,
                     heartbeatSampleRate: 0.25) { agentId enabled heartbeatSampleRate } }"""
    made = (await api["reviewer"].ok(set_policy, {"a": "nova"}))["setReviewPolicy"]
    assert made == {"agentId": "nova", "enabled": True, "heartbeatSampleRate": 0.25}
    listed = (await api["viewer"].ok("{ reviewPolicies { agentId enabled } }"))["reviewPolicies"]
    assert {"agentId": "nova", "enabled": True} in listed
    assert await api["reviewer"].error_code(set_policy, {"a": "nobody"}) == "NOT_FOUND"


async def test_compare_periods_and_patterns(api: dict[str, Api]) -> None:
    q = """query($aFrom: DateTime!, $aTo: DateTime!, $bFrom: DateTime!, $bTo: DateTime!) {
      comparePeriods(aFrom: $aFrom, aTo: $aTo, bFrom: $bFrom, bTo: $bTo, groupBy: AGENT) {
        tests groups { group metrics { metric a b delta ciLow ciHigh pAdjusted significant change } } }
      patterns(from: $aFrom, to: $bTo) {
        idleHeartbeats { agentId heartbeats idle idleShare idleCost }
        errorSignatures { signature sessions example }
        stalledTasks { sessionId } missedCadence { sessionId } failureTerms { term } }
    }"""
    data = await api["viewer"].ok(q, {**WEEK_A, **WEEK_B})
    groups = data["comparePeriods"]["groups"]
    assert {g["group"] for g in groups} >= {"atlas", "nova", "sofia"}
    metrics = [m for g in groups for m in g["metrics"]]
    assert metrics
    for m in metrics:
        assert m["change"] is None or m["significant"]
    idle = data["patterns"]["idleHeartbeats"]
    assert idle and all(h["idle"] <= h["heartbeats"] and h["idleShare"] >= 0.5 for h in idle)
    bad = await api["viewer"].raw(q, {**WEEK_A, **WEEK_B, "bTo": "2026-11-01T00:00:00Z"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_suggestions_applied_show_impact(api: dict[str, Api]) -> None:
    generated = await api["reviewer"].ok(
        'mutation { generateSuggestions(from: "2026-11-06T12:00:00Z", to: "2026-11-20T12:00:00Z") '
        "{ id rule target title body targetMetrics evidence status } }"
    )
    made = generated["generateSuggestions"]
    assert made, "the demo's idle heartbeats warrant at least one suggestion"
    s = made[0]
    assert s["status"] == "open" and s["evidence"] and s["targetMetrics"]
    applied = await api["reviewer"].ok(
        """mutation($id: ID!) { markSuggestionApplied(id: $id, appliedAt: "2026-11-13T12:00:00Z",
             note: "shorter heartbeat prompt") { status appliedAt
             impact(windowDays: 7) { complete metrics { metric a b significant } } } }""",
        {"id": s["id"]},
    )
    got = applied["markSuggestionApplied"]
    assert got["status"] == "applied"
    assert got["impact"] is not None and got["impact"]["metrics"]
    listed = await api["viewer"].ok("{ suggestions(status: APPLIED) { id } }")
    assert s["id"] in [x["id"] for x in listed["suggestions"]]
    assert (
        await api["viewer"].error_code(
            'mutation { setSuggestionStatus(id: "1", status: DISMISSED) { id } }'
        )
        == "FORBIDDEN"
    )
    bad = await api["reviewer"].raw(
        'mutation { setSuggestionStatus(id: "1", status: APPLIED) { id } }'
    )
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "status"}


@pytest.mark.parametrize("bucket", ["WEEK", "DAY"])
async def test_judge_agreement(api: dict[str, Api], bucket: str) -> None:
    q = """query($b: AgreementBucket!) { judgeAgreement(from: "2026-11-06T00:00:00Z", to: "2026-11-21T00:00:00Z",
              bucket: $b) { models { reviewerModel kappa stats { pairs agreementRate } }
              points { bucket reviewerModel stats { pairs } } } }"""
    data = (await api["viewer"].ok(q, {"b": bucket}))["judgeAgreement"]
    assert data["models"]
    for m in data["models"]:
        assert m["stats"]["pairs"] > 0
        assert 0 <= m["stats"]["agreementRate"] <= 1
