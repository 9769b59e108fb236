"""Every root field declares a scope; each role gets exactly its scopes."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.auth.keys import create_key, revoke_key
from observatory.auth.scopes import ROLE_SCOPES, Scope
from observatory.db.engine import make_session_factory
from observatory.db.enums import Role
from observatory.graphql.permissions import field_scope
from observatory.graphql.schema import build_schema
from tests.graphql.conftest import Api


def test_every_root_field_declares_a_scope() -> None:
    schema = build_schema()
    missing = []
    for root in ("Query", "Mutation", "Subscription"):
        definition = schema.get_type_by_name(root)
        assert definition is not None
        for field in definition.fields:  # type: ignore[union-attr]
            if field_scope(field) is None:
                missing.append(f"{root}.{field.python_name}")
    assert missing == []


# One probe per scope: an operation that needs exactly that scope.
PROBES: dict[Scope, tuple[str, dict[str, object]]] = {
    Scope.SESSIONS_READ: ("{ sessions(first: 1) { edges { node { id } } } }", {}),
    Scope.REVIEWS_READ: ("{ reviews(first: 1) { edges { node { id } } } }", {}),
    Scope.METRICS_READ: (
        '{ metricSummary(from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z") { runCount } }',
        {},
    ),
    Scope.SYNC_READ: ("{ syncStatus { name } }", {}),
    Scope.REVIEWS_WRITE: (
        "mutation($id: ID!) { createReview(input: {sessionId: $id, verdict: PARTIAL, rating: 3,"
        ' summary: "probe"}) { id } }',
        {"id": "1"},
    ),
    Scope.SESSIONS_WRITE: ('mutation { unarchiveSession(id: "1") { id } }', {}),
    Scope.KEYS_ADMIN: ("{ apiKeys { id } }", {}),
    Scope.ALERTS_READ: ("{ alertRules { id } }", {}),
    Scope.ALERTS_WRITE: ("{ webhookEndpoints { id } }", {}),
    Scope.AGENTS_WRITE: ('mutation { dismissProposal(id: "999999999") { id } }', {}),
    Scope.WEBHOOKS_WRITE: ("{ feedWebhooks { id } }", {}),
}
# Probes that pass the scope check and then fail for want of a row (not for the scope).
ALLOWED_ERRORS: dict[Scope, str] = {Scope.AGENTS_WRITE: "NOT_FOUND"}


def test_probes_cover_every_scope() -> None:
    uncovered = set(Scope) - set(PROBES) - {Scope.SYNC_WRITE}
    assert uncovered == set()


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("scope", list(PROBES), ids=lambda s: s.value)
async def test_role_gets_exactly_its_scopes(api: dict[str, Api], role: str, scope: Scope) -> None:
    query, variables = PROBES[scope]
    body = await api[role].raw(query, variables)
    if scope in ROLE_SCOPES[Role(role)] and scope in ALLOWED_ERRORS:
        assert [e["extensions"]["code"] for e in body["errors"]] == [ALLOWED_ERRORS[scope]]
    elif scope in ROLE_SCOPES[Role(role)]:
        assert not body.get("errors"), body
    else:
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert body["data"] is None


@pytest.mark.parametrize("scope", list(PROBES), ids=lambda s: s.value)
async def test_anonymous_is_unauthenticated(api: dict[str, Api], scope: Scope) -> None:
    query, variables = PROBES[scope]
    body = await api["anonymous"].raw(query, variables)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_invalid_and_revoked_keys_are_unauthenticated(
    api: dict[str, Api], demo_engine: AsyncEngine
) -> None:
    bogus = Api(api["admin"].client, "obs_deadbeef_not-a-real-key")
    assert await bogus.error_code("{ me { name } }") == "UNAUTHENTICATED"
    factory = make_session_factory(demo_engine)
    async with factory() as db, db.begin():
        key = await create_key(db, "short-lived", Role.ADMIN)
    live = Api(api["admin"].client, key.secret)
    assert (await live.ok("{ me { name role } }"))["me"] == {"name": "short-lived", "role": "ADMIN"}
    async with factory() as db, db.begin():
        assert await revoke_key(db, key.id)
    # Revoked elsewhere (another process, the CLI): resolved keys are cached, and the NOTIFY
    # from api_keys invalidates them within milliseconds.
    code = None
    for _ in range(100):
        body = await live.raw("{ me { name } }")
        if body.get("errors"):
            code = body["errors"][0]["extensions"]["code"]
            break
        await asyncio.sleep(0.01)
    assert code == "UNAUTHENTICATED"


async def test_me_reports_scopes(api: dict[str, Api]) -> None:
    me = (await api["reviewer"].ok("{ me { role scopes } }"))["me"]
    assert me["role"] == "REVIEWER"
    assert set(me["scopes"]) == {s.value for s in ROLE_SCOPES[Role.REVIEWER]}


async def test_admin_manages_keys_and_secret_is_shown_once(api: dict[str, Api]) -> None:
    created = await api["admin"].ok(
        'mutation { createApiKey(name: "ci bot", role: VIEWER) { secret key { id prefix role } } }'
    )
    secret = created["createApiKey"]["secret"]
    key = created["createApiKey"]["key"]
    assert secret.startswith(f"obs_{key['prefix']}_")
    listed = (await api["admin"].ok("{ apiKeys { id prefix name } }"))["apiKeys"]
    assert any(k["id"] == key["id"] for k in listed)
    assert "secret" not in str(listed)
    bot = Api(api["admin"].client, secret)
    assert (await bot.ok("{ me { role } }"))["me"]["role"] == "VIEWER"
    revoked = await api["admin"].ok(
        "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", {"id": key["id"]}
    )
    assert revoked["revokeApiKey"]["revokedAt"] is not None
    assert await bot.error_code("{ me { role } }") == "UNAUTHENTICATED"
