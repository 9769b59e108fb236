"""/metrics (key-protected, merged across worker processes), request ids and JSON access logs."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pythonjsonlogger.json import JsonFormatter

from observatory.app import create_app
from observatory.monitoring import prom
from observatory.monitoring.context import RequestContextFilter
from observatory.monitoring.logs import FIELDS, log_config
from observatory.settings import load_settings

KEY = "metrics-secret-0123456789"


@pytest.fixture(scope="module")
async def mclient(demo_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = dataclasses.replace(
        load_settings(), database_url=demo_db, frontend_dir=None, metrics_key=KEY
    )
    app = create_app(settings, run_background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def test_metrics_need_the_key(mclient: httpx.AsyncClient) -> None:
    assert (await mclient.get("/metrics")).status_code == 401
    wrong = await mclient.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


async def test_metrics_are_off_without_a_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 404


async def test_operations_and_error_codes_are_counted(
    mclient: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    auth = {"Authorization": f"Bearer {keys['viewer']}"}
    query = {"query": "query ListAgents { agents { id } }", "operationName": "ListAgents"}
    assert (await mclient.post("/graphql", json=query, headers=auth)).status_code == 200
    denied = {"query": "query Keys { apiKeys { id } }"}
    await mclient.post("/graphql", json=denied, headers=auth)  # viewer: FORBIDDEN
    body = (await mclient.get("/metrics", headers={"Authorization": f"Bearer {KEY}"})).text
    lines = body.splitlines()
    assert any(
        line.startswith("observatory_graphql_operation_seconds_count{")
        and 'operation="ListAgents"' in line
        and 'type="query"' in line
        for line in lines
    ), body[:2000]
    forbidden = [
        ln for ln in lines if ln.startswith('observatory_graphql_errors_total{code="FORBIDDEN"}')
    ]
    assert forbidden and float(forbidden[0].split()[-1]) >= 1
    assert "observatory_db_pool_connections_in_use" in body


def test_operation_labels_are_bounded() -> None:
    assert prom.operation_label("a b-c") == "a_b_c"
    assert prom.operation_label(None) == "anonymous"
    assert len(prom.operation_label("x" * 500)) == 64


def test_counters_add_up_across_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = (
        "from observatory.monitoring import prom\n"
        "prom.graphql_errors.labels('MULTI').inc(3)\n"
        "prom.subscribers.inc(2)\n"
    )
    env = {**os.environ, prom.MULTIPROC_ENV: str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    monkeypatch.setenv(prom.MULTIPROC_ENV, str(tmp_path))
    body = prom.exposition()[0].decode()
    assert 'observatory_graphql_errors_total{code="MULTI"} 6.0' in body


async def test_request_id_header_and_json_access_log(
    mclient: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = log_config("json", "info")["formatters"]["main"]
    handler.setFormatter(
        JsonFormatter(FIELDS, rename_fields=formatter["rename_fields"], timestamp=False)
    )
    handler.addFilter(RequestContextFilter())
    access = logging.getLogger("observatory.access")
    access.addHandler(handler)
    old_level = access.level
    access.setLevel(logging.INFO)
    try:
        secret = keys["viewer"]
        response = await mclient.post(
            "/graphql",
            json={"query": "query Me { me { name } }", "operationName": "Me"},
            headers={"Authorization": f"Bearer {secret}", "X-Request-ID": "req-123"},
        )
        fresh = await mclient.get("/healthz")
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    assert response.headers["x-request-id"] == "req-123"
    assert len(fresh.headers["x-request-id"]) == 32  # none given: a new one
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert records, "no access log line"
    first = records[0]
    assert first["request_id"] == "req-123"
    assert first["operation"] == "Me"
    assert isinstance(first["key_id"], int)
    assert first["status"] == 200 and first["duration_ms"] >= 0
    assert first["level"] == "INFO" and first["logger"] == "observatory.access"
    assert secret not in stream.getvalue()
