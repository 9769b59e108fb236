// The review queue's pure parts: reasons as chips, claim state, list navigation, and the
// keyboard shortcuts as a small interpreter (key event in, action out) so they are testable
// without a browser.

import type { Verdict } from '../gql/graphql';
import { formatClock } from './format';

export const REASONS = ['disagreement', 'low_confidence', 'failed', 'unreviewed'] as const;
export type Reason = (typeof REASONS)[number];

export const REASON_LABEL: Record<Reason, string> = {
  disagreement: 'Disagreement',
  low_confidence: 'Low confidence',
  failed: 'Failed',
  unreviewed: 'Unreviewed',
};

export const REASON_HELP: Record<Reason, string> = {
  disagreement: 'A newer AI review disagrees with the human one (verdict differs or rating 2+ apart)',
  low_confidence: 'The AI verdict is unclear or its confidence is low; no human review yet',
  failed: 'The session failed or the AI says so; no human review yet',
  unreviewed: 'Nobody has reviewed it yet',
};

/** Badge tone per reason (most urgent: red). */
export const REASON_TONE: Record<Reason, string> = {
  disagreement: 'bad',
  low_confidence: 'warn',
  failed: 'bad',
  unreviewed: '',
};

export function isReason(r: string): r is Reason {
  return (REASONS as readonly string[]).includes(r);
}

export function reasonLabel(r: string): string {
  return isReason(r) ? REASON_LABEL[r] : r.replace(/_/g, ' ');
}

export interface ReasonChip {
  reason: Reason;
  label: string;
  count: number;
  tone: string;
}

/** `counts` ({reason, count}, plus `total`) → one chip per known reason in urgency order. */
export function reasonChips(counts: ReadonlyArray<{ reason: string; count: number }>): { chips: ReasonChip[]; total: number } {
  const by = new Map(counts.map((c) => [c.reason, c.count]));
  const chips = REASONS.map((reason) => ({
    reason,
    label: REASON_LABEL[reason],
    count: by.get(reason) ?? 0,
    tone: REASON_TONE[reason],
  }));
  const total = by.get('total') ?? chips.reduce((n, c) => Math.max(n, c.count), 0);
  return { chips, total };
}

export interface QueueTargetRef {
  sessionId: string;
  runId: string | null;
}

export function itemKey(t: QueueTargetRef): string {
  return t.runId ? `${t.sessionId}:${t.runId}` : t.sessionId;
}

export interface ClaimInfo {
  claimed: boolean;
  claimedByMe: boolean;
  claimExpiresAt: string | null;
}

export type ClaimState =
  | { kind: 'free' }
  | { kind: 'mine'; expiresAt: number; minutesLeft: number }
  | { kind: 'other'; expiresAt: number | null };

/** Who holds an item now; an expired claim counts as free (the API frees it lazily). */
export function claimState(item: ClaimInfo, now: number): ClaimState {
  const exp = item.claimExpiresAt ? Date.parse(item.claimExpiresAt) : NaN;
  const live = Number.isFinite(exp) ? exp > now : item.claimed;
  if (!item.claimed || !live) return { kind: 'free' };
  if (item.claimedByMe && Number.isFinite(exp)) {
    return { kind: 'mine', expiresAt: exp, minutesLeft: Math.max(0, Math.round((exp - now) / 60_000)) };
  }
  return { kind: 'other', expiresAt: Number.isFinite(exp) ? exp : null };
}


export function claimText(state: ClaimState): string | null {
  switch (state.kind) {
    case 'free':
      return null;
    case 'mine':
      return state.minutesLeft < 1 ? 'Claimed by you · under a minute left' : `Claimed by you · ${state.minutesLeft} min left`;
    case 'other':
      return state.expiresAt ? `Claimed by another reviewer until ${formatClock(state.expiresAt)}` : 'Claimed by another reviewer';
  }
}

