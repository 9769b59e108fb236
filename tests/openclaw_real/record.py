"""Record the real gateway's protocol shapes and the per-agent stores into the repository.

``python tests/openclaw_real/record.py [OUT]`` (default ``tests/fixtures/openclaw/real``)
installs OpenClaw if needed, runs the two-agent scenario against the stub model, then records:

- RPC responses: ``sessions.list`` (both agents), ``sessions.usage`` (+ ``.timeseries`` and
  ``.logs`` per main session), ``chat.history`` per main session, ``agents.files.list/get/set``;
- event frames: ``sessions.subscribe`` / ``sessions.messages.subscribe`` acknowledgements and
  the ``sessions.changed`` / ``session.message`` / other frames that arrive while one more turn
  runs through the CLI;
- each agent's ``openclaw-agent.sqlite`` (checkpointed copy, vacuumed).

Everything is scrubbed like ``tests/fixtures/openclaw``: the throw-away root shows as
``/home/user``, the package directory as ``/opt/openclaw-pkg``, the kernel string as
``Linux 6.1.0-generic``; the gateway token and connect nonces are redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import platform
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import websockets
import zstandard

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import openclaw_scenario as scenario  # noqa: E402
from openclaw_gateway import AGENTS, Gateway, fresh_usage, running_gateway  # noqa: E402
from openclaw_install import OPENCLAW_VERSION, install  # noqa: E402
from stub_model import serve_stub  # noqa: E402

DEFAULT_OUT = HERE.parent / "fixtures" / "openclaw" / "real"
KERNEL = re.compile(r"Linux \d+\.\d+[\w.+-]*")


class Scrubber:
    def __init__(self, gw: Gateway) -> None:
        pkg = gw.install.entry.parent
        self.pairs = [
            (gw.token, "<redacted-token>"),
            (str(pkg), "/opt/openclaw-pkg"),
            (str(gw.install.node.parent.parent), "/opt/node"),
            (str(gw.root / "home"), "/home/user"),
            (str(gw.root), "/home/user"),
            (platform.release(), "6.1.0-generic"),  # also appears without the "Linux " prefix
        ]

    def text(self, value: str) -> str:
        for old, new in self.pairs:
            value = value.replace(old, new)
        return KERNEL.sub("Linux 6.1.0-generic", value)

    def json(self, value: Any) -> Any:
        return json.loads(self.text(json.dumps(value)))


class Recorder:
    """A protocol-v4 client that keeps every frame it sees (responses and events)."""

    def __init__(self, gw: Gateway, scopes: list[str]) -> None:
        self.gw = gw
        self.scopes = scopes
        self.frames: list[dict[str, Any]] = []
        self.handshake: list[dict[str, Any]] = []
        self._ws: Any = None
        self._n = 0
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.reply_seen = asyncio.Event()

    async def __aenter__(self) -> Recorder:
        self._ws = await websockets.connect(self.gw.url, max_size=64 * 1024 * 1024)
        challenge = json.loads(await self._ws.recv())
        connect = {
            "type": "req",
            "id": "connect-1",
            "method": "connect",
            "params": {
                "minProtocol": 4,
                "maxProtocol": 4,
                "client": {
                    "id": "gateway-client",
                    "version": "0.1.0",
                    "platform": "linux",
                    "mode": "backend",
                },
                "role": "operator",
                "scopes": self.scopes,
                "caps": [],
                "commands": [],
                "permissions": {},
                "auth": {"token": self.gw.token},
                "userAgent": "session-observatory/0.1.0",
            },
        }
        await self._ws.send(json.dumps(connect))
        while True:
            hello = json.loads(await self._ws.recv())
            if hello.get("type") == "res":
                break
        if not hello.get("ok"):
            raise RuntimeError(f"connect refused: {hello}")
        self.handshake = [challenge, connect, hello]
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()

    async def _read(self) -> None:
        async for raw in self._ws:
            frame = json.loads(raw)
            frame["_receivedAt"] = time.time()
            self.frames.append(frame)
            if frame.get("event") == "session.message" and "Stub reply" in raw:
                self.reply_seen.set()
            waiter = self._waiters.pop(str(frame.get("id")), None)
            if frame.get("type") == "res" and waiter is not None:
                waiter.set_result(frame)

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._n += 1
        rid = f"r-{self._n}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[rid] = future
        request = {"type": "req", "id": rid, "method": method, "params": params}
        await self._ws.send(json.dumps(request))
        response = await asyncio.wait_for(future, 60)
        return {"request": request, "response": response}

    def events(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == "event"]


async def _payload(exchange: Awaitable[dict[str, Any]]) -> Any:
    return (await exchange)["response"].get("payload")


async def record_rpc(gw: Gateway, sc: scenario.Scenario, out: Path, scrub: Scrubber) -> None:
    gateway_dir = out / "gateway"
    gateway_dir.mkdir(parents=True, exist_ok=True)

    def save(name: str, value: Any) -> None:
        (gateway_dir / name).write_text(json.dumps(scrub.json(value), indent=2) + "\n")

    async with Recorder(gw, ["operator.read", "operator.write", "operator.admin"]) as rec:
        save("ws.handshake.write-scopes.json", rec.handshake)
        save("sessions.list.json", await rec.call("sessions.list", {}))
        save(
            "sessions.list.page1.json",
            await rec.call("sessions.list", {"limit": 2, "offset": 0}),
        )
        cold = await rec.call("sessions.usage", {})
        save("sessions.usage.cold.json", cold)
        async with asyncio.timeout(180):
            fresh = await fresh_usage(lambda method, params: _payload(rec.call(method, params)))
        save("sessions.usage.all-agents.json", fresh)
        save("sessions.usage.json", await rec.call("sessions.usage", {}))
        for agent, key in sc.main_keys.items():
            save(
                f"sessions.usage.timeseries.{agent}-main.json",
                await rec.call("sessions.usage.timeseries", {"key": key}),
            )
            save(
                f"sessions.usage.logs.{agent}-main.json",
                await rec.call("sessions.usage.logs", {"key": key, "limit": 1000}),
            )
            save(
                f"chat.history.{agent}-main.json",
                await rec.call("chat.history", {"sessionKey": key}),
            )
        agent = AGENTS[0]
        listing = await rec.call("agents.files.list", {"agentId": agent})
        save("agents.files.list.json", listing)
        names = [
            f.get("name")
            for f in ((listing["response"].get("payload") or {}).get("files") or [])
            if isinstance(f, dict)
        ]
        name = "AGENTS.md" if "AGENTS.md" in names else (names[0] if names else "AGENTS.md")
        got = await rec.call("agents.files.get", {"agentId": agent, "name": name})
        save("agents.files.get.json", got)
        file = (got["response"].get("payload") or {}).get("file") or {}
        content = str(file.get("content") or "") + "\n<!-- recorded by the observatory -->\n"
        save(
            "agents.files.set.json",
            await rec.call(
                "agents.files.set", {"agentId": agent, "name": name, "content": content}
            ),
        )
        save(
            "agents.files.set.conflict.json",
            await rec.call(
                "agents.files.set",
                {"agentId": agent, "name": name, "content": content, "expectedHash": "0" * 64},
            ),
        )

        # Push events: subscribe, then let one more turn (and one heartbeat) run through the CLI.
        rec.frames.clear()
        rec.reply_seen.clear()
        subscribed = await rec.call("sessions.subscribe", {})
        main = sc.main_keys[AGENTS[1]]
        messages = await rec.call("sessions.messages.subscribe", {"key": main})
        turn = asyncio.to_thread(
            gw.cli,
            "agent",
            "--agent",
            AGENTS[1],
            "--message",
            "Fifth turn while someone listens.",
            "--json",
        )
        await turn
        # The turn's last events may trail the CLI's exit: wait for its reply's message event.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(rec.reply_seen.wait(), 30)
        save(
            "events.subscribe.json",
            {
                "sessions.subscribe": subscribed,
                "sessions.messages.subscribe": messages,
                "events": rec.events(),
            },
        )


def _octet_length(value: Any) -> int | None:
    if value is None:
        return None
    return len(value if isinstance(value, bytes) else str(value).encode())


def copy_store(src: Path, dest: Path, scrub: Scrubber) -> None:
    """A consistent, scrubbed, vacuumed copy of a live WAL-mode store."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(dest)
    source.backup(target)
    source.close()
    # Debian 12's SQLite 3.40 lacks octet_length(), which OpenClaw's CHECK constraints use.
    target.create_function("octet_length", 1, _octet_length, deterministic=True)
    zc, zd = zstandard.ZstdCompressor(), zstandard.ZstdDecompressor()
    tables = [
        r[0]
        for r in target.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE '%VIRTUAL%'"
        )
    ]
    for table in tables:
        info = target.execute(f'PRAGMA table_info("{table}")').fetchall()
        cols = [r[1] for r in info]
        # WITHOUT ROWID tables are addressed by their primary key instead of the rowid.
        keys = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]] or ["rowid"]
        select = ", ".join(f'"{c}"' if c != "rowid" else c for c in keys)
        where = " AND ".join(f'"{c}" IS ?' if c != "rowid" else "rowid = ?" for c in keys)
        try:
            rows = target.execute(f'SELECT {select}, * FROM "{table}"').fetchall()
        except sqlite3.OperationalError:
            continue  # neither rowid nor primary key: nothing we can address row by row
        for row in rows:
            changes: dict[str, Any] = {}
            for col, value in zip(cols, row[len(keys) :], strict=True):
                if isinstance(value, str):
                    new = scrub.text(value)
                    if new != value:
                        changes[col] = new
                elif isinstance(value, bytes) and col.endswith("zstd"):
                    try:
                        raw = zd.decompress(value, max_output_size=64 * 1024 * 1024).decode()
                    except (zstandard.ZstdError, UnicodeDecodeError):
                        continue
                    new = scrub.text(raw)
                    if new != raw:
                        changes[col] = zc.compress(new.encode())
            if changes:
                sets = ", ".join(f'"{c}" = ?' for c in changes)
                try:
                    target.execute(
                        f'UPDATE "{table}" SET {sets} WHERE {where}',
                        [*changes.values(), *row[: len(keys)]],
                    )
                except sqlite3.DatabaseError:
                    continue  # e.g. a byte-length CHECK on a scrubbed column: keep the row as is
    target.commit()
    target.execute("PRAGMA journal_mode = DELETE")
    target.execute("VACUUM")
    target.close()


def record(gw: Gateway, sc: scenario.Scenario, out: Path) -> None:
    scrub = Scrubber(gw)
    out.mkdir(parents=True, exist_ok=True)
    for agent in AGENTS:
        copy_store(gw.store(agent), out / "sqlite" / agent / "openclaw-agent.sqlite", scrub)
    asyncio.run(record_rpc(gw, sc, out, scrub))
    (out / "scenario.json").write_text(
        json.dumps(scrub.json({"openclaw": OPENCLAW_VERSION, **sc.__dict__}), indent=2) + "\n"
    )


def main() -> int:
    # A plain `kill` must still stop the gateway (the context managers run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    with tempfile.TemporaryDirectory(prefix="openclaw-record-") as tmp:
        with serve_stub() as stub, running_gateway(install(), Path(tmp), stub.base_url) as gw:
            sc = scenario.Scenario()
            try:
                scenario.run(gw, sc)
            except (RuntimeError, TimeoutError) as exc:  # record what there is, say what failed
                sc.error = str(exc)[-2000:]
                print(f"scenario step failed: {exc}", file=sys.stderr)
            record(gw, sc, out)
    shutil.rmtree(out / "tmp", ignore_errors=True)
    print(f"recorded into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
