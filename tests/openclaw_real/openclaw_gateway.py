"""A real OpenClaw gateway on loopback with a throw-away home, a fresh token and nothing outbound.

Everything the gateway would reach out for is switched off, by config key where one exists
and by the environment switch OpenClaw documents otherwise (docs shipped in the package,
``docs/gateway/config-runtime.md`` and ``docs/tools/self-learning.md``):

- update checks: ``update.checkOnStart: false`` + ``OPENCLAW_NO_AUTO_UPDATE=1``;
- hosted model-catalogue refresh: ``models.catalogRefresh.enabled: false``;
- mDNS/Bonjour: ``discovery.mdns.mode: "off"`` + ``OPENCLAW_DISABLE_BONJOUR=1``;
- channels and their sidecars: ``OPENCLAW_SKIP_CHANNELS=1``, ``OPENCLAW_SKIP_GMAIL_WATCHER=1``,
  ``OPENCLAW_SKIP_CANVAS_HOST=1``;
- background Skill Workshop review cron jobs (they call the model on their own, which would
  add sessions nobody asked for): ``skills.workshop.autonomous.mode: "off"``, and memory
  dreaming: ``plugins.entries.memory-core.config.dreaming.enabled: false`` (off by default, but
  the plugin still registers its managed cron job once a system agent is configured).

The only model provider is the stub on loopback (``api: openai-completions``), priced like the
recordings in ``tests/fixtures/openclaw`` (USD per 1M tokens: input 3, output 15, cache read
0.3, cache write 3.75) so cost arithmetic is exercised. Heartbeats are scheduled every 24 h,
i.e. never during a test: every heartbeat is one the scenario asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw_install import Installation

AGENTS = ("sofia", "rex")
PRICE = {"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75}
NOTES = "The observatory notes say: tokens are counted per turn.\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    what: str, check: Callable[[], Any], *, timeout: float, interval: float = 0.25
) -> Any:
    """Poll ``check`` until it returns something truthy (a condition, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


async def fresh_usage(call: Callable[..., Awaitable[Any]]) -> Any:
    """``sessions.usage`` once its cache is fresh: the first call after activity answers from a
    cold cache (``cacheStatus.status`` not ``fresh``, no sessions) and refreshes behind it.
    Without ``agentScope: "all"`` it covers only the effective (system) agent's sessions.
    Callers bound the wait with ``asyncio.timeout``."""
    while True:
        payload = await call("sessions.usage", {"agentScope": "all"})
        status = ((payload or {}).get("cacheStatus") or {}).get("status")
        if status == "fresh" and (payload or {}).get("sessions"):
            return payload
        await asyncio.sleep(1)


def config(root: Path, port: int, token: str, model_url: str) -> dict[str, Any]:
    return {
        "gateway": {
            "mode": "local",
            "port": port,
            "bind": "loopback",
            "auth": {"mode": "token", "token": token},
        },
        "update": {"checkOnStart": False},
        "discovery": {"mdns": {"mode": "off"}},
        "skills": {"workshop": {"autonomous": {"mode": "off"}}},
        "plugins": {"entries": {"memory-core": {"config": {"dreaming": {"enabled": False}}}}},
        "models": {
            "mode": "merge",
            "catalogRefresh": {"enabled": False},
            "providers": {
                "stub": {
                    "baseUrl": model_url,
                    "apiKey": "stub-key",
                    "api": "openai-completions",
                    "models": [
                        {
                            "id": "stub-model",
                            "name": "Stub model",
                            "reasoning": False,
                            "input": ["text"],
                            "cost": PRICE,
                            "contextWindow": 128000,
                            "maxTokens": 4096,
                        }
                    ],
                }
            },
        },
        "agents": {
            "defaults": {
                "model": {"primary": "stub/stub-model"},
                "heartbeat": {"every": "24h"},
                "systemAgent": {"agentId": AGENTS[0]},
            },
            "entries": {
                agent: {"name": agent.title(), "workspace": str(root / f"workspace-{agent}")}
                for agent in AGENTS
            },
        },
    }


@dataclass
class Gateway:
    """A running gateway plus the environment its CLI needs."""

    install: Installation
    root: Path
    port: int
    token: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.root / "gateway.log"

    def store(self, agent: str) -> Path:
        return self.state_dir / "agents" / agent / "agent" / "openclaw-agent.sqlite"

    @property
    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
        return {
            **keep,
            "HOME": str(self.root / "home"),
            "TMPDIR": str(self.root / "tmp"),
            "OPENCLAW_STATE_DIR": str(self.state_dir),
            "OPENCLAW_CONFIG_PATH": str(self.state_dir / "openclaw.json"),
            "OPENCLAW_GATEWAY_TOKEN": self.token,
            "OPENCLAW_GATEWAY_PORT": str(self.port),
            "OPENCLAW_NO_AUTO_UPDATE": "1",
            "OPENCLAW_DISABLE_BONJOUR": "1",
            "OPENCLAW_SKIP_CHANNELS": "1",
            "OPENCLAW_SKIP_GMAIL_WATCHER": "1",
            "OPENCLAW_SKIP_CANVAS_HOST": "1",
            "OPENCLAW_NO_RESPAWN": "1",
            "OPENCLAW_NO_PROMPT": "1",
            "NO_COLOR": "1",
        }

    def cli(self, *args: str, timeout: float = 900) -> str:
        """Run ``openclaw <args>`` against this gateway; stdout on success."""
        done = subprocess.run(
            [*self.install.command, *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"openclaw {' '.join(args)} exited {done.returncode}:\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
        return done.stdout

    def cli_json(self, *args: str, timeout: float = 900) -> Any:
        out = self.cli(*args, "--json", timeout=timeout)
        return json.loads(out[out.index("{") if "{" in out else 0 :])

    def start(self, timeout: float = 180) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                *self.install.command,
                "gateway",
                "run",
                "--port",
                str(self.port),
                "--bind",
                "loopback",
            ],
            env=self.env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends its helpers too
        )
        log.close()

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gateway exited {self.process.returncode}: {self.tail()}")
            return "[gateway] ready" in self.log_path.read_text(errors="replace")

        wait_until("the gateway's ready line", ready, timeout=timeout, interval=0.5)

    def tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 30) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # The gateway drains for up to 5 min by default; a test run does not wait for it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def running_gateway(install: Installation, root: Path, model_url: str) -> Iterator[Gateway]:
    """Prepare a throw-away home under ``root``, start the gateway, stop it on exit."""
    gw = Gateway(install, root, free_port(), secrets.token_urlsafe(24))
    for sub in ("home", "tmp", "state"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for agent in AGENTS:
        workspace = root / f"workspace-{agent}"
        workspace.mkdir(exist_ok=True)
        (workspace / "NOTES.md").write_text(NOTES)
    (gw.state_dir / "openclaw.json").write_text(
        json.dumps(config(root, gw.port, gw.token, model_url), indent=2)
    )
    try:
        gw.start()
        yield gw
    finally:
        gw.stop()
