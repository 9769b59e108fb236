// The "Improve" page's pure data shaping: the two comparison windows (kept in the URL), the
// rows of a period comparison with an honest significance label, and the evidence behind a
// suggestion. No React, no network: unit-tested in Node.

import { formatDuration, formatPercent, formatTokens, formatUSD, EMPTY } from './format';
import { toDayParam } from './period';

const DAY = 86_400_000;
const HOUR = 3_600_000;

// ---------------------------------------------------------------------------------------------
// Windows

export const SPANS = [7, 14, 30] as const;
export type Span = (typeof SPANS)[number];

export interface Range {
  from: Date;
  /** Exclusive. */
  to: Date;
}

export interface Windows {
  /** `7` / `14` / `30`: the last N days against the N before; `custom`: two explicit ranges. */
  key: Span | 'custom';
  /** Before. */
  a: Range;
  /** After (the "current" period; patterns and suggestions look at this one). */
  b: Range;
}

function parseDayRange(value: string | null): Range | null {
  const m = value?.match(/^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/);
  if (!m) return null;
  const from = Date.parse(`${m[1]}T00:00:00Z`);
  const last = Date.parse(`${m[2]}T00:00:00Z`);
  if (Number.isNaN(from) || Number.isNaN(last) || last < from) return null;
  return { from: new Date(from), to: new Date(last + DAY) };
}

/** `YYYY-MM-DD..YYYY-MM-DD`, both days included (UTC). */
export function writeDayRange(r: Range): string {
  return `${toDayParam(r.from)}..${toDayParam(new Date(r.to.getTime() - 1))}`;
}

/**
 * URL → windows. `span=7|14|30` (default 7): B is the last N days up to the next full hour,
 * A the N days before it. `span=custom&a=…&b=…` gives both ranges as UTC days. Anything
 * invalid falls back to the default, so a mangled shared link still shows something.
 */
export function resolveWindows(params: URLSearchParams, now: Date): Windows {
  const span = params.get('span');
  if (span === 'custom') {
    const a = parseDayRange(params.get('a'));
    const b = parseDayRange(params.get('b'));
    if (a && b) return { key: 'custom', a, b };
  }
  const n = (SPANS as readonly number[]).includes(Number(span)) ? (Number(span) as Span) : 7;
  // Rounded up to the hour so the query variables stay stable while the page is open.
  const end = Math.ceil(now.getTime() / HOUR) * HOUR;
  const b = { from: new Date(end - n * DAY), to: new Date(end) };
  const a = { from: new Date(end - 2 * n * DAY), to: b.from };
  return { key: n, a, b };
}

/** The same windows as explicit day ranges (to switch the picker to "custom" in place). */
export function customParams(w: Windows): { a: string; b: string } {
  return { a: writeDayRange(w.a), b: writeDayRange(w.b) };
}

/** The judge-agreement chart spans both windows; daily points up to ~2 months, else weekly. */
export function agreementBucket(from: Date, to: Date): 'day' | 'week' {
  return to.getTime() - from.getTime() <= 62 * DAY ? 'day' : 'week';
}

export function rangeLabel(r: Range): string {
  const fmt = (d: Date) => d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  const last = new Date(r.to.getTime() - 1);
  const sameDay = toDayParam(r.from) === toDayParam(last);
  return sameDay ? fmt(r.from) : `${fmt(r.from)} – ${fmt(last)}`;
}

export function toIso(r: Range): { from: string; to: string } {
  return { from: r.from.toISOString(), to: r.to.toISOString() };
}

// ---------------------------------------------------------------------------------------------
// Comparison rows

/** One metric in two windows as the API returns it (`MetricComparison`). */
export interface Comparison {
  metric: string;
  label: string;
  unit: string;
  higherIsBetter: boolean;
  method: string;
  a: number | null;
  b: number | null;
  nA: number;
  nB: number;
  delta: number | null;
  relativeDelta: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  pValue: number | null;
  pAdjusted: number | null;
  significant: boolean;
  change: string | null;
}

