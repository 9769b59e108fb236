"""Deterministic demo data: agents with main sessions full of heartbeats, task sessions in every
status, runs with tokens and cost, transcripts with text and tool calls, human and AI reviews.

Same seed + same anchor => identical rows. Loaded with COPY in chunks, so 100k sessions / 2M runs
take minutes, not hours.
"""

from __future__ import annotations

import json
import math
import random
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from observatory.auth.keys import generate_secret, hash_secret
from observatory.db.rollup import REFRESH_ALL
from observatory.db.tool_calls import DERIVE_ALL
from observatory.sync.source import Block, MessageContent, TextBlock, ToolCall, ToolResult

AGENTS = [
    ("sofia", "Sofia (ops)", "claude-sonnet-4-5"),
    ("atlas", "Atlas (code)", "gpt-5"),
    ("nova", "Nova (research)", "gemini-2.5-pro"),
    ("orion", "Orion (local)", "qwen3-coder-30b"),
]
# USD per 1M tokens: input, output, cache read, cache write. None => provider reports no usage.
PRICES: dict[str, tuple[float, float, float, float] | None] = {
    "claude-sonnet-4-5": (3.0, 15.0, 0.3, 3.75),
    "gpt-5": (1.25, 10.0, 0.125, 0.0),
    "gemini-2.5-pro": (1.25, 10.0, 0.31, 0.0),
    "qwen3-coder-30b": None,
}
TASKS = [
    "Fix flaky checkout test",
    "Summarise support tickets",
    "Upgrade payment SDK",
    "Draft release notes",
    "Investigate latency spike",
    "Triage new GitHub issues",
    "Refactor billing module",
    "Write onboarding guide",
    "Rotate expiring certificates",
    "Clean up stale feature flags",
    "Analyse churn cohort",
    "Backfill missing invoices",
    "Review pull request",
    "Migrate cron jobs",
    "Audit IAM permissions",
]
TOOLS = ["read", "exec", "web_search", "edit", "sessions_spawn", "browser"]
# name: (weight, median duration ms, error rate). `browser` is the slow one; `exec` the flaky
# one: its error rate rises to FLAKY_RATE in the last FLAKY_DAYS days of the demo.
TOOL_PROFILE = {
    "read": (30, 40, 0.03),
    "exec": (25, 1800, 0.06),
    "web_search": (15, 1200, 0.04),
    "edit": (15, 60, 0.02),
    "sessions_spawn": (5, 300, 0.02),
    "browser": (10, 14000, 0.08),
}
FLAKY_TOOL, FLAKY_RATE, FLAKY_DAYS = "exec", 0.35, 7
# Errors as frameworks report them: one error type, the real message inside. The templates'
# ids, paths and numbers vary per call; their fingerprints are a handful of groups per tool.
TOOL_ERROR_KINDS: dict[str, list[str]] = {
    "read": ["ToolError: ENOENT: no such file or directory, open '/srv/app/src/module_{n}.py'",
             "ToolError: EACCES: permission denied, open '/etc/app/secret_{n}.env'"],
    "exec": ["ToolError: Command failed with exit code {n}: npm test -- --shard={n}",
             "ToolError: Command timed out after {ms} ms: pytest tests/test_{n}.py",
             "ToolError: ENOENT: no such file or directory, open '/srv/app/build/out_{n}.js'",
             "ToolError: spawn /usr/bin/git EAGAIN (pid {n})"],
    "web_search": ["ToolError: HTTP 429 Too Many Requests from https://search.example/q?id={n}",
                   "ToolError: upstream timeout after {ms} ms"],
    "edit": ["ToolError: old_string not found in '/srv/app/src/module_{n}.py'"],
    "sessions_spawn": ["ToolError: session limit reached ({n} running)"],
    "browser": ["ToolError: TimeoutError: navigation timeout of {ms} ms exceeded",
                "ToolError: net::ERR_NAME_NOT_RESOLVED at https://intranet-{n}.example/"],
}  # fmt: skip
TOOL_ERRORS = [
    "ENOENT: no such file or directory, open '/srv/app/config.yml'",
    "Command failed with exit code 1: npm test",
    "HTTP 429 Too Many Requests from api.github.com",
    "TimeoutError: navigation timeout of 30000 ms exceeded",
]
HUMAN_SUMMARIES = {
    "accomplished": ["Did exactly what was asked.", "Clean result, verified the output."],
    "partial": ["Got most of it but skipped the tests.", "Needed a follow-up for edge cases."],
    "failed": ["Gave up after the tool error.", "Misread the task and changed the wrong file."],
    "unclear": ["Cannot tell from the transcript whether it shipped."],
}
SESSION_COLS = [
    "id", "source_id", "key", "agent_id", "provider_session_id", "kind", "status",
    "provider_status", "title", "parent_key", "model", "channel", "started_at", "updated_at",
    "ended_at", "archived_at", "synced_at", "transcript_synced_at",
]  # fmt: skip
RUN_COLS = [
    "id", "session_id", "agent_id", "provider_run_id", "trigger", "status", "started_at",
    "finished_at", "duration_ms", "model", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_tokens", "cost", "error", "prompt_preview", "outcome_preview",
    "tool_call_count", "tool_error_count",
]  # fmt: skip
MESSAGE_COLS = [
    "session_id", "provider_session_id", "seq", "provider_event_id", "parent_event_id", "run_id",
    "provider_run_id", "role", "content", "created_at", "model", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens", "cost", "is_error",
]  # fmt: skip
VERDICTS = ["accomplished", "partial", "failed", "unclear"]
# Of the human-reviewed targets, this share also gets a later AI review (a judge-vs-human pair:
# ~40 pairs in the default demo, enough to chart agreement), and this share of the pairs
# disagree (shown first in the review queue).
PAIRED_SHARE = 0.6
DISAGREE_SHARE = 0.25
# One main session misses its heartbeat cadence: no beats in this window before the anchor.
SILENT_AGENT = "nova"
SILENT_HOURS = (20, 6)
REVIEW_COLS = [
    "session_id", "run_id", "verdict", "rating", "summary", "reviewer_kind", "reviewer_model",
    "confidence", "created_by_api_key_id", "created_at", "updated_at",
]  # fmt: skip


