"""docker-compose.yml and the Dockerfile, checked as far as a machine without Docker allows."""

from __future__ import annotations

import fnmatch
import re
import shlex
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import REPO


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the KEY=value list form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_postgres_service(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert re.fullmatch(r"postgres:16(\.\d+)?(-[\w.]+)?", db["image"])
    health = db["healthcheck"]
    test = health["test"]
    assert test[0] in {"CMD", "CMD-SHELL"} and "pg_isready" in " ".join(test[1:])
    assert {"interval", "retries"} <= set(health)
    # Data in a named volume declared at the top level, mounted where postgres:16 keeps it.
    mounts = [str(v).split(":") for v in db["volumes"]]
    named = [m for m in mounts if not m[0].startswith((".", "/"))]
    assert named and named[0][1] == "/var/lib/postgresql/data"
    assert named[0][0] in (compose.get("volumes") or {})


def test_api_service(compose: dict[str, Any]) -> None:
    api, db = compose["services"]["api"], compose["services"]["db"]
    build = api["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (REPO / context / dockerfile).is_file()
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert "8000:8000" in [str(p) for p in api["ports"]]

    env, db_env = _env(api), _env(db)
    url = urlsplit(env["OBSERVATORY_DATABASE_URL"])
    assert url.scheme == "postgresql+asyncpg"
    assert (url.hostname, url.port or 5432) == ("db", 5432)  # the service name
    assert (url.username, url.password, url.path.lstrip("/")) == (
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
        db_env["POSTGRES_DB"],
    )
    assert env.get("OBSERVATORY_HOST", "0.0.0.0") == "0.0.0.0"


def _instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def test_dockerfile() -> None:
    steps = _instructions()
    stages = [rest for op, rest in steps if op == "FROM"]
    assert any(s.startswith("node:") for s in stages), "the dashboard builds in a node stage"
    assert stages[-1].split()[0] == "python:3.11-slim"
    env = " ".join(rest for op, rest in steps if op == "ENV")
    assert "OBSERVATORY_HOST=0.0.0.0" in env
    cmd = [rest for op, rest in steps if op == "CMD"][-1]
    assert cmd.startswith("[") and "observatory" in cmd and "serve" in cmd
    assert any(op == "RUN" and "pip install" in rest for op, rest in steps)


def test_dockerfile_copies_exist_and_are_not_ignored() -> None:
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for op, rest in _instructions():
        if op != "COPY" or rest.startswith("--from"):
            continue
        *sources, _dest = shlex.split(rest)
        for source in sources:
            path = source.rstrip("/")
            assert (REPO / path).exists(), f"Dockerfile copies {source}, which is not in the repo"
            assert not any(fnmatch.fnmatch(path, pattern) for pattern in ignored), source


def test_readme_documents_compose() -> None:
    assert "docker compose up" in (REPO / "README.md").read_text()
