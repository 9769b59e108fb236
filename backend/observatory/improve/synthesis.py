"""AI synthesis of proposals: what goes wrong per agent, and one concrete edit to its own files.

Grouping is deterministic: one group per agent with failed or partial reviews of sessions that
started in the period (latest review per session wins, like everywhere else). Each group gets one
chat call with its reviews (summaries, evidence, per-review suggestions), its part of the pattern
report, its period comparison and the current text of its workspace files; the model answers
with one file, a unified diff against that file's text, the rationale, the evidence it relies on
and the metrics the edit should move. The answer is validated (known file, the diff applies
cleanly, size limits) before anything is stored; a failing answer is stored as ``invalid`` with
the reason, so a human sees why, and nothing is written anywhere but our own table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.db.models import Review, Session
from observatory.improve import diffs
from observatory.improve.compare import METRICS, Window, compare_periods
from observatory.improve.models import ImprovementProposal, ProposalStatus
from observatory.improve.patterns import PatternReport, find_patterns
from observatory.review.client import ChatClient, ChatError
from observatory.review.prompt import cut_text, estimate_tokens
from observatory.review.reviewer import MalformedAnswer, _json_object
from observatory.sync.source import AgentFiles, SourceError

log = logging.getLogger(__name__)

MAX_REVIEWS_PER_GROUP = 25  # the most expensive failures first; more adds tokens, not signal
MAX_FILE_TOKENS = 2500  # per workspace file shown to the model

SYSTEM = """You improve an AI agent by editing its own instruction files (its workspace:
AGENTS.md, HEARTBEAT.md, TOOLS.md, ...). You get reviews of its recent failed or partial work,
recurring patterns and metric changes, and the current text of its files. Propose ONE concrete,
minimal edit to ONE existing file that would prevent the most costly recurring failure.