/**
 * What a change means, honestly:
 * - `better` / `worse`: significant after the Holm correction, in the metric's good/bad direction;
 * - `noise`: tested, and the change is within what chance produces;
 * - `untested`: a value in both windows but too few observations to test;
 * - `no-data`: a window has no value at all.
 */
export type Verdict = 'better' | 'worse' | 'noise' | 'untested' | 'no-data';

export function verdictOf(m: Comparison): Verdict {
  if (m.a === null || m.b === null) return 'no-data';
  if (m.significant && m.change === 'better') return 'better';
  if (m.significant && m.change === 'worse') return 'worse';
  if (m.pAdjusted === null) return 'untested';
  return 'noise';
}

export const VERDICT_TEXT: Record<Verdict, string> = {
  better: 'Better (significant)',
  worse: 'Worse (significant)',
  noise: 'No significant change',
  untested: 'Too little data to test',
  'no-data': 'No data in one window',
};

export interface ComparisonRow extends Comparison {
  key: string;
  /** The group's value (agent, model, …); null: everything. */
  group: string | null;
  verdict: Verdict;
}

/** Every (group, metric) pair as a flat list, groups in API order, metrics in API order. */
export function comparisonRows(groups: ReadonlyArray<{ group: string | null; metrics: readonly Comparison[] }>): ComparisonRow[] {
  const out: ComparisonRow[] = [];
  for (const g of groups) {
    for (const m of g.metrics) {
      out.push({ ...m, key: `${g.group ?? '*'}:${m.metric}`, group: g.group, verdict: verdictOf(m) });
    }
  }
  return out;
}

export interface ComparisonSummary {
  tested: number;
  better: number;
  worse: number;
  /** One sentence for the top of the section. */
  text: string;
}

export function summarize(rows: readonly ComparisonRow[], alpha = 0.05): ComparisonSummary {
  const tested = rows.filter((r) => r.verdict !== 'untested' && r.verdict !== 'no-data').length;
  const better = rows.filter((r) => r.verdict === 'better').length;
  const worse = rows.filter((r) => r.verdict === 'worse').length;
  let text: string;
  if (tested === 0) text = 'Not enough data in these windows to test any change.';
  else if (better + worse === 0) {
    text = `None of the ${tested} tested changes is statistically significant: the differences below are within noise.`;
  } else {
    const parts = [better ? `${better} better` : null, worse ? `${worse} worse` : null].filter(Boolean).join(', ');
    text = `${better + worse} of ${tested} tested changes are significant (${parts}; Holm-adjusted p < ${alpha}).`;
  }
  return { tested, better, worse, text };
}

/** Metric values in their unit: ratios as %, USD as money, seconds as durations, tokens k/M. */
export function formatValue(unit: string, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return EMPTY;
  switch (unit) {
    case 'ratio':
      return formatPercent(value);
    case 'usd':
      // Per-heartbeat and per-session costs are cents: keep two significant digits below $1.
      if (value !== 0 && Math.abs(value) < 1) {
        return `${value < 0 ? '-' : ''}$${Math.abs(value).toPrecision(2)}`;
      }
      return formatUSD(value);
    case 'seconds':
      return formatDuration(value * 1000);
    case 'tokens':
      return formatTokens(value);
    default:
      return Number.isInteger(value) ? String(value) : value.toPrecision(3);
  }
}

/** A change in a metric's unit with a sign: ratios in percentage points. */
export function formatDelta(unit: string, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return EMPTY;
  const sign = value > 0 ? '+' : value < 0 ? '−' : '±';
  const abs = Math.abs(value);
  if (unit === 'ratio') {
    const pp = abs * 100;
    return `${sign}${pp < 10 ? pp.toFixed(1) : pp.toFixed(0)} pp`;
  }
  return `${sign}${formatValue(unit, abs)}`;
}

export function formatRelativeDelta(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return EMPTY;
  const pct = value * 100;
  const sign = pct > 0 ? '+' : pct < 0 ? '−' : '±';
  const abs = Math.abs(pct);
  return `${sign}${abs < 10 ? abs.toFixed(1) : abs.toFixed(0)}%`;
}

