"""Persisted operations by hash (GET for queries, POST for mutations), the per-role requirement,
and GraphQL-over-HTTP's application/graphql-response+json status codes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from observatory.app import create_app
from observatory.graphql.persisted import PersistedOperations, document_hash
from observatory.settings import load_settings

AGENTS = "query Agents { agents { id } }"
ARCHIVE = "mutation Archive($id: ID!) { archiveSession(id: $id) { id } }"
MODERN = {"Accept": "application/graphql-response+json, application/json;q=0.9"}


@pytest.fixture(scope="module")
async def persisted_client(
    demo_db: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    manifest = tmp_path_factory.mktemp("persisted") / "persisted-operations.json"
    manifest.write_text(json.dumps({document_hash(d): d for d in (AGENTS, ARCHIVE)}))
    settings = dataclasses.replace(
        load_settings(),
        database_url=demo_db,
        frontend_dir=None,
        persisted_operations=manifest,
        persisted_only_roles=frozenset({"viewer"}),
    )
    app = create_app(settings, run_background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_query_by_hash_over_get(
    persisted_client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    ext = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": document_hash(AGENTS)}})
    r = await persisted_client.get(
        "/graphql", params={"extensions": ext}, headers=_auth(keys["viewer"])
    )
    assert r.status_code == 200, r.text
    agents = r.json()["data"]["agents"]
    assert agents and {"id": "sofia"} in agents
    # GraphQL-over-HTTP's documentId form, too.
    r = await persisted_client.get(
        "/graphql",
        params={"documentId": f"sha256:{document_hash(AGENTS)}"},
        headers=_auth(keys["viewer"]),
    )
    assert r.json()["data"]["agents"] == agents


async def test_mutation_by_hash_over_post(
    persisted_client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    body = {"documentId": document_hash(ARCHIVE), "variables": {"id": "999999999"}}
    r = await persisted_client.post("/graphql", json=body, headers=_auth(keys["operator"]))
    assert r.status_code == 200
    assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # it ran
    # A mutation may not run over GET, persisted or not.
    r = await persisted_client.get(
        "/graphql", params={"documentId": document_hash(ARCHIVE)}, headers=_auth(keys["operator"])
    )
    assert r.status_code >= 400


async def test_unknown_hash(persisted_client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    body = {"documentId": "ab" * 32}
    r = await persisted_client.post("/graphql", json=body, headers=_auth(keys["admin"]))
    assert r.status_code == 200
    assert r.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    r = await persisted_client.post(
        "/graphql", json=body, headers={**_auth(keys["admin"]), **MODERN}
    )
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in r.json()


async def test_role_that_must_use_persisted_operations(
    persisted_client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    r = await persisted_client.post(
        "/graphql", json={"query": AGENTS}, headers=_auth(keys["viewer"])
    )
    assert r.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    # Other roles may still send any document.
    r = await persisted_client.post(
        "/graphql", json={"query": "{ agents { id displayName } }"}, headers=_auth(keys["admin"])
    )
    assert r.json()["data"]["agents"]


async def test_graphql_response_media_type_status_codes(
    persisted_client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    headers = {**_auth(keys["admin"]), **MODERN}
    ok = await persisted_client.post("/graphql", json={"query": AGENTS}, headers=headers)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/graphql-response+json")
    invalid = await persisted_client.post("/graphql", json={"query": "{ nope }"}, headers=headers)
    assert invalid.status_code == 400
    assert "data" not in invalid.json()
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # A field error after execution started stays 200, with its data entry.
    missing = await persisted_client.post(
        "/graphql", json={"query": ARCHIVE, "variables": {"id": "999999999"}}, headers=headers
    )
    assert missing.status_code == 200 and "data" in missing.json()
    # Plain application/json clients keep 200 for everything well-formed.
    legacy = await persisted_client.post(
        "/graphql", json={"query": "{ nope }"}, headers=_auth(keys["admin"])
    )
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")


def test_manifest_with_a_wrong_hash_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="hash does not match"):
        PersistedOperations({"00" * 32: AGENTS})