/** The key of the item `step` places from `current` (clamped); the first item when none is selected. */
export function neighbour(keys: readonly string[], current: string | null, step: 1 | -1): string | null {
  if (keys.length === 0) return null;
  const i = current === null ? -1 : keys.indexOf(current);
  if (i < 0) return keys[0] ?? null;
  return keys[Math.min(keys.length - 1, Math.max(0, i + step))] ?? null;
}

/** After `done` leaves the list: the item that took its place, else the one before, else null. */
export function successor(keys: readonly string[], done: string): string | null {
  const i = keys.indexOf(done);
  if (i < 0) return keys[0] ?? null;
  return keys[i + 1] ?? keys[i - 1] ?? null;
}

// ---------------------------------------------------------------------------------------------
// Keyboard

export const VERDICT_KEYS: readonly Verdict[] = ['ACCOMPLISHED', 'PARTIAL', 'FAILED', 'UNCLEAR'];

export type QueueAction =
  | { type: 'verdict'; verdict: Verdict }
  | { type: 'rating'; rating: number }
  | { type: 'arm-rating' }
  | { type: 'submit' }
  | { type: 'skip' }
  | { type: 'next' }
  | { type: 'prev' }
  | { type: 'claim' }
  | { type: 'claim-next' }
  | { type: 'release' }
  | { type: 'help' }
  | { type: 'escape' };

export interface KeyInput {
  key: string;
  /** `KeyboardEvent.code` (layout-independent: Shift+1 is `Digit1` whatever it types). */
  code: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** What has focus: a text field (typing), a button or link (Enter activates it), or anything else. */
  target: 'text' | 'button' | 'other';
}

export interface KeyState {
  /** When `r` was pressed (ms); a digit within RATING_WINDOW_MS sets the rating. */
  armedAt: number | null;
}

export const RATING_WINDOW_MS = 2000;

function digitOf(k: KeyInput): number | null {
  const m = /^(?:Digit|Numpad)([0-9])$/.exec(k.code);
  if (m) return Number(m[1]);
  return /^[0-9]$/.test(k.key) ? Number(k.key) : null;
}

/**
 * One key press → the action it means (or null: let the browser have it) and the next state.
 * 1–4 verdict (accomplished, partial, failed, unclear) · r then 1–5, or Shift+1–5: rating ·
 * Enter submit · s skip · j/k next/previous · c claim · n claim next · u release · ? help.
 * While typing in a text field only Ctrl/Cmd+Enter (submit) and Escape (leave the field) count.
 */
export function interpretKey(k: KeyInput, state: KeyState, now: number): { action: QueueAction | null; state: KeyState } {
  const idle: KeyState = { armedAt: null };
  if (k.target === 'text') {
    if (k.key === 'Enter' && (k.ctrlKey || k.metaKey)) return { action: { type: 'submit' }, state: idle };
    if (k.key === 'Escape') return { action: { type: 'escape' }, state: idle };
    return { action: null, state };
  }
  if (k.ctrlKey || k.metaKey || k.altKey) return { action: null, state: idle };
  const armed = state.armedAt !== null && now - state.armedAt <= RATING_WINDOW_MS;
  const digit = digitOf(k);
  if (digit !== null) {
    if ((k.shiftKey || armed) && digit >= 1 && digit <= 5) return { action: { type: 'rating', rating: digit }, state: idle };
    if (!k.shiftKey && digit >= 1 && digit <= 4) {
      return { action: { type: 'verdict', verdict: VERDICT_KEYS[digit - 1] as Verdict }, state: idle };
    }
    return { action: null, state: idle };
  }
  if (k.key === '?') return { action: { type: 'help' }, state: idle };
  if (k.key === 'Escape') return { action: { type: 'escape' }, state: idle };
  if (k.key === 'Enter') {
    // On a focused button or link Enter already means "activate it".
    return k.target === 'button' ? { action: null, state: idle } : { action: { type: 'submit' }, state: idle };
  }
  if (k.shiftKey) return { action: null, state: idle };
  switch (k.key.toLowerCase()) {
    case 'r':
      return { action: { type: 'arm-rating' }, state: { armedAt: now } };
    case 's':
      return { action: { type: 'skip' }, state: idle };
    case 'j':
      return { action: { type: 'next' }, state: idle };
    case 'k':
      return { action: { type: 'prev' }, state: idle };
    case 'c':
      return { action: { type: 'claim' }, state: idle };
    case 'n':
      return { action: { type: 'claim-next' }, state: idle };
    case 'u':
      return { action: { type: 'release' }, state: idle };
    default:
      return { action: null, state };
  }
}