export function formatCi(unit: string, low: number | null, high: number | null): string {
  if (low === null || high === null) return EMPTY;
  return `${formatDelta(unit, low)} … ${formatDelta(unit, high)}`;
}

export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined) return EMPTY;
  if (p < 0.001) return '< 0.001';
  if (p >= 0.995) return '1';
  return p < 0.1 ? p.toPrecision(2) : p.toFixed(2);
}

// ---------------------------------------------------------------------------------------------
// Suggestion evidence

export interface Evidence {
  sessionIds: string[];
  runIds: string[];
  messageCount: number;
  window: Range | null;
  /** Failure terms behind a `failure_terms` suggestion. */
  terms: Array<{ term: string; docsFailed: number; docsOther: number; lift: number | null }>;
  /** Everything else worth showing, as label/value pairs in a stable order. */
  facts: Array<{ label: string; value: string }>;
}

const FACT_LABELS: Record<string, string> = {
  signature: 'Signature',
  occurrences: 'Occurrences',
  sessions: 'Sessions',
  failed_sessions: 'Failed sessions',
  agents: 'Agents',
  tools: 'Tools',
  heartbeats: 'Heartbeats',
  idle: 'Idle heartbeats',
  idle_share: 'Idle share',
  idle_tokens: 'Idle tokens',
  idle_cost: 'Idle cost',
  longest_idle_s: 'Longest stall',
  missed_beats: 'Missed beats',
  expected_interval_s: 'Expected interval',
  last_heartbeat_at: 'Last heartbeat',
  metric: 'Metric',
  value_a: 'Before',
  value_b: 'After',
  n_a: 'Observations before',
  n_b: 'Observations after',
  p_adjusted: 'Adjusted p',
};

function ids(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((v) => typeof v === 'number' || typeof v === 'string').map(String);
}

function factValue(key: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.length ? v.map(String).join(', ') : null;
  if (typeof v === 'object') return null;
  const n = typeof v === 'number' ? v : Number(v);
  switch (key) {
    case 'idle_share':
      return formatPercent(n);
    case 'idle_tokens':
      return formatTokens(n);
    case 'idle_cost':
      return formatUSD(n);
    case 'longest_idle_s':
    case 'expected_interval_s':
      return formatDuration(n * 1000);
    case 'p_adjusted':
      return formatP(n);
    case 'last_heartbeat_at':
      return typeof v === 'string' ? new Date(v).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : null;
    case 'value_a':
    case 'value_b':
      return Number.isFinite(n) ? (Math.abs(n) < 1 ? n.toPrecision(3) : n.toFixed(2)) : null;
    default:
      return typeof v === 'number' ? v.toLocaleString('en-US') : String(v);
  }
}

/** A suggestion's `evidence` JSON → links and facts. Unknown keys are ignored, never fatal. */
export function evidenceOf(raw: unknown): Evidence {
  const e = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const sessionIds = ids(e.session_ids);
  if (typeof e.session_id === 'number' || typeof e.session_id === 'string') {
    const one = String(e.session_id);
    if (!sessionIds.includes(one)) sessionIds.unshift(one);
  }
  let window: Range | null = null;
  const since = typeof e.since === 'string' ? Date.parse(e.since) : NaN;
  const until = typeof e.until === 'string' ? Date.parse(e.until) : NaN;
  if (Number.isFinite(since) && Number.isFinite(until) && since < until) {
    window = { from: new Date(since), to: new Date(until) };
  } else if (Array.isArray(e.b) && typeof e.b[0] === 'string' && typeof e.b[1] === 'string') {
    const f = Date.parse(e.b[0]);
    const t = Date.parse(e.b[1]);
    if (Number.isFinite(f) && Number.isFinite(t) && f < t) window = { from: new Date(f), to: new Date(t) };
  }
  const terms = Array.isArray(e.terms)
    ? e.terms.flatMap((t) => {
        if (!t || typeof t !== 'object') return [];
        const o = t as Record<string, unknown>;
        if (typeof o.term !== 'string') return [];
        return [
          {
            term: o.term,
            docsFailed: Number(o.docs_failed ?? 0),
            docsOther: Number(o.docs_other ?? 0),
            lift: typeof o.lift === 'number' ? o.lift : null,
          },
        ];
      })
    : [];
  const facts: Evidence['facts'] = [];
  for (const [key, label] of Object.entries(FACT_LABELS)) {
    if (!(key in e)) continue;
    const value = factValue(key, e[key]);
    if (value !== null && value !== '') facts.push({ label, value });
  }
  return { sessionIds, runIds: ids(e.run_ids), messageCount: ids(e.message_ids).length, window, terms, facts };
}

