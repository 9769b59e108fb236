"""Generated data whose answer is known, for period comparison and pattern detection.

Three agents, two 14-day windows (A then B) ending at ``T0``; every agent has task sessions with
runs, reviews and some one-off tool errors, and a main session with a heartbeat every ~2 h.
Everything is drawn from the same distributions in both windows unless a plant says otherwise:

- ``signature``: nova's failed sessions in B all hit one recurring error (a missing config file
  with a different path each time), and their reviews say so;
- ``cost_regression``: atlas costs twice as much per token in B (sessions and heartbeats);
- ``idle``: nova's heartbeats in B answer HEARTBEAT_OK and do nothing;
- ``stall``: one of sofia's tasks has been running without activity for 3 hours;
- ``gap``: sofia's heartbeats stop 12 hours before T0.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.db.models import Agent, Message, Review, Run, SyncSource
from observatory.db.models import Session as SessionRow

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
WINDOW = timedelta(days=14)
A = (T0 - 2 * WINDOW, T0 - WINDOW)
B = (T0 - WINDOW, T0)
AGENTS = {"sofia": 3.0, "atlas": 1.25, "nova": 2.0}  # USD per 1M tokens
SUMMARIES = [
    "Did what was asked and reported back.",
    "Worked through the steps one by one.",
    "Result looks right, checked the output.",
    "Needed a couple of retries along the way.",
    "Handled the request end to end.",
    "Followed the instructions closely.",
]
PLANTED_ERROR = "ENOENT: no such file or directory, open '/srv/app/conf/settings-{n}.yml'"
PLANTED_SUMMARY = "The settings file was missing from the workspace."
_ADJ = ["amber", "brisk", "coral", "dusty", "eager", "fuzzy", "gentle", "hollow", "icy", "jolly"]
_VERB = ["parser", "printer", "checker", "loader"]
_NOUN = ["lintel", "marble", "nectar", "oyster", "pylon", "quiver", "raven", "saddle", "tundra"]


@dataclass(frozen=True)
class Plant:
    signature: bool = False
    cost_regression: bool = False
    idle: bool = False
    stall: bool = False
    gap: bool = False


ALL = Plant(True, True, True, True, True)


async def generate(db: AsyncSession, plant: Plant = Plant(), seed: int = 11) -> None:
    rng = random.Random(seed)
    noise = (
        f"lint rule {a}-{n} violated in {v}" for a, n, v in itertools.product(_ADJ, _NOUN, _VERB)
    )
    db.add(SyncSource(id=1, name="gen", kind="test"))
    for agent in AGENTS:
        db.add(Agent(id=agent))
    await db.flush()
    sessions: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    sid = rid = 0
    planted_n = 0

    def price(agent: str, at: datetime) -> float:
        p = AGENTS[agent]
        return 2 * p if plant.cost_regression and agent == "atlas" and at >= B[0] else p

    for agent in AGENTS:
        for start, _end in (A, B):
            in_b = start == B[0]
            for i in range(60):
                sid += 1
                started = start + timedelta(hours=5.5 * i + rng.uniform(0, 2))
                failed = i % 5 == 2
                ttc = timedelta(seconds=rng.lognormvariate(6.3, 0.5))
                total_tokens, total_cost = 0, 0.0
                t = started
                n_runs = rng.choice([1, 2, 3])
                for r in range(n_runs):
                    rid += 1
                    tokens = int(rng.lognormvariate(9.5, 0.5))
                    cost = tokens * price(agent, started) / 1e6
                    total_tokens += tokens
                    total_cost += cost
                    last = r == n_runs - 1
                    error = None
                    if last and failed:
                        if plant.signature and agent == "nova" and in_b:
                            planted_n += 1
                            error = PLANTED_ERROR.format(n=planted_n)
                        else:
                            error = next(noise)
                    elif rng.random() < 0.1:
                        error = next(noise)
                    runs.append(
                        dict(
                            id=rid, session_id=sid, agent_id=agent, provider_run_id=f"g{rid}",
                            trigger="spawn" if r == 0 else "message",
                            status="failed" if last and failed else "completed",
                            started_at=t, finished_at=t + ttc / n_runs,
                            duration_ms=int(ttc.total_seconds() * 1000 / n_runs), model=f"{agent}-model",
                            input_tokens=tokens - tokens // 10, output_tokens=tokens // 10,
                            cost=Decimal(f"{cost:.8f}"), tool_call_count=1 if error else 0,
                            tool_error_count=1 if error else 0,
                            error=error if last and failed else None,
                        )
                    )  # fmt: skip
                    if error:
                        messages.append(
                            dict(
                                session_id=sid, provider_session_id=f"p{sid}", seq=r, run_id=rid,
                                role="tool_result", created_at=t + timedelta(seconds=5),
                                is_error=True, content={"blocks": [{"type": "tool_result",
                                "tool_call_id": f"c{rid}", "name": "read", "text": error,
                                "is_error": True}]},
                            )
                        )  # fmt: skip
                    t += ttc / n_runs
                ended = started + ttc
                sessions.append(
                    dict(
                        id=sid, source_id=1, key=f"agent:{agent}:subagent:{sid}", agent_id=agent,
                        kind="task", status="failed" if failed else "completed", title="Task",
                        model=f"{agent}-model", started_at=started, updated_at=ended, ended_at=ended,
                        total_tokens=total_tokens, total_cost=Decimal(f"{total_cost:.8f}"),
                        run_count=n_runs, last_run_at=ended,
                    )
                )  # fmt: skip
                if True:  # the AI policy reviews every finished task
                    verdict = (
                        "failed"
                        if failed
                        else rng.choices(["accomplished", "partial"], [85, 15])[0]
                    )
                    summary = rng.choice(SUMMARIES)
                    if failed and plant.signature and agent == "nova" and in_b:
                        summary = f"{summary} {PLANTED_SUMMARY}"
                    human = rng.random() < 0.5
                    at = ended + timedelta(hours=1)
                    reviews.append(
                        dict(
                            session_id=sid, verdict=verdict,
                            rating={"accomplished": 5, "partial": 3, "failed": 1}[verdict],
                            summary=summary, reviewer_kind="human" if human else "ai",
                            reviewer_model=None if human else "judge", confidence=None if human else 0.9,
                            created_at=at, updated_at=at,
                        )
                    )  # fmt: skip
        # The main session with its heartbeats.
        sid += 1
        main = sid
        t = A[0] + timedelta(minutes=rng.uniform(0, 60))
        stop = T0 - (timedelta(hours=12) if plant.gap and agent == "sofia" else timedelta(hours=1))
        while t < stop:
            rid += 1
            idle = plant.idle and agent == "nova" and t >= B[0]
            tokens = int(rng.lognormvariate(8.5, 0.3))
            runs.append(
                dict(
                    id=rid, session_id=main, agent_id=agent, provider_run_id=f"g{rid}",
                    trigger="heartbeat", status="completed", started_at=t,
                    finished_at=t + timedelta(seconds=20), duration_ms=20000, model=f"{agent}-model",
                    input_tokens=tokens, output_tokens=40,
                    cost=Decimal(f"{(tokens + 40) * price(agent, t) / 1e6:.8f}"),
                    outcome_preview="HEARTBEAT_OK" if idle else "Checked inbox; 2 items handled.",
                    tool_call_count=0 if idle else 1, tool_error_count=0,
                )
            )  # fmt: skip
            t += timedelta(hours=2 * rng.uniform(0.9, 1.1))
        sessions.append(
            dict(
                id=main, source_id=1, key=f"agent:{agent}:main", agent_id=agent, kind="main",
                status="running", title="main", model=f"{agent}-model", started_at=A[0],
                updated_at=t, run_count=0,
            )
        )  # fmt: skip
    # A running task: stalled for 3 hours when planted, active 5 minutes ago otherwise.
    sid += 1
    quiet = timedelta(hours=3) if plant.stall else timedelta(minutes=5)
    sessions.append(
        dict(
            id=sid, source_id=1, key=f"agent:sofia:subagent:{sid}", agent_id="sofia", kind="task",
            status="running", title="Long task", model="sofia-model",
            started_at=T0 - timedelta(hours=4), updated_at=T0 - quiet, run_count=0,
        )
    )  # fmt: skip
    await db.execute(insert(SessionRow), sessions)
    await db.execute(insert(Run), runs)
    if messages:
        await db.execute(insert(Message), messages)
    await db.execute(insert(Review), reviews)