/** What has focus, for `interpretKey`. Radios and checkboxes are not "typing". */
export function targetKind(el: Element | null): KeyInput['target'] {
  if (!el) return 'other';
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return 'text';
  if (tag === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return type === 'radio' || type === 'checkbox' || type === 'button' || type === 'submit' ? 'other' : 'text';
  }
  if ((el as HTMLElement).isContentEditable) return 'text';
  if (tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY') return 'button';
  return 'other';
}

export const SHORTCUTS: ReadonlyArray<{ keys: string[]; what: string }> = [
  { keys: ['1'], what: 'Verdict: accomplished' },
  { keys: ['2'], what: 'Verdict: partial' },
  { keys: ['3'], what: 'Verdict: failed' },
  { keys: ['4'], what: 'Verdict: unclear' },
  { keys: ['r', '1–5'], what: 'Rating 1–5 (or Shift+1–5)' },
  { keys: ['Enter'], what: 'Submit the review, then claim the next item' },
  { keys: ['Ctrl', 'Enter'], what: 'Submit while typing the summary' },
  { keys: ['s'], what: 'Skip (hide it from you for 24 h)' },
  { keys: ['j'], what: 'Next item in the list' },
  { keys: ['k'], what: 'Previous item in the list' },
  { keys: ['c'], what: 'Claim the selected item' },
  { keys: ['n'], what: 'Claim the next most urgent item' },
  { keys: ['u'], what: 'Release your claim' },
  { keys: ['Esc'], what: 'Leave the summary field / close this help' },
  { keys: ['?'], what: 'Show or hide these shortcuts' },
];

/** AI confidence 0..1 as text, flagged when below the queue's threshold. */
export function confidenceText(confidence: number | null | undefined, threshold = 0.6): { text: string; low: boolean } {
  if (confidence === null || confidence === undefined) return { text: 'confidence not reported', low: false };
  return { text: `${Math.round(confidence * 100)}% confident`, low: confidence < threshold };
}

/** The AI review's `evidence` / `suggestions` JSON (`{items: [...]}`) as display rows. */
export function aiEvidence(raw: unknown): Array<{ ref: string; note: string }> {
  const items = raw && typeof raw === 'object' && 'items' in raw ? (raw as { items: unknown }).items : raw;
  if (!Array.isArray(items)) return [];
  return items.flatMap((i) => {
    if (!i || typeof i !== 'object') return [];
    const o = i as Record<string, unknown>;
    const ref = typeof o.message === 'string' ? o.message : typeof o.ref === 'string' ? o.ref : '';
    const note = typeof o.note === 'string' ? o.note : '';
    return ref || note ? [{ ref, note }] : [];
  });
}

export function aiSuggestions(raw: unknown): Array<{ target: string; text: string }> {
  const items = raw && typeof raw === 'object' && 'items' in raw ? (raw as { items: unknown }).items : raw;
  if (!Array.isArray(items)) return [];
  return items.flatMap((i) => {
    if (!i || typeof i !== 'object') return [];
    const o = i as Record<string, unknown>;
    const text = typeof o.text === 'string' ? o.text : '';
    return text ? [{ target: typeof o.target === 'string' ? o.target : '', text }] : [];
  });
}
