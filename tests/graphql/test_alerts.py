"""Alerts over GraphQL: rules, silences, endpoints and history by scope; alertFired live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.alerts.engine import evaluate
from observatory.db.engine import make_session_factory
from tests.graphql.conftest import Api
from tests.graphql.test_subscriptions import connect

CREATE_RULE = """
mutation($i: AlertRuleInput!) {
  createAlertRule(input: $i) { id name kind agentId threshold windowSeconds minSample enabled }
}"""


def _rule(**overrides: object) -> dict[str, object]:
    rule: dict[str, object] = {
        "name": "atlas failing",
        "kind": "FAILURE_RATE",
        "agentId": "atlas",
        "threshold": 0.0001,
        "windowSeconds": 31 * 86400,
        "minSample": 1,
    }
    return rule | overrides


async def test_operator_manages_rules_and_viewer_reads_history(
    api: dict[str, Api], demo_engine: AsyncEngine
) -> None:
    assert await api["viewer"].error_code(CREATE_RULE, {"i": _rule()}) == "FORBIDDEN"
    created = (await api["operator"].ok(CREATE_RULE, {"i": _rule()}))["createAlertRule"]
    assert created["kind"] == "FAILURE_RATE" and created["agentId"] == "atlas"

    async with make_session_factory(demo_engine)() as db, db.begin():
        result = await evaluate(db, datetime.now(UTC))
    assert result.evaluated and result.fired

    data = await api["viewer"].ok(
        "query($r: ID) { alerts(ruleId: $r, first: 5) { totalCount edges { node {"
        " subject state agentId message rule { name kind } } } } }",
        {"r": created["id"]},
    )
    assert data["alerts"]["totalCount"] == 1
    node = data["alerts"]["edges"][0]["node"]
    assert node["subject"] == "agent:atlas" and node["state"] == "FIRING"
    assert node["rule"] == {"name": "atlas failing", "kind": "FAILURE_RATE"}
    rules = await api["viewer"].ok('{ alertRules(agentId: "atlas") { id } }')
    assert {"id": created["id"]} in rules["alertRules"]

    updated = await api["operator"].ok(
        "mutation($id: ID!, $i: AlertRuleInput!) { updateAlertRule(id: $id, input: $i) { enabled } }",
        {"id": created["id"], "i": _rule(enabled=False)},
    )
    assert updated["updateAlertRule"] == {"enabled": False}


async def test_rule_input_is_validated(api: dict[str, Api]) -> None:
    for bad, field in [
        (_rule(threshold=2), "input.threshold"),
        (_rule(windowSeconds=10), "input.windowSeconds"),
        (_rule(name="  "), "input.name"),
        (_rule(resolveRatio=1.5), "input.resolveRatio"),
    ]:
        body = await api["operator"].raw(CREATE_RULE, {"i": bad})
        ext = body["errors"][0]["extensions"]
        assert (ext["code"], ext["field"]) == ("BAD_USER_INPUT", field)


async def test_silences_and_endpoints(api: dict[str, Api]) -> None:
    ends = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    silence = await api["operator"].ok(
        'mutation($e: DateTime!) { createAlertSilence(input: {endsAt: $e, agentId: "atlas",'
        ' reason: "deploy"}) { id active } }',
        {"e": ends},
    )
    assert silence["createAlertSilence"]["active"] is True
    listed = await api["viewer"].ok("{ alertSilences { id reason } }")
    assert {"id": silence["createAlertSilence"]["id"], "reason": "deploy"} in listed[
        "alertSilences"
    ]

    endpoint = """mutation($u: String!, $s: String) { createWebhookEndpoint(input: {name: "ops-chat",
      url: $u, format: SLACK, signingSecret: $s}) { id format topics signed enabled } }"""
    assert (
        await api["operator"].error_code(endpoint, {"u": "ftp://x", "s": None}) == "BAD_USER_INPUT"
    )
    made = await api["operator"].ok(endpoint, {"u": "https://hooks.example/x", "s": "0" * 32})
    assert made["createWebhookEndpoint"] == {
        "id": made["createWebhookEndpoint"]["id"],
        "format": "SLACK",
        "topics": ["ALERTS"],
        "signed": True,
        "enabled": True,
    }
    assert await api["viewer"].error_code("{ webhookEndpoints { id } }") == "FORBIDDEN"
    assert await api["operator"].error_code(endpoint, {"u": "https://a.b", "s": None}) == "CONFLICT"
    deleted = await api["operator"].ok(
        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
        {"id": made["createWebhookEndpoint"]["id"]},
    )
    assert deleted["deleteWebhookEndpoint"] == made["createWebhookEndpoint"]["id"]


async def test_alert_fired_reaches_subscriber(
    live_url: str, api: dict[str, Api], demo_engine: AsyncEngine, keys: dict[str, str]
) -> None:
    rule = (await api["operator"].ok(CREATE_RULE, {"i": _rule(name="nova", agentId="nova")}))[
        "createAlertRule"
    ]
    factory = make_session_factory(demo_engine)
    async for client in connect(live_url, keys["viewer"]):
        await client.subscribe(
            "a", 'subscription { alertFired(agentId: "nova") { subject state rule { id } } }'
        )
        # The subscription registers with the event hub a moment after `subscribe`: fire
        # (and resolve, so it can fire again) until it is delivered, instead of sleeping.
        for _ in range(50):
            async with factory() as db, db.begin():
                await db.execute(
                    text(
                        "UPDATE alerts SET state = 'resolved', resolved_at = now() "
                        "WHERE rule_id = :r AND state = 'firing'"
                    ),
                    {"r": int(rule["id"])},
                )
                await evaluate(db, datetime.now(UTC))
            try:
                msg = await client.next(wait=0.2)
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("alertFired never delivered")
        assert msg["payload"]["data"]["alertFired"] == {
            "subject": "agent:nova",
            "state": "FIRING",
            "rule": {"id": rule["id"]},
        }
    async with factory() as db, db.begin():  # leave the shared demo database quiet
        await db.execute(text("UPDATE alert_rules SET enabled = false"))
