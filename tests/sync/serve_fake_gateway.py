"""Run the fake OpenClaw gateway as a process (for the browser tests).

    python -m tests.sync.serve_fake_gateway '{"agent": {"HEARTBEAT.md": "..."}}'

Prints ``URL ws://127.0.0.1:<port>`` once it listens, then ``WRITE <json>`` for every
``agents.files.set`` it answers; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from tests.conftest import FIXTURES
from tests.sync.openclaw_fake_gateway import FakeGateway, load_recorded, serve


async def main(files_json: str) -> None:
    fake = FakeGateway(load_recorded(FIXTURES))
    fake.files = json.loads(files_json)
    fake.on_write = lambda *write: print("WRITE " + json.dumps(write), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serve(fake) as url:
        print(f"URL {url}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "{}"))
