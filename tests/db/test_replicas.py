"""Read replicas against a real streaming replica on loopback.

A private primary cluster is initdb'd under a temp dir on its own port (the shared 5432 server's
config is never touched), a replica is cloned from it with ``pg_basebackup -R``, and the app is
pointed at both. Replay is paused on the replica to create lag, and the replica is stopped to
check the fallback and /readyz.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from observatory.app import create_app
from observatory.auth.keys import hash_secret
from observatory.db.migrate import upgrade_async
from observatory.db.replicas import MIN_LSN_HEADER, WRITE_LSN_HEADER, format_lsn, parse_lsn
from observatory.settings import load_settings
from tests.livesrv import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (BIN / "pg_basebackup").exists(), reason="no PostgreSQL 15"),
]


def _run(*cmd: str) -> None:
    # PostgreSQL refuses to run as root: run its tools as the postgres user when we are root.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=120)


@dataclass
class Cluster:
    dir: Path
    port: int

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/obs"

    @property
    def url(self) -> str:
        return self.dsn.replace("postgresql://", "postgresql+asyncpg://")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(str(BIN / "pg_ctl"), "-D", str(self.dir), "-o", opts, "-l", f"{self.dir}.log",
             "-w", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        _run(str(BIN / "pg_ctl"), "-D", str(self.dir), "-m", mode, "-w", "stop")


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[Cluster, Cluster]]:
    root = Path(tempfile.mkdtemp(prefix="obs_replicas_"))
    if os.geteuid() == 0:
        os.chown(root, pwd.getpwnam("postgres").pw_uid, -1)
    primary = Cluster(root / "primary", free_port())
    replica = Cluster(root / "replica", free_port())
    started: list[Cluster] = []
    try:
        _run(str(BIN / "initdb"), "-D", str(primary.dir), "-U", "postgres", "-A", "trust",
             "--no-sync")  # fmt: skip
        primary.start()
        started.append(primary)
        _run(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
             "obs")  # fmt: skip
        asyncio.run(upgrade_async(primary.url))
        _run(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U",
             "postgres", "-D", str(replica.dir), "-R", "-X", "stream", "--no-sync", "-c", "fast")  # fmt: skip
        replica.start()
        started.append(replica)
        yield primary, replica
    finally:
        for c in reversed(started):
            try:
                c.stop("immediate")
            except subprocess.CalledProcessError:
                pass  # already stopped by a test
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Setup:
    primary: Cluster
    replica: Cluster
    client: httpx.AsyncClient
    keys: dict[str, str]
    session_id: int

    async def gql(self, role: str, query: str, **headers: str) -> httpx.Response:
        return await self.client.post(
            "/graphql",
            json={"query": query},
            headers={"authorization": f"Bearer {self.keys[role]}", **headers},
        )


async def _until(check: Callable[[], Any], within: float = 10.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
async def setup(clusters: tuple[Cluster, Cluster]) -> AsyncIterator[Setup]:
    primary, replica = clusters
    conn = await asyncpg.connect(primary.dsn)
    keys: dict[str, str] = {}
    try:
        for role in ("viewer", "reviewer"):
            keys[role] = f"obs_{role}_{uuid.uuid4().hex}"
            await conn.execute(
                "INSERT INTO api_keys (name, prefix, hash, role) VALUES ($1, $2, $3, $1)",
                role, role[:8], hash_secret(keys[role]),
            )  # fmt: skip
        source = await conn.fetchval(
            "INSERT INTO sync_sources (name, kind) VALUES ('replicas', 'test') RETURNING id"
        )
        await conn.execute("INSERT INTO agents (id) VALUES ('rio')")
        session_id = await conn.fetchval(
            "INSERT INTO sessions (source_id, key, agent_id, kind, status, started_at, updated_at) "
            "VALUES ($1, 'agent:rio:main', 'rio', 'main', 'running', now(), now()) RETURNING id",
            source,
        )
    finally:
        await conn.close()
    settings = dataclasses.replace(
        load_settings(),
        database_url=primary.url,
        database_replica_urls=(replica.url,),
        replica_poll_s=0.1,
        frontend_dir=None,
    )
    app = create_app(settings, run_background=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        s = Setup(primary, replica, client, keys, session_id)

        async def replica_has_key() -> bool:
            r = await s.gql("viewer", "{ sessions(first: 5) { edges { node { key } } } }")
            ready = (await client.get("/readyz")).json()
            return "agent:rio:main" in r.text and ready["replicas"][0]["status"] == "up"

        await _until(replica_has_key)
        yield s


async def _replay(replica: Cluster, pause: bool) -> None:
    conn = await asyncpg.connect(replica.dsn)
    try:
        await conn.execute(f"SELECT pg_wal_replay_{'pause' if pause else 'resume'}()")
    finally:
        await conn.close()


LATEST = '{ session(id: "%d") { latestReview { summary } } }'
CREATE = (
    'mutation { createReview(input: {sessionId: "%d", verdict: ACCOMPLISHED, rating: 5, '
    'summary: "%s"}) { id } }'
)


async def test_reads_go_to_the_replica_and_a_writer_reads_its_own_writes(setup: Setup) -> None:
    s = setup
    await _replay(s.replica, pause=True)
    try:
        summary = f"written {uuid.uuid4().hex[:8]}"
        write = await s.gql("reviewer", CREATE % (s.session_id, summary))
        assert write.json().get("errors") is None, write.text
        lsn = write.headers[WRITE_LSN_HEADER]
        assert parse_lsn(lsn) is not None
        # The writer's next read goes to the primary (its write is past the replica's replay).
        mine = await s.gql("reviewer", LATEST % s.session_id)
        assert mine.json()["data"]["session"]["latestReview"]["summary"] == summary
        # Anyone else reads the paused replica: the review is not there yet ...
        other = await s.gql("viewer", LATEST % s.session_id)
        assert other.json()["data"]["session"]["latestReview"] is None
        # ... unless the client names the write it must see (e.g. from another worker).
        pinned = await s.gql("viewer", LATEST % s.session_id, **{MIN_LSN_HEADER: lsn})
        assert pinned.json()["data"]["session"]["latestReview"]["summary"] == summary
        ready = (await s.client.get("/readyz")).json()
        assert ready["status"] == "ok"
        assert ready["replicas"][0]["lagBytes"] > 0
    finally:
        await _replay(s.replica, pause=False)

    async def caught_up() -> bool:
        r = await s.gql("viewer", LATEST % s.session_id)
        latest = r.json()["data"]["session"]["latestReview"]
        return latest is not None and latest["summary"] == summary

    await _until(caught_up)


async def test_reads_fall_back_to_the_primary_when_the_replica_goes_down(setup: Setup) -> None:
    s = setup
    s.replica.stop("immediate")
    try:

        async def reported_down() -> bool:
            ready = await s.client.get("/readyz")
            body = ready.json()
            return ready.status_code == 200 and body["replicas"][0]["status"] == "down"

        await _until(reported_down)
        assert (await s.client.get("/readyz")).json()["status"] == "degraded"
        conn = await asyncpg.connect(s.primary.dsn)
        try:
            await conn.execute(
                "UPDATE sessions SET title = 'only on the primary' WHERE id = $1", s.session_id
            )
        finally:
            await conn.close()
        r = await s.gql("viewer", f'{{ session(id: "{s.session_id}") {{ title }} }}')
        assert r.json()["data"]["session"]["title"] == "only on the primary"
    finally:
        s.replica.start()

    async def reported_up() -> bool:
        body = (await s.client.get("/readyz")).json()
        return bool(body["replicas"][0]["status"] == "up")

    await _until(reported_up)


def test_lsn_round_trip() -> None:
    assert parse_lsn("16/B374D848") == (0x16 << 32) + 0xB374D848
    assert format_lsn(parse_lsn("16/B374D848") or 0) == "16/B374D848"
    assert parse_lsn("garbage") is None and parse_lsn(None) is None
