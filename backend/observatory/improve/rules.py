"""Deterministic suggestion rules: pattern report + period comparison -> concrete changes.

Pure functions, so every rule is unit-testable without a database; ``suggestions`` stores them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from observatory.improve.compare import PeriodComparison
from observatory.improve.patterns import PatternReport


@dataclass(frozen=True)
class Candidate:
    dedupe_key: str
    rule: str
    target: str  # heartbeat_prompt | heartbeat_config | task_execution | tooling
    agent_id: str | None
    title: str
    body: str
    target_metrics: list[str]
    evidence: dict[str, Any]


def _digest(value: str) -> str:
    return hashlib.sha1(value.encode(), usedforsecurity=False).hexdigest()[:16]


# (pattern on the normalised signature, target, title, advice)
_ERROR_ADVICE: list[tuple[re.Pattern[str], str, str, str]] = [
    (re.compile(r"enoent|no such file|not found|cannot find"), "task_execution", "A missing file",
     "Make sure the file exists in the agent's workspace, or state where it lives in the "
     "agent's instructions (AGENTS.md) or the task prompt, so the agent stops guessing paths."),
    (re.compile(r"\b429\b|rate.?limit|too many requests"), "tooling", "Rate limiting",
     "Slow the calls down: add backoff and caching to the tool, batch requests, or give the "
     "agent a token with a higher quota."),
    (re.compile(r"timeout|timed out|etimedout"), "tooling", "Timeouts",
     "Raise the tool's timeout for this step, or have the agent split the work into smaller "
     "steps and retry once before giving up."),
    (re.compile(r"permission denied|eacces|forbidden|\b403\b|unauthori[sz]ed|\b401\b"), "tooling",
     "Missing permissions", "Grant the agent's credentials the access this step needs, or tell "
     "the agent in its instructions that this action is not available to it."),
    (re.compile(r"econnrefused|connection refused|enotfound|unreachable|network"), "tooling",
     "An unreachable service", "Check the service is up and reachable from the agent's host; "
     "add a health check to the heartbeat so the outage is reported instead of retried."),
    (re.compile(r"exit code|command failed|non-zero"), "task_execution", "A failing command",
     "Run the command by hand in the agent's environment, fix the missing prerequisite, and "
     "document it in the agent's instructions."),
]  # fmt: skip


def suggest_from(report: PatternReport, comparison: PeriodComparison | None) -> list[Candidate]:
    """Deterministic rules; pure, so they are unit-testable without a database."""
    out: list[Candidate] = []
    period = {"since": report.since.isoformat(), "until": report.until.isoformat()}
    for e in report.error_signatures:
        target, kind, advice = "task_execution", "A recurring error", "Investigate the cause."
        for pattern, t, k, a in _ERROR_ADVICE:
            if pattern.search(e.signature):
                target, kind, advice = t, k, a
                break
        agent = e.agents[0] if len(e.agents) == 1 else None
        out.append(
            Candidate(
                dedupe_key=f"recurring_error:{agent or '*'}:{_digest(e.signature)}",
                rule="recurring_error", target=target, agent_id=agent,
                title=f"{kind} recurs in {e.sessions} sessions"
                + (f" of {agent}" if agent else ""),
                body=f"The error \"{e.example[:200]}\" (signature: {e.signature}) occurred "
                f"{e.occurrences} times in {e.sessions} sessions, {e.failed_sessions} of which "
                f"failed. {advice}",
                target_metrics=["failure_rate", "success_rate"],
                evidence={**period, "signature": e.signature, "occurrences": e.occurrences,
                          "sessions": e.sessions, "failed_sessions": e.failed_sessions,
                          "session_ids": e.session_ids, "message_ids": e.message_ids,
                          "tools": e.tools, "agents": e.agents},
            )
        )  # fmt: skip
    if report.failure_terms:
        top = report.failure_terms[:5]
        quoted = ", ".join(f"“{t.term}” ({t.docs_failed}/{t.failed_total})" for t in top)
        out.append(
            Candidate(
                dedupe_key=f"failure_terms:*:{_digest(top[0].term)}",
                rule="failure_terms", target="task_execution", agent_id=None,
                title=f"Failed reviews keep mentioning “{top[0].term}”",
                body=f"Reviews of failed or partial work use these terms far more often than "
                f"reviews of accomplished work: {quoted}. Read the reviews behind them and "
                "address the common cause in the agent's instructions or tools.",
                target_metrics=["success_rate"],
                evidence={**period, "terms": [
                    {"term": t.term, "docs_failed": t.docs_failed, "docs_other": t.docs_other,
                     "failed_total": t.failed_total, "other_total": t.other_total,
                     "lift": round(t.lift, 2), "p_adjusted": t.p_adjusted} for t in top]},
            )
        )  # fmt: skip
    for h in report.idle_heartbeats:
        cost = f"${h.idle_cost:.2f}" if h.idle_cost is not None else "an unknown amount"
        tokens = f" ({h.idle_tokens:,} tokens)" if h.idle_tokens is not None else ""
        out.append(
            Candidate(
                dedupe_key=f"idle_heartbeats:{h.agent_id}", rule="idle_heartbeats",
                target="heartbeat_prompt", agent_id=h.agent_id,
                title=f"{h.idle_share:.0%} of {h.agent_id}'s heartbeats do nothing but cost tokens",
                body=f"{h.idle} of {h.heartbeats} heartbeats answered HEARTBEAT_OK without any "
                f"action and cost {cost}{tokens}. Lengthen the heartbeat interval or restrict it "
                "to active hours, run heartbeats on a cheaper model, keep HEARTBEAT.md short "
                "(it is read on every poll), and move fixed-time checks to cron jobs.",
                target_metrics=["heartbeat_cost"],
                evidence={**period, "heartbeats": h.heartbeats, "idle": h.idle,
                          "idle_share": round(h.idle_share, 3), "idle_tokens": h.idle_tokens,
                          "idle_cost": str(h.idle_cost) if h.idle_cost is not None else None,
                          "run_ids": h.run_ids},
            )
        )  # fmt: skip
    by_agent: dict[str, list[Any]] = {}
    for s in report.stalled_tasks:
        by_agent.setdefault(s.agent_id, []).append(s)
    for agent, stalled in sorted(by_agent.items()):
        worst = max(s.idle_for for s in stalled)
        out.append(
            Candidate(
                dedupe_key=f"stalled_tasks:{agent}", rule="stalled_tasks",
                target="task_execution", agent_id=agent,
                title=f"{len(stalled)} of {agent}'s tasks stalled",
                body=f"{len(stalled)} task session(s) are running with no activity, the longest "
                f"for {_human(worst)}. Give spawned tasks a timeout, ask them to report progress, "
                "and have the main session check on tasks it spawned during its heartbeat.",
                target_metrics=["ttc_p95", "failure_rate"],
                evidence={"session_ids": [s.session_id for s in stalled],
                          "longest_idle_s": int(worst.total_seconds())},
            )
        )  # fmt: skip
    for c in report.missed_cadence:
        late = f"; the last one was {_human(c.overdue_by)} overdue" if c.overdue_by else ""
        out.append(
            Candidate(
                dedupe_key=f"missed_cadence:{c.agent_id}:{c.session_id}", rule="missed_cadence",
                target="heartbeat_config", agent_id=c.agent_id,
                title=f"{c.agent_id}'s main session misses heartbeats",
                body=f"Heartbeats usually come every {_human(c.expected_interval)}, but about "
                f"{c.missed_beats} were missed{late}. Check that the gateway is running and the "
                "heartbeat settings (interval, active hours) are what you expect.",
                target_metrics=["heartbeat_cost"],
                evidence={**period, "session_id": c.session_id, "missed_beats": c.missed_beats,
                          "expected_interval_s": int(c.expected_interval.total_seconds()),
                          "last_heartbeat_at": c.last_heartbeat_at.isoformat()},
            )
        )  # fmt: skip
    if comparison is not None and comparison.group_by == "agent":
        for group, m in comparison.significant():
            if m.change != "worse" or group is None:
                continue
            target = "heartbeat_prompt" if m.metric == "heartbeat_cost" else "task_execution"
            rel = f" ({m.relative_delta:+.0%})" if m.relative_delta is not None else ""
            out.append(
                Candidate(
                    dedupe_key=f"regression:{group}:{m.metric}", rule="regression",
                    target=target, agent_id=group,
                    title=f"{m.label} got worse for {group}{rel}",
                    body=f"{m.label} went from {_fmt(m.a, m.unit)} to {_fmt(m.b, m.unit)}{rel} "
                    f"between the two periods (95% interval of the change {_fmt(m.ci_low, m.unit)}"
                    f" to {_fmt(m.ci_high, m.unit)}; adjusted p = {m.p_adjusted:.2g}). Look for "
                    "what changed for this agent at the start of the second period: its model, "
                    "its prompts, its tools, or the work it was given.",
                    target_metrics=[m.metric],
                    evidence={"a": [comparison.a.start.isoformat(), comparison.a.end.isoformat()],
                              "b": [comparison.b.start.isoformat(), comparison.b.end.isoformat()],
                              "metric": m.metric, "value_a": m.a, "value_b": m.b, "n_a": m.n_a,
                              "n_b": m.n_b, "p_adjusted": m.p_adjusted},
                )
            )  # fmt: skip
    return out


def _human(d: timedelta) -> str:
    s = int(d.total_seconds())
    if s >= 86400:
        return f"{s / 86400:.1f} days"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{max(1, s // 60)} min"


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit == "usd":
        return f"${v:.4f}"
    if unit == "ratio":
        return f"{v:.1%}"
    if unit == "seconds":
        return _human(timedelta(seconds=abs(v))) if v >= 0 else "-" + _human(timedelta(seconds=-v))
    return f"{v:,.0f}"
