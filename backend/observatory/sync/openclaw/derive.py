"""Messages and runs from parsed OpenClaw transcript events.

A run is the group of events sharing ``__openclaw.runId``. User prompts do not carry the
run id (their ``idempotencyKey`` is usually ``<runId>:user``, but not for heartbeat polls),
so a prompt joins the run of the next event that names one. Transcripts written before run
ids existed get one run per user turn.

Tokens and cost of a run are the sums of its assistant messages' ``usage``; the session
entry's token fields only describe the last run and are never added up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from observatory.db.enums import MessageRole, RunStatus, RunTrigger, SessionKind
from observatory.sync.openclaw.events import (
    CRON_PROMPT,
    HEARTBEAT_PROMPT,
    SUBAGENT_PROMPT,
    ParsedEvent,
    preview,
)
from observatory.sync.source import MessageRecord, RunRecord, Usage

ANNOUNCE_PREFIX = "announce:"
_OPEN_STOP_REASONS = frozenset({"toolUse", "tool_use", "tool_calls"})


@dataclass(slots=True)
class Derived:
    messages: list[MessageRecord]
    runs: list[RunRecord]
    # Re-read from this seq next time: the start of the last (possibly unfinished) run or
    # the first prompt still waiting for its run, so every run is always derived whole.
    resume_seq: int
    last_run_status: RunStatus | None


@dataclass(slots=True)
class _Run:
    run_id: str
    events: list[ParsedEvent] = field(default_factory=list)

    @property
    def first_seq(self) -> int:
        return self.events[0].seq


def trigger_for(run_id: str, events: list[ParsedEvent], kind: SessionKind | None) -> RunTrigger:
    if run_id.startswith(ANNOUNCE_PREFIX):
        return RunTrigger.ANNOUNCE
    prompt = next((e for e in events if e.role is MessageRole.USER), None)
    text = (prompt.text or "").lstrip() if prompt else ""
    tool = prompt.source_tool if prompt else None
    if tool == "heartbeat" or text.startswith(HEARTBEAT_PROMPT):
        return RunTrigger.HEARTBEAT
    if tool == "cron" or text.startswith(CRON_PROMPT):
        return RunTrigger.CRON
    if tool in {"sessions_spawn", "subagent"} or text.startswith(SUBAGENT_PROMPT):
        return RunTrigger.SPAWN
    if prompt is not None:
        return RunTrigger.MESSAGE
    if kind is SessionKind.HEARTBEAT:
        return RunTrigger.HEARTBEAT
    if kind is SessionKind.CRON:
        return RunTrigger.CRON
    return RunTrigger.OTHER


def _group(events: list[ParsedEvent], provider_session_id: str) -> tuple[list[_Run], list[int]]:
    """Assign message events to runs; returns runs in order and seqs of unassigned prompts."""
    runs: dict[str, _Run] = {}
    pending: list[ParsedEvent] = []
    current: str | None = None

    def add(run_id: str, ev: ParsedEvent) -> None:
        runs.setdefault(run_id, _Run(run_id)).events.append(ev)

    for ev in events:
        if not ev.is_message:
            continue
        if ev.run_id is None and ev.role is MessageRole.USER:
            pending.append(ev)
            continue
        run_id = ev.run_id
        if run_id is None:
            # No run id at all (older transcripts): the turn opened by the waiting prompt,
            # else the run in progress, else one made up from the event's position.
            if pending:
                run_id = _turn_id(pending[0], provider_session_id)
            else:
                run_id = current or f"seq:{provider_session_id}:{ev.seq}"
        for prompt in pending:
            add(run_id, prompt)
        pending.clear()
        add(run_id, ev)
        current = run_id
    for run in runs.values():
        run.events.sort(key=lambda e: e.seq)
    ordered = sorted(runs.values(), key=lambda r: r.first_seq)
    return ordered, [e.seq for e in pending]


def _turn_id(prompt: ParsedEvent, provider_session_id: str) -> str:
    key = prompt.idempotency_key
    if key and key.endswith(":user"):
        return key[: -len(":user")]
    return f"turn:{provider_session_id}:{prompt.seq}"


def _build_run(run: _Run, *, is_last: bool, kind: SessionKind | None, active: bool) -> RunRecord:
    events = run.events
    assistants = [e for e in events if e.role is MessageRole.ASSISTANT]
    usage = Usage()
    for a in assistants:
        usage = usage + a.usage
    tool_errors = [e for e in events if e.role is MessageRole.TOOL_RESULT and e.is_error]
    failed = next((a for a in assistants if a.is_error), None)
    error: str | None = None
    if failed is not None:
        error = failed.error_message or f"model call ended with stopReason={failed.stop_reason}"
    elif tool_errors:
        first = tool_errors[0]
        error = f"tool {first.tool_name or '?'} failed: {preview(first.text) or ''}".rstrip(": ")

    last = events[-1]
    if last.role is MessageRole.ASSISTANT:
        looks_open = last.stop_reason in _OPEN_STOP_REASONS
    else:
        # A prompt or tool result waits for the model; a system entry closes nothing open.
        looks_open = last.role is not MessageRole.SYSTEM
    if failed is not None:
        status = RunStatus.FAILED
    elif looks_open and is_last and active:
        status = RunStatus.RUNNING
    else:
        # A later run started, or the session is no longer running: this one is over.
        status = RunStatus.COMPLETED
    stamps = [e.timestamp for e in events if e.timestamp is not None]
    started = min(stamps)
    # The run ends when its last event is written, which is after the reply's own timestamp.
    ends = [e.recorded_at or e.timestamp for e in events]
    finished = max(t for t in ends if t is not None)
    prompt = next((e for e in events if e.role is MessageRole.USER), None)
    outcome = next((a.text for a in reversed(assistants) if a.text), None)
    return RunRecord(
        provider_run_id=run.run_id,
        trigger=trigger_for(run.run_id, events, kind),
        status=status,
        started_at=started,
        finished_at=None if status is RunStatus.RUNNING else max(finished, started),
        model=next((a.model for a in reversed(assistants) if a.model), None),
        usage=usage,
        error=error,
        prompt_preview=preview(prompt.text) if prompt else None,
        outcome_preview=preview(outcome),
        tool_call_count=sum(a.tool_calls for a in assistants),
        tool_error_count=len(tool_errors),
    )


def derive(
    events: list[ParsedEvent],
    provider_session_id: str,
    *,
    kind: SessionKind | None,
    active: bool,
    next_seq: int,
) -> Derived:
    """Messages and whole runs of ``events`` (ascending seq) of one provider session id.

    ``active``: the provider says the session is running, so its last run may be too.
    ``next_seq``: where reading would continue if nothing needs re-reading.
    """
    events = [e for e in events if e.timestamp is not None or not e.is_message]
    runs, pending = _group(events, provider_session_id)
    run_of: dict[int, str] = {}
    for run in runs:
        for ev in run.events:
            run_of[ev.seq] = run.run_id
    messages: list[MessageRecord] = []
    for ev in events:
        if ev.role is None or ev.timestamp is None:
            continue
        messages.append(
            MessageRecord(
                provider_session_id=provider_session_id,
                seq=ev.seq,
                role=ev.role,
                content=ev.content,
                created_at=ev.timestamp,
                provider_event_id=ev.event_id,
                parent_event_id=ev.parent_id,
                provider_run_id=run_of.get(ev.seq),
                model=ev.model,
                usage=ev.usage,
                is_error=ev.is_error,
            )
        )
    records = [
        _build_run(run, is_last=i == len(runs) - 1, kind=kind, active=active)
        for i, run in enumerate(runs)
    ]
    resume = next_seq
    if runs:
        resume = min(resume, runs[-1].first_seq)
    if pending:
        resume = min(resume, pending[0])
    return Derived(
        messages=messages,
        runs=records,
        resume_seq=resume,
        last_run_status=records[-1].status if records else None,
    )