Answer with a JSON object only:
{
  "file": "HEARTBEAT.md",
  "title": "short imperative summary of the change",
  "rationale": "why this edit fixes what the reviews show (2-5 sentences)",
  "diff": "a unified diff against the file's current text, with ---/+++ headers and @@ hunks;
           context lines must match the file exactly",
  "target_metrics": ["failure_rate", ...] (from: METRICS),
  "evidence": {"review_ids": [..], "session_ids": [..]} (ids from the input)
}"""


@dataclass(frozen=True)
class FailedReview:
    review_id: int
    session_id: int
    session_key: str
    title: str | None
    verdict: str
    summary: str
    evidence: Any
    suggestions: Any
    cost: Decimal | None


@dataclass(frozen=True)
class Group:
    agent_id: str
    reviews: list[FailedReview]

    @property
    def sessions_affected(self) -> int:
        return len({r.session_id for r in self.reviews})

    @property
    def cost_at_stake(self) -> Decimal | None:
        costs = {r.session_id: r.cost for r in self.reviews if r.cost is not None}
        return sum(costs.values(), Decimal(0)) if costs else None


FilesFor = Callable[[AsyncSession, str], Awaitable[tuple[AgentFiles | None, int | None]]]


async def failure_groups(
    db: AsyncSession, *, since: datetime, until: datetime, agent_id: str | None = None
) -> list[Group]:
    """Failed/partial sessions that started in ``[since, until)``, grouped by agent (sorted)."""
    q = (
        select(Review, Session)
        .join(Session, Session.id == Review.session_id)
        .where(
            Session.started_at >= since,
            Session.started_at < until,
            Session.latest_review_id == Review.id,
            Review.verdict.in_(("failed", "partial")),
        )
        .order_by(Session.agent_id, Session.total_cost.desc().nulls_last(), Review.id.desc())
    )
    if agent_id:
        q = q.where(Session.agent_id == agent_id)
    groups: dict[str, list[FailedReview]] = {}
    for review, session in await db.execute(q):
        items = groups.setdefault(session.agent_id, [])
        if len(items) < MAX_REVIEWS_PER_GROUP:
            items.append(
                FailedReview(
                    review_id=review.id,
                    session_id=session.id,
                    session_key=session.key,
                    title=session.title,
                    verdict=str(review.verdict),
                    summary=review.summary,
                    evidence=review.evidence,
                    suggestions=review.suggestions,
                    cost=session.total_cost,
                )
            )
    return [Group(a, groups[a]) for a in sorted(groups)]


def _patterns_text(report: PatternReport) -> str:
    lines: list[str] = []
    for e in report.error_signatures[:8]:
        lines.append(
            f"- recurring error in {e.sessions} sessions ({e.failed_sessions} failed), tools "
            f"{', '.join(e.tools) or '-'}: {e.signature[:200]}"
        )
    for h in report.idle_heartbeats:
        lines.append(f"- {h.idle} of {h.heartbeats} heartbeats were idle ({h.idle_share:.0%})")
    for m in report.missed_cadence:
        lines.append(f"- heartbeat cadence: ~{m.missed_beats} beats missed")
    for s in report.stalled_tasks[:5]:
        lines.append(f"- stalled task session {s.session_id}: {s.title or ''}")
    return "\n".join(lines) or "(none found)"


def build_messages(
    group: Group, patterns: str, metrics: str, files: dict[str, str], budget: int
) -> list[dict[str, str]]:
    reviews = "\n".join(
        json.dumps(
            {
                "review_id": r.review_id,
                "session_id": r.session_id,
                "session": r.session_key,
                "title": r.title,
                "verdict": r.verdict,
                "summary": r.summary[:600],
                "evidence": r.evidence,
                "suggestions": r.suggestions,
                "cost_usd": str(r.cost) if r.cost is not None else None,
            },
            default=str,
        )
        for r in group.reviews
    )
    per_file = max(200, min(MAX_FILE_TOKENS, budget // (2 * max(1, len(files)))))
    shown = "\n\n".join(
        f"=== {name} ===\n{cut_text(text, per_file)}" for name, text in sorted(files.items())
    )
    user = (
        f"Agent: {group.agent_id}\n"
        f"Sessions with failed/partial outcomes: {group.sessions_affected}\n\n"
        f"Reviews (JSON lines):\n{cut_text(reviews, budget // 3)}\n\n"
        f"Patterns:\n{patterns}\n\nMetrics, previous period -> this period:\n{metrics}\n\n"
        f"Workspace files (current text):\n{shown}"
    )
    system = SYSTEM.replace("METRICS", ", ".join(METRICS))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class Checked:
    file: str
    diff: str
    title: str
    rationale: str
    target_metrics: list[str]
    evidence: dict[str, list[int]]


def check_answer(content: str, group: Group, files: dict[str, str]) -> Checked:
    """The model's answer, validated; raises ``MalformedAnswer``/``DiffError`` with the reason."""
    data = _json_object(content)
    name = data.get("file")
    if not isinstance(name, str) or not name:
        raise MalformedAnswer("the answer names no file")
    if name not in files:
        raise MalformedAnswer(
            f"unknown file {name!r}: the agent has {', '.join(sorted(files)) or 'no files'}"
        )
    diff = data.get("diff")
    if not isinstance(diff, str) or not diff.strip():
        raise MalformedAnswer("the answer has no diff")
    diffs.apply(diff, files[name], name=name)
    reviews = {r.review_id for r in group.reviews}
    sessions = {r.session_id for r in group.reviews}
    raw_ev = data.get("evidence")
    ev: dict[str, Any] = raw_ev if isinstance(raw_ev, dict) else {}
    review_ids = [i for i in _ints(ev.get("review_ids")) if i in reviews]
    session_ids = [i for i in _ints(ev.get("session_ids")) if i in sessions]
    metrics = [m for m in data.get("target_metrics") or [] if isinstance(m, str) and m in METRICS]
    return Checked(
        file=name, diff=diff if diff.endswith("\n") else diff + "\n",
        title=str(data.get("title") or "")[:300], rationale=str(data.get("rationale") or ""),
        target_metrics=metrics,
        evidence={
            "review_ids": review_ids or sorted(reviews, reverse=True)[:10],
            "session_ids": session_ids or sorted(sessions, reverse=True)[:10],
        },
    )  # fmt: skip


