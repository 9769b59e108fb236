"""docker-compose.yml and the Dockerfile, checked as far as a machine without Docker allows."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from observatory.app import create_app
from observatory.cli import build_parser
from observatory.settings import load_settings
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
    # The API starts after the one-shot migration succeeded (which waits for a healthy db).
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert compose["services"]["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
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


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for op, rest in _instructions():
        if op == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((op, rest))
    return stages


def test_dockerfile() -> None:
    stages = _stages()
    bases = [stage[0][1] for stage in stages]
    assert any(s.startswith("node:") for s in bases), "the dashboard builds in a node stage"
    final = stages[-1]
    assert final[0][1].split()[0] == "python:3.11-slim"
    env = " ".join(rest for op, rest in final if op == "ENV")
    assert "OBSERVATORY_HOST=0.0.0.0" in env
    # A wheel built in an earlier stage; the final stage only copies the finished virtualenv.
    assert any(op == "RUN" and "pip wheel" in rest for stage in stages[:-1] for op, rest in stage)
    runs = " ".join(rest for op, rest in final if op == "RUN")
    for tool in ("pip install", "npm", "apt-get", "gcc", "build-essential"):
        assert tool not in runs, f"the final stage runs {tool}"
    copies = [rest for op, rest in final if op == "COPY"]
    assert copies and all(c.startswith("--from=") for c in copies), "no sources in the image"
    users = [rest for op, rest in final if op == "USER"]
    assert users and users[-1] not in {"root", "0"}, "runs as a non-root user"


def _exec_form(rest: str) -> list[str]:
    argv = json.loads(rest)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    return argv


def _assert_real_command(argv: list[str]) -> None:
    """argv is `observatory …` and the CLI accepts it (exits on an unknown command/option)."""
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert argv[0] in scripts and scripts[argv[0]] == "observatory.cli:main"
    args = build_parser().parse_args(argv[1:])
    assert callable(args.func)


def _app_paths() -> set[str]:
    settings = replace(load_settings(), database_url="postgresql+asyncpg://u@h/d")
    return {getattr(route, "path", "") for route in create_app(settings).routes}


def test_image_entry_point_and_health_check_match_the_app() -> None:
    final = _stages()[-1]
    cmd = _exec_form(next(rest for op, rest in reversed(final) if op == "CMD"))
    _assert_real_command(cmd)
    assert cmd[1] == "serve"
    health = next(rest for op, rest in final if op == "HEALTHCHECK")
    probe = _exec_form(health[health.index("CMD") + len("CMD") :].strip())
    urls = [u for arg in probe for u in re.findall(r"https?://[^'\"\s]+", arg)]
    assert urls, health
    url = urlsplit(urls[0])
    env = " ".join(rest for op, rest in final if op == "ENV")
    assert f"OBSERVATORY_PORT={url.port}" in env and url.hostname in {"127.0.0.1", "localhost"}
    assert url.path == "/readyz" and url.path in _app_paths()
    # python in the probe is the image's interpreter (the virtualenv on PATH has it)
    assert probe[0] == "python"


def test_compose_commands_are_real(compose: dict[str, Any]) -> None:
    services = compose["services"]
    commands = {name: s["command"] for name, s in services.items() if "command" in s}
    assert {"migrate", "api", "sync"} <= set(commands)
    for argv in commands.values():
        _assert_real_command(argv)
    assert commands["migrate"][1] == "migrate"
    assert services["migrate"].get("restart") in ("no", None)
    assert commands["api"][1:] == ["serve", "--no-migrate"]
    assert commands["sync"][1] == "sync" and "--once" not in commands["sync"]
    assert services["sync"].get("profiles") == ["sync"], "the sync worker is optional"


def test_dockerfile_copies_exist_and_are_not_ignored() -> None:
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    instructions = _instructions()
    assert any(op == "COPY" for op, _rest in instructions)
    for op, rest in instructions:
        if op != "COPY" or rest.startswith("--from"):
            continue
        *sources, _dest = shlex.split(rest)
        for source in sources:
            path = source.rstrip("/")
            assert (REPO / path).exists(), f"Dockerfile copies {source}, which is not in the repo"
            assert not any(fnmatch.fnmatch(path, pattern) for pattern in ignored), source


def test_readme_documents_compose() -> None:
    assert "docker compose up" in (REPO / "README.md").read_text()
