"""Build the reviewer prompt from a target's transcript within a token budget.

Sections, in order of importance: instructions and schema, key stats, the ask (first user
message), the final outcome (last assistant text), tool and run errors, then as much of the
transcript as fits. The transcript is cut only at message boundaries and every cut is an explicit
"[… N messages omitted …]" marker; a single huge message is shortened with an explicit
"[… N characters cut …]" marker inside it, never silently.

Tokens are estimated as UTF-8 bytes / 3: conservative for English (~4 chars a token) and about
right for CJK, so a prompt that fits here fits the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from observatory.review.transcript import TargetInfo, ToolError, TranscriptMessage

GAP_MARKER_TOKENS = 40  # upper bound for one "[… messages omitted …]" line
MIN_TRANSCRIPT_TOKENS = 200

SYSTEM = """You review the work of an AI agent from its transcript and return one JSON object.

Decide whether the agent accomplished what was asked:
- "accomplished": the ask was done and the outcome shows it;
- "partial": some of it was done, or it was done with clear gaps;
- "failed": it was not done, or the agent gave up or broke something;
- "unclear": the transcript does not show whether it was done.
For a heartbeat poll, the ask is the poll itself: replying HEARTBEAT_OK when nothing needs attention
counts as accomplished; missing something that needed attention does not.