def _ints(value: Any) -> list[int]:
    if not isinstance(value, list):
        return []
    return [int(v) for v in value if isinstance(v, int | str) and str(v).isdigit()]


def _metrics_text(result: Any) -> str:
    rows = result.groups[0].metrics if result.groups else []
    out = []
    for m in rows:
        if m.a is None and m.b is None:
            continue
        note = f" ({m.change})" if m.change else ""
        out.append(f"- {m.metric}: {m.a} -> {m.b}{note}")
    return "\n".join(out) or "(not enough data)"


async def synthesize(
    factory: async_sessionmaker[AsyncSession],
    client: ChatClient,
    files_for: FilesFor,
    *,
    since: datetime,
    until: datetime,
    agent_id: str | None = None,
    prompt_budget: int = 12000,
) -> list[ImprovementProposal]:
    """One chat call per agent group; every answer is stored (``proposed`` or ``invalid``) and
    committed. The slow chat calls happen between short database sessions, never inside one."""
    out: list[ImprovementProposal] = []
    before = Window(since - (until - since), since)
    async with factory() as db:
        groups = await failure_groups(db, since=since, until=until, agent_id=agent_id)
    for group in groups:
        async with factory() as db:
            store, source_id = await files_for(db, group.agent_id)
            if store is None:
                log.info("no workspace files reachable for agent %s: skipped", group.agent_id)
                continue
            try:
                names = await store.list_files(group.agent_id)
                files = {
                    n: t for n in names if (t := await store.read(group.agent_id, n)) is not None
                }
            except SourceError as exc:
                log.warning("workspace files of %s unreadable: %s", group.agent_id, exc)
                continue
            finally:
                await store.aclose()
            report = await find_patterns(db, since=since, until=until, agent_id=group.agent_id)
            comparison = await compare_periods(
                db, before, Window(since, until), agent_id=group.agent_id
            )
        messages = build_messages(
            group, _patterns_text(report), _metrics_text(comparison), files, prompt_budget
        )
        row = ImprovementProposal(
            agent_id=group.agent_id, source_id=source_id, writable=store.writable,
            sessions_affected=group.sessions_affected, cost_at_stake=group.cost_at_stake,
            period_start=since, period_end=until, model=client.model,
            evidence={
                "review_ids": [r.review_id for r in group.reviews][:10],
                "session_ids": sorted({r.session_id for r in group.reviews}, reverse=True)[:10],
            },
        )  # fmt: skip
        try:
            result = await client.complete(messages, max_tokens=2000)
            checked = check_answer(result.content, group, files)
        except ChatError as exc:
            log.warning("synthesis for %s failed: %s", group.agent_id, exc)
            continue
        except (MalformedAnswer, diffs.DiffError) as exc:
            row.status, row.error = ProposalStatus.INVALID.value, str(exc)
            answer = _safe_answer(result.content)
            row.file_name = str(answer.get("file") or "")[:100]
            row.diff = str(answer.get("diff") or "")[: diffs.MAX_DIFF_BYTES]
            row.title = str(answer.get("title") or "")[:300]
            row.rationale = str(answer.get("rationale") or "")
            row.base_text = files.get(row.file_name)
        else:
            row.file_name, row.diff, row.title = checked.file, checked.diff, checked.title
            row.rationale, row.target_metrics = checked.rationale, checked.target_metrics
            row.evidence, row.base_text = checked.evidence, files[checked.file]
        row.created_at = row.updated_at = datetime.now(UTC)
        async with factory() as db, db.begin():
            db.add(row)
            await db.flush()
        out.append(row)
        log.info(
            "proposal %s for %s (%s tokens estimated)",
            row.id,
            group.agent_id,
            sum(estimate_tokens(m["content"]) for m in messages),
        )
    return out


def _safe_answer(content: str) -> dict[str, Any]:
    try:
        return _json_object(content)
    except MalformedAnswer:
        return {}