@dataclass
class DemoConfig:
    sessions: int = 240
    runs_per_session: int = 4
    seed: int = 7
    anchor: datetime | None = None
    days: int = 30
    heartbeat_every_h: float = 2.0
    transcripts: int = 5000  # sessions (by index) that get a message transcript


@dataclass
class DemoReport:
    agents: int = 0
    sessions: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    triggers: Counter[str] = field(default_factory=Counter)
    messages: int = 0
    reviews: Counter[str] = field(default_factory=Counter)

    @property
    def runs(self) -> int:
        return sum(self.triggers.values())


def default_anchor() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _cost(model: str, inp: int, out: int, cr: int, cw: int) -> Decimal | None:
    price = PRICES[model]
    if price is None:
        return None
    usd = (inp * price[0] + out * price[1] + cr * price[2] + cw * price[3]) / 1e6
    return Decimal(f"{usd:.8f}")


class _Builder:
    def __init__(self, cfg: DemoConfig, source_id: int, reviewer_key_id: int) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.anchor = cfg.anchor or default_anchor()
        self.source_id = source_id
        self.reviewer_key_id = reviewer_key_id
        self.session_id = 0
        self.run_id = 0
        self.sessions: list[tuple[Any, ...]] = []
        self.runs: list[tuple[Any, ...]] = []
        self.messages: list[tuple[Any, ...]] = []
        self.reviews: list[tuple[Any, ...]] = []
        self.report = DemoReport()

    def flush(self) -> dict[str, list[tuple[Any, ...]]]:
        out = {
            "sessions": self.sessions,
            "runs": self.runs,
            "messages": self.messages,
            "reviews": self.reviews,
        }
        self.sessions, self.runs, self.messages, self.reviews = [], [], [], []
        return out

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add_session(self, **values: Any) -> int:
        self.session_id += 1
        values["id"] = self.session_id
        values.setdefault("source_id", self.source_id)
        values.setdefault("synced_at", self.anchor)
        values.setdefault("transcript_synced_at", self.anchor)
        self.sessions.append(tuple(values.get(c) for c in SESSION_COLS))
        self.report.sessions[values["kind"]] += 1
        self.report.statuses[values["status"]] += 1
        return self.session_id

    def add_run(
        self,
        *,
        session_id: int,
        agent: str,
        model: str,
        trigger: str,
        started: datetime,
        status: str,
        prompt: str,
        outcome: str | None,
        provider_session_id: str,
        seq: int,
        with_transcript: bool,
        small: bool = False,
    ) -> tuple[int, datetime | None, int]:
        rng = self.rng
        self.run_id += 1
        run_id = self.run_id
        provider_run_id = f"run-{self._uuid()}"
        if trigger == "announce":
            provider_run_id = f"announce:v1:{provider_run_id}"
        duration_ms = int(rng.lognormvariate(8.5 if small else 10.3, 0.6))
        finished = None if status == "running" else started + timedelta(milliseconds=duration_ms)
        tools = 0 if small else rng.choice([0, 1, 1, 2, 3, 5])
        plan = self._tool_plan(tools, started)
        tool_errors = sum(1 for _name, err in plan if err)
        error = rng.choice(TOOL_ERRORS) if status == "failed" else None
        inp = int(rng.lognormvariate(8.9 if small else 9.6, 0.5))
        out = int(rng.lognormvariate(3.2 if small else 6.4, 0.7))
        cache_read = int(inp * rng.uniform(0.3, 0.9))
        cache_write = int(inp * rng.uniform(0.0, 0.1))
        cost = _cost(model, inp, out, cache_read, cache_write)
        tokens: tuple[int | None, ...] = (inp, out, cache_read, cache_write)
        if cost is None:  # provider without usage data: unknown, not zero
            tokens = (None, None, None, None)
        self.runs.append(
            (
                run_id, session_id, agent, provider_run_id, trigger, status, started,
                finished, None if finished is None else duration_ms, model, *tokens, cost,
                error, prompt[:500], (outcome or "")[:500] or None, tools, tool_errors,
            )
        )  # fmt: skip
        self.report.triggers[trigger] += 1
        if with_transcript:
            seq = self._transcript(
                session_id, provider_session_id, seq, run_id, provider_run_id, started,
                duration_ms, prompt, outcome, model, tokens, cost, plan, error,
            )  # fmt: skip
        return run_id, finished, seq

    def _tool_plan(self, tools: int, at: datetime) -> list[tuple[str, bool]]:
        """Which tools a run calls and which of those calls fail."""
        rng = self.rng
        names = rng.choices(list(TOOL_PROFILE), [w for w, _d, _e in TOOL_PROFILE.values()], k=tools)
        recent = at >= self.anchor - timedelta(days=FLAKY_DAYS)
        return [
            (n, rng.random() < (FLAKY_RATE if recent and n == FLAKY_TOOL else TOOL_PROFILE[n][2]))
            for n in names
        ]

    def _transcript(
        self,
        session_id: int,
        psid: str,
        seq: int,
        run_id: int,
        prun: str,
        started: datetime,
        duration_ms: int,
        prompt: str,
        outcome: str | None,
        model: str,
        tokens: tuple[int | None, ...],
        cost: Decimal | None,
        plan: list[tuple[str, bool]],
        error: str | None,
    ) -> int:
        rng = self.rng
        tools = len(plan)
        step = timedelta(milliseconds=max(1, duration_ms // (2 + 2 * tools)))
        at = started
        parent: str | None = None

        def emit(
            role: str,
            blocks: list[Block],
            usage: bool = False,
            err: bool = False,
        ) -> None:
            nonlocal seq, at, parent
            event_id = f"{rng.getrandbits(32):08x}"
            share = (lambda v: None if v is None else v // (tools + 1)) if usage else None
            self.messages.append(
                (
                    session_id, psid, seq, event_id, parent, run_id, prun, role,
                    json.dumps(MessageContent(blocks).to_json()), at, model if role == "assistant" else None,
                    *(share(t) if share else None for t in tokens),
                    (None if cost is None else (cost / (tools + 1)).quantize(Decimal("1e-8")))
                    if usage
                    else None,
                    err,
                )
            )  # fmt: skip
            self.report.messages += 1
            seq += 1
            at += step
            parent = event_id

        emit("user", [TextBlock(prompt)])
        for i, (name, is_err) in enumerate(plan):
            call_id = f"call_{rng.getrandbits(40):010x}"
            args = {"path": f"/srv/app/src/module_{rng.randint(1, 40)}.py"}
            emit(
                "assistant",
                [
                    TextBlock(f"Step {i + 1}: using {name}."),
                    ToolCall(call_id, name, args),
                ],
                usage=True,
            )
            # The result arrives after the tool's own latency (the run's pacing resumes after).
            took = timedelta(milliseconds=rng.lognormvariate(math.log(TOOL_PROFILE[name][1]), 0.5))
            at += took - step
            result = (
                rng.choice(TOOL_ERROR_KINDS[name]).format(
                    n=rng.randint(1, 400), ms=rng.choice([10000, 30000, 60000])
                )
                if is_err
                else f"ok: {name} returned {rng.randint(1, 900)} lines"
            )
            emit("tool_result", [ToolResult(call_id, name, is_err, result)], err=is_err)
        final = outcome or (f"Failed: {error}" if error else "Working on it…")
        emit("assistant", [TextBlock(final)], usage=True, err=error is not None)
        return seq

    def add_review(self, session_id: int, run_id: int | None, at: datetime, hint: str) -> None:
        """One review, human or AI; some targets get both (a judge-vs-human pair), the AI one
        later, disagreeing about one time in four so the queue shows disagreements."""
        rng = self.rng
        at = min(at, self.anchor)  # never a review from the future
        weights = {
            "completed": [70, 20, 5, 5],
            "failed": [5, 20, 70, 5],
            "heartbeat": [80, 10, 5, 5],
        }[hint]
        verdict = rng.choices(VERDICTS, weights)[0]
        human = rng.random() < 0.55
        self._append_review(session_id, run_id, verdict, human, at)
        if human and rng.random() < PAIRED_SHARE:
            ai_at = min(at + timedelta(hours=rng.uniform(0.5, 6)), self.anchor)
            ai_verdict = verdict
            if rng.random() < DISAGREE_SHARE:
                ai_verdict = rng.choice([v for v in VERDICTS if v != verdict])
            self._append_review(session_id, run_id, ai_verdict, False, ai_at)

    def _append_review(
        self, session_id: int, run_id: int | None, verdict: str, human: bool, at: datetime
    ) -> None:
        rng = self.rng
        rating = {"accomplished": (4, 5), "partial": (2, 4), "failed": (1, 2), "unclear": (2, 3)}[
            verdict
        ]
        summary = rng.choice(HUMAN_SUMMARIES[verdict])
        self.reviews.append(
            (
                session_id, run_id, verdict, rng.randint(*rating),
                summary if human else f"AI: {summary}", "human" if human else "ai",
                None if human else "gpt-5-mini", None if human else round(rng.uniform(0.4, 0.98), 2),
                self.reviewer_key_id if human else None, at, at,
            )
        )  # fmt: skip
        self.report.reviews["human" if human else "ai"] += 1


# Task-session status mix per 100 sessions.
STATUS_MIX = {"completed": 55, "failed": 15, "running": 8, "pending": 5, "archived": 17}


async def _problem_sources(conn: asyncpg.Connection, anchor: datetime) -> None:
    """Two sources that need attention, so the header's sync warning and the sources list have
    something to show: one stale (last success hours ago), one with an open circuit. Their kind
    starts with ``demo`` so the sync runner leaves them as they are (no peer behind them)."""
    await conn.executemany(
        "INSERT INTO sync_sources (name, kind, config, last_attempt_at, last_success_at, "
        "last_error, last_error_at, consecutive_failures, circuit_state, circuit_opened_at, "
        "next_attempt_at) VALUES ($1, 'demo-gateway', '{}', $2, $3, $4, $5, $6, $7, $8, $9)",
        [
            (
                "gateway-eu", anchor - timedelta(hours=3), anchor - timedelta(hours=3),
                None, None, 0, "closed", None, None,
            ),
            (
                "gateway-lab", anchor - timedelta(minutes=10), anchor - timedelta(days=2),
                "connect ECONNREFUSED 10.0.4.12:18789", anchor - timedelta(minutes=10), 7,
                "open", anchor - timedelta(hours=1), anchor + timedelta(minutes=20),
            ),
        ],
    )  # fmt: skip


def _status_cycle() -> list[str]:
    """The STATUS_MIX as a sequence of 100 that shows every status within its first five and
    stays proportional throughout (smooth weighted round-robin), so even ``--sessions 5``
    covers every status and a small demo is not all 'completed'."""
    cycle = list(STATUS_MIX)
    left = {s: n - 1 for s, n in STATUS_MIX.items()}
    credit = dict.fromkeys(STATUS_MIX, 0)
    total = sum(left.values())
    for _ in range(total):
        for s in credit:
            credit[s] += left[s]
        pick = max(credit, key=lambda s: credit[s])
        credit[pick] -= total
        cycle.append(pick)
    return cycle


async def _copy(conn: asyncpg.Connection, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    columns = {
        "sessions": SESSION_COLS,
        "runs": RUN_COLS,
        "messages": MESSAGE_COLS,
        "reviews": REVIEW_COLS,
    }
    for table in ("sessions", "runs", "messages", "reviews"):
        if rows[table]:
            await conn.copy_records_to_table(table, records=rows[table], columns=columns[table])


async def load_demo(
    dsn: str,
    cfg: DemoConfig,
    *,
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Load demo data into an empty database at ``dsn`` (a plain asyncpg DSN)."""
    conn = await asyncpg.connect(dsn)
    try:
        # COPY is binary: jsonb's binary form is a version byte (1) then the JSON text.
        await conn.set_type_codec(
            "jsonb",
            schema="pg_catalog",
            encoder=lambda v: b"\x01" + v.encode(),
            decoder=lambda b: json.loads(b[1:]),
            format="binary",
        )
        if await conn.fetchval("SELECT count(*) FROM sessions"):
            raise RuntimeError(
                "the database already holds sessions; demo data loads only into an empty one"
            )
        async with conn.transaction():
            report = await _load(conn, cfg, progress or (lambda _m: None))
        return report
    finally:
        await conn.close()


async def _load(
    conn: asyncpg.Connection, cfg: DemoConfig, progress: Callable[[str], None]
) -> DemoReport:
    source_id = await conn.fetchval(
        "INSERT INTO sync_sources (name, kind, config, last_attempt_at, last_success_at) "
        "VALUES ('demo', 'demo', '{}', now(), now()) RETURNING id"
    )
    await _problem_sources(conn, cfg.anchor or default_anchor())
    prefix, secret = generate_secret()
    reviewer_key = await conn.fetchval(
        "INSERT INTO api_keys (name, prefix, hash, role) VALUES ('alice (demo reviewer)', $1, $2, "
        "'reviewer') RETURNING id",
        prefix,
        hash_secret(secret),
    )
    b = _Builder(cfg, source_id, reviewer_key)
    rng, anchor = b.rng, b.anchor
    start = anchor - timedelta(days=cfg.days)
    await conn.executemany(
        "INSERT INTO agents (id, display_name, provider, first_seen_at, last_seen_at) "
        "VALUES ($1, $2, 'openclaw', $3, $4)",
        [(a, name, start, anchor) for a, name, _m in AGENTS],
    )
    b.report.agents = len(AGENTS)

    # Main sessions: eternal, heartbeats every few hours plus some user turns.
    for agent, name, model in AGENTS:
        psid = b._uuid()
        sid = b.add_session(
            key=f"agent:{agent}:main", agent_id=agent, provider_session_id=psid, kind="main",
            status="running", provider_status="running", title=f"{name} — main", model=model,
            channel="webchat", started_at=start, updated_at=anchor,
        )  # fmt: skip
        t, seq = start, 0
        n = 0
        silent_from, silent_to = (anchor - timedelta(hours=h) for h in SILENT_HOURS)
        while t < anchor - timedelta(minutes=5):
            if agent == SILENT_AGENT and silent_from <= t < silent_to:
                t = silent_to  # the gateway was down: a gap of missed heartbeats
                continue
            n += 1
            is_hb = rng.random() < 0.8
            prompt = "[OpenClaw heartbeat poll]" if is_hb else rng.choice(TASKS) + "?"
            quiet = rng.random() < 0.7
            outcome = (
                "HEARTBEAT_OK"
                if is_hb and quiet
                else f"Checked inbox; {rng.randint(1, 5)} items handled."
            )
            status = "failed" if rng.random() < 0.03 else "completed"
            run_id, finished, seq = b.add_run(
                session_id=sid, agent=agent, model=model, trigger="heartbeat" if is_hb else "message",
                started=t, status=status, prompt=prompt, outcome=outcome, provider_session_id=psid,
                seq=seq, with_transcript=True, small=is_hb,
            )  # fmt: skip
            if is_hb and rng.random() < 0.08:
                b.add_review(sid, run_id, (finished or t) + timedelta(hours=1), "heartbeat")
            t += timedelta(hours=cfg.heartbeat_every_h * rng.uniform(0.8, 1.25))
        # An isolated heartbeat session and a cron session per agent.
        for kind, key, title in (
            ("heartbeat", f"agent:{agent}:main:heartbeat", "Isolated heartbeat"),
            ("cron", f"agent:{agent}:cron:{b._uuid()[:8]}", "Nightly report (cron)"),
        ):
            csid, cpsid = 0, b._uuid()
            started = start + timedelta(hours=rng.uniform(0, 24))
            csid = b.add_session(
                key=key, agent_id=agent, provider_session_id=cpsid, kind=kind, status="completed",
                provider_status="done", title=title, model=model, channel=None, started_at=started,
                updated_at=anchor - timedelta(hours=rng.uniform(1, 20)),
            )  # fmt: skip
            seq, t = 0, started
            for _ in range(min(cfg.days, 30)):
                _rid, _fin, seq = b.add_run(
                    session_id=csid, agent=agent, model=model,
                    trigger="heartbeat" if kind == "heartbeat" else "cron", started=t,
                    status="completed", prompt="[OpenClaw heartbeat poll]" if kind == "heartbeat"
                    else "Compile the nightly report", outcome="HEARTBEAT_OK" if kind == "heartbeat"
                    else "Report sent.", provider_session_id=cpsid, seq=seq, with_transcript=True,
                    small=True,
                )  # fmt: skip
                t += timedelta(days=cfg.days / min(cfg.days, 30))
    await _copy(conn, b.flush())

    # Task sessions: spawned by a main session, every status.
    statuses = _status_cycle()
    chunk = 2000
    span = (anchor - start).total_seconds()
    for i in range(cfg.sessions):
        agent, name, model = AGENTS[i % len(AGENTS)] if i < len(AGENTS) else rng.choice(AGENTS)
        status = statuses[i % len(statuses)] if i < len(statuses) else rng.choice(statuses)
        psid = b._uuid()
        started = start + timedelta(seconds=span * (i + rng.random()) / max(cfg.sessions, 1))
        if status in ("running", "pending"):
            started = anchor - timedelta(minutes=rng.uniform(2, 120))
        title = rng.choice(TASKS)
        n_runs = (
            0 if status == "pending" else max(1, int(rng.uniform(0.5, 1.5) * cfg.runs_per_session))
        )
        sid = b.session_id + 1
        t, seq, last_finished = started, 0, started
        run_ids: list[int] = []
        for r in range(n_runs):
            last = r == n_runs - 1
            run_status = "completed"
            if last and status == "failed":
                run_status = "failed"
            elif last and status == "running":
                run_status = "running"
            trigger = (
                "spawn" if r == 0 else ("announce" if last and status != "running" else "message")
            )
            run_id, finished, seq = b.add_run(
                session_id=sid, agent=agent, model=model, trigger=trigger, started=t,
                status=run_status, prompt=f"[Subagent Context] {title}" if r == 0 else "Continue.",
                outcome=None if run_status != "completed" else f"{title}: done.",
                provider_session_id=psid, seq=seq, with_transcript=i < cfg.transcripts,
            )  # fmt: skip
            run_ids.append(run_id)
            last_finished = finished or t
            t = last_finished + timedelta(seconds=rng.uniform(1, 60))
        ended = last_finished if status in ("completed", "failed", "archived") else None
        b.add_session(
            key=f"agent:{agent}:subagent:{psid}", agent_id=agent, provider_session_id=psid,
            kind="task", status=status,
            provider_status={"completed": "done", "archived": "done", "failed": "failed"}.get(status, status),
            title=title, parent_key=f"agent:{agent}:main", model=model, channel=None,
            started_at=started, updated_at=max(last_finished, started), ended_at=ended,
            archived_at=(ended + timedelta(hours=2)) if status == "archived" and ended else None,
        )  # fmt: skip
        if status in ("completed", "failed", "archived") and rng.random() < 0.45:
            b.add_review(sid, None, (ended or started) + timedelta(hours=rng.uniform(1, 30)),
                         "failed" if status == "failed" else "completed")  # fmt: skip
        if len(b.sessions) >= chunk:
            await _copy(conn, b.flush())
            progress(f"sessions {i + 1}/{cfg.sessions}  runs {b.report.runs}")
    await _copy(conn, b.flush())
    progress("computing session roll-ups")
    for table in ("sessions", "runs"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    await conn.execute(str(REFRESH_ALL))
    progress("deriving tool calls")
    await conn.execute(DERIVE_ALL)
    await conn.execute("ANALYZE")
    return b.report


def loading_marker(data_dir: Path) -> Path:
    """Present while `serve --demo` loads demo data in the background (read by /status).

    A file, not process state: with ``--workers N`` the app runs in other processes.
    """
    return data_dir / "demo-loading"


def print_progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)