export const TARGET_LABEL: Record<string, string> = {
  heartbeat_prompt: 'Heartbeat prompt',
  heartbeat_config: 'Heartbeat settings',
  task_execution: 'Task execution',
  tooling: 'Tooling',
};

export const RULE_LABEL: Record<string, string> = {
  recurring_error: 'Recurring error',
  failure_terms: 'Failure terms',
  idle_heartbeats: 'Idle heartbeats',
  stalled_tasks: 'Stalled tasks',
  missed_cadence: 'Missed cadence',
  regression: 'Regression',
};

/** Default "applied at" for the form: now, as a `datetime-local` value in local time. */
export function localDateTimeValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value (local time) → ISO with zone; null when empty or invalid. */
export function parseLocalDateTime(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

// ---------------------------------------------------------------------------------------------
// Judge vs human

const VERDICT_NAMES = ['accomplished', 'partial', 'failed', 'unclear'] as const;

export interface Confusion {
  /** Verdict names in display order (rows: the JSON's outer key, columns: its inner key). */
  verdicts: readonly string[];
  cells: number[][];
  total: number;
  matches: number;
}

/**
 * `{outer: {inner: count}}` (any case) → a dense 4×4 matrix; junk is ignored. The schema
 * documents the outer key as the AI verdict, but the server (review/agreement.py) keys it by
 * the human verdict; the page labels it as the server builds it (reported as an API issue).
 */
export function confusionMatrix(raw: unknown): Confusion {
  const cells = VERDICT_NAMES.map(() => VERDICT_NAMES.map(() => 0));
  let total = 0;
  let matches = 0;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [ai, row] of Object.entries(raw as Record<string, unknown>)) {
      const i = (VERDICT_NAMES as readonly string[]).indexOf(ai.toLowerCase());
      if (i < 0 || !row || typeof row !== 'object') continue;
      for (const [human, count] of Object.entries(row as Record<string, unknown>)) {
        const j = (VERDICT_NAMES as readonly string[]).indexOf(human.toLowerCase());
        const n = Number(count);
        if (j < 0 || !Number.isFinite(n) || n <= 0) continue;
        (cells[i] as number[])[j] = ((cells[i] as number[])[j] ?? 0) + n;
        total += n;
        if (i === j) matches += n;
      }
    }
  }
  return { verdicts: VERDICT_NAMES, cells, total, matches };
}

/** Mean AI-minus-human rating difference in words. */
export function leniency(meanRatingDiff: number | null | undefined): string {
  if (meanRatingDiff === null || meanRatingDiff === undefined) return EMPTY;
  if (Math.abs(meanRatingDiff) < 0.25) return 'in line with humans';
  return meanRatingDiff > 0 ? `lenient (+${meanRatingDiff.toFixed(1)} stars)` : `strict (${meanRatingDiff.toFixed(1)} stars)`;
}

/** Cohen's kappa in words (Landis & Koch). */
export function kappaText(kappa: number | null | undefined): string {
  if (kappa === null || kappa === undefined) return EMPTY;
  const k = kappa.toFixed(2);
  if (kappa < 0.2) return `${k} (slight)`;
  if (kappa < 0.4) return `${k} (fair)`;
  if (kappa < 0.6) return `${k} (moderate)`;
  if (kappa < 0.8) return `${k} (substantial)`;
  return `${k} (almost perfect)`;
}

/** A window as the inclusive `from`/`to` day params other views take (`range=custom`). */
export function toDayParamRange(r: Range): { from: string; to: string } {
  return { from: toDayParam(r.from), to: toDayParam(new Date(r.to.getTime() - 1)) };
}