Answer with exactly this JSON object and nothing else:
{
  "verdict": "accomplished" | "partial" | "failed" | "unclear",
  "rating": integer 1-5 (5 = excellent work, 1 = useless or harmful),
  "summary": string, at most 3 sentences: what was asked, what happened, why this verdict,
  "confidence": number 0-1 (how sure you are of the verdict),
  "evidence": [{"message": "#12", "note": "what this message shows"}] (1-8 items; only message
      references that appear in the transcript below),
  "suggestions": [{"target": "heartbeat_prompt" | "task_execution" | "tooling" | "other",
      "text": "one concrete change that would have made this better"}] (0-3 items)
}"""


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 3)


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, str]]
    estimated_tokens: int
    budget: int
    refs: dict[str, int | None]  # "#12" -> message id, for the references shown
    total_messages: int
    shown_messages: int
    cut_messages: int  # messages shortened with a "characters cut" marker

    @property
    def omitted_messages(self) -> int:
        return self.total_messages - self.shown_messages


def cut_text(text: str, max_tokens: int) -> str:
    """``text`` shortened to about ``max_tokens`` with an explicit marker (head and tail kept)."""
    if estimate_tokens(text) <= max_tokens:
        return text
    data = text.encode("utf-8")
    keep = max(0, max_tokens * 3 - 60)
    head = data[: keep * 2 // 3].decode("utf-8", "ignore")
    tail = data[len(data) - keep // 3 :].decode("utf-8", "ignore") if keep // 3 else ""
    cut = len(text) - len(head) - len(tail)
    return f"{head}\n[… {cut:,} characters cut …]\n{tail}"


def _fmt_money(value: object) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def _stats(info: TargetInfo, total: int) -> str:
    target = f"run {info.run_id} ({info.trigger}) of session" if info.run_id else "session"
    lines = [
        f"Target: {target} {info.key} — agent {info.agent_id}, kind {info.kind}",
        f"Title: {info.title or '-'}",
        f"Status: {info.status}; model {info.model or 'unknown'}",
        f"Started {info.started_at:%Y-%m-%d %H:%M UTC}" if info.started_at else "Started: unknown",
        f"Ended {info.ended_at:%Y-%m-%d %H:%M UTC}" if info.ended_at else "Ended: not yet",
        f"Duration: {'unknown' if info.duration_ms is None else f'{info.duration_ms / 1000:.1f}s'}",
        f"Runs: {info.runs}; messages: {total}; tool calls: {info.tool_calls}; "
        f"tool errors: {info.tool_errors}",
        f"Tokens in/out: {info.input_tokens if info.input_tokens is not None else 'unknown'}/"
        f"{info.output_tokens if info.output_tokens is not None else 'unknown'}; "
        f"cost {_fmt_money(info.cost)}",
    ]
    return "\n".join(lines)


def _errors_section(errors: Sequence[ToolError], run_errors: Sequence[str], max_tokens: int) -> str:
    if not errors and not run_errors:
        return "None."
    grouped: dict[tuple[str, str], list[int]] = {}
    for err in errors:
        grouped.setdefault((err.tool, err.text.strip()[:300]), []).append(err.ordinal)
    lines: list[str] = []
    for (tool, body), ords in grouped.items():
        refs = ", ".join(f"#{o}" for o in ords[:5]) + (
            f" +{len(ords) - 5}" if len(ords) > 5 else ""
        )
        lines.append(f"- {tool} ({refs}): {body}")
    for run_error in dict.fromkeys(e.strip()[:300] for e in run_errors):
        lines.append(f"- run error: {run_error}")
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        cost = estimate_tokens(line) + 1
        if used + cost > max_tokens - 15:
            out.append(f"[… {len(lines) - i} more error groups omitted …]")
            break
        out.append(line)
        used += cost
    return "\n".join(out)


def _render_message(msg: TranscriptMessage, max_tokens: int) -> str:
    flag = " ERROR" if msg.is_error else ""
    return cut_text(f"[{msg.ref} {msg.role}{flag}] {msg.text}", max_tokens)


def _gap(first: int, last: int) -> str:
    n = last - first + 1
    return f"[… {n:,} message{'s' if n != 1 else ''} omitted here (#{first} to #{last}) …]"


def _priority(messages: Sequence[TranscriptMessage]) -> list[int]:
    """Indexes into ``messages``: first, last, errors, then the tail backwards interleaved with the
    head forwards (two from the end for one from the start: how it ended matters most)."""
    n = len(messages)
    if not n:
        return []
    order: list[int] = [0, n - 1]
    order += [i for i, m in enumerate(messages) if m.is_error or m.tool_errors]
    back, fwd = n - 2, 1
    while back >= fwd:
        order += [back, back - 1] if back - 1 >= fwd else [back]
        back -= 2
        if fwd <= back:
            order.append(fwd)
            fwd += 1
    return list(dict.fromkeys(order))


def _ask(info: TargetInfo, messages: Sequence[TranscriptMessage]) -> str:
    for m in messages:
        if m.role == "user" and m.text.strip():
            return f"[{m.ref}] {m.text}" if m.ordinal == 1 else m.text
    return info.ask_fallback or "(no user message in the cached transcript)"


def _outcome(info: TargetInfo, messages: Sequence[TranscriptMessage]) -> str:
    for m in reversed(messages):
        if m.role == "assistant" and m.text.strip():
            return f"[{m.ref}] {m.text}"
    return info.outcome_fallback or "(no assistant answer in the cached transcript)"


def build_prompt(
    info: TargetInfo,
    messages: Sequence[TranscriptMessage],
    total_messages: int | None = None,
    *,
    budget: int,
    calibration: str = "",
) -> Prompt:
    """The chat messages for the reviewer; ``estimated_tokens <= budget`` always holds when the
    budget leaves room for the fixed instructions (about 600 tokens)."""
    msgs = sorted(messages, key=lambda m: m.ordinal)
    total = total_messages if total_messages is not None else len(msgs)
    section = max(60, budget // 8)
    errors = [e for m in msgs for e in m.tool_errors]
    head = "\n\n".join(
        [
            "## Key stats\n" + _stats(info, total),
            "## The ask\n" + cut_text(_ask(info, msgs), section),
            "## Final outcome\n" + cut_text(_outcome(info, msgs), section),
            "## Tool and run errors\n" + _errors_section(errors, info.run_errors, section),
            *([calibration.strip()] if calibration else []),
        ]
    )
    fixed = estimate_tokens(SYSTEM) + estimate_tokens(head) + 40
    room = budget - fixed
    per_message = max(80, min(room // 6, 2000))
    rendered = [_render_message(m, per_message) for m in msgs]
    costs = [estimate_tokens(r) + 1 for r in rendered]

    priority = _priority(msgs)
    rank = {i: r for r, i in enumerate(priority)}
    chosen: set[int] = set()
    shown = {0, total + 1}  # ordinals shown, with both ends as sentinels
    used = GAP_MARKER_TOKENS if total else 0  # one marker for "everything omitted"
    for i in priority:
        o = msgs[i].ordinal
        # Showing o splits a gap (+1 marker), shrinks one (0) or closes one (-1).
        delta = 1 - (o - 1 in shown) - (o + 1 in shown)
        cost = costs[i] + delta * GAP_MARKER_TOKENS
        if used + cost <= room:
            chosen.add(i)
            shown.add(o)
            used += cost

    while True:
        lines = _transcript_lines(msgs, rendered, chosen, total)
        body = head + "\n\n## Transcript\n" + "\n".join(lines)
        estimated = estimate_tokens(SYSTEM) + estimate_tokens(body) + 8  # role framing
        if estimated <= budget or not chosen:
            break
        chosen.discard(max(chosen, key=rank.__getitem__))
    return Prompt(
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": body}],
        estimated_tokens=estimated,
        budget=budget,
        refs={msgs[i].ref: msgs[i].message_id for i in sorted(chosen)},
        total_messages=total,
        shown_messages=len(chosen),
        cut_messages=sum(1 for i in chosen if "characters cut …]" in rendered[i]),
    )


def _transcript_lines(
    msgs: Sequence[TranscriptMessage], rendered: Sequence[str], chosen: set[int], total: int
) -> list[str]:
    if not msgs or not chosen:
        return [f"[… all {total:,} messages omitted: no room in the budget …]"] if total else []
    lines: list[str] = []
    expected = 1  # next ordinal we have not shown or marked yet
    for i in sorted(chosen):
        ordinal = msgs[i].ordinal
        if ordinal > expected:
            lines.append(_gap(expected, ordinal - 1))
        lines.append(rendered[i])
        expected = ordinal + 1
    if expected <= total:
        lines.append(_gap(expected, total))
    return lines
