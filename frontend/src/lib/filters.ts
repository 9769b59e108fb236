// Filters live in the URL query string, so a view is shareable and survives reloads.
// These pure functions translate between URLSearchParams and the API's filter inputs.

export const SESSION_KINDS = ['MAIN', 'TASK', 'HEARTBEAT', 'CRON', 'CHANNEL', 'OTHER'] as const;
export const SESSION_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'ARCHIVED'] as const;
export const RUN_STATUSES = ['RUNNING', 'COMPLETED', 'FAILED'] as const;
export const VERDICTS = ['ACCOMPLISHED', 'PARTIAL', 'FAILED', 'UNCLEAR'] as const;
export const SORT_FIELDS = ['STARTED_AT', 'UPDATED_AT', 'COST', 'TOKENS', 'DURATION'] as const;

export type SessionKindName = (typeof SESSION_KINDS)[number];
export type SessionStatusName = (typeof SESSION_STATUSES)[number];
export type RunStatusName = (typeof RUN_STATUSES)[number];
export type VerdictName = (typeof VERDICTS)[number];
export type SortField = (typeof SORT_FIELDS)[number];
export type Direction = 'ASC' | 'DESC';

export const RANGES = ['24h', '7d', '30d'] as const;
export type RangeKey = (typeof RANGES)[number] | 'custom' | '';

/** Lower-case, human-friendly URL values <-> API enum names. */
function parseEnumList<T extends string>(value: string | null, allowed: readonly T[]): T[] {
  if (!value) return [];
  const out: T[] = [];
  for (const part of value.split(',')) {
    const upper = part.trim().toUpperCase() as T;
    if (allowed.includes(upper) && !out.includes(upper)) out.push(upper);
  }
  return out;
}

function parseList(value: string | null): string[] {
  if (!value) return [];
  return [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))];
}

function parseBool(value: string | null): boolean | null {
  if (value === 'yes' || value === 'true') return true;
  if (value === 'no' || value === 'false') return false;
  return null;
}

const DAY = 86_400_000;
const RANGE_MS: Record<(typeof RANGES)[number], number> = { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY };

export interface TimeWindow {
  after: string | null;
  before: string | null;
}

/** `range=24h|7d|30d` (relative to now) or `range=custom&from=YYYY-MM-DD&to=YYYY-MM-DD` (UTC days, inclusive). */
export function resolveRange(params: URLSearchParams, now: Date): TimeWindow {
  const range = params.get('range');
  if (range && range in RANGE_MS) {
    // Round to the minute so the variables (and so the urql cache key) are stable across renders.
    const end = Math.ceil(now.getTime() / 60_000) * 60_000;
    return { after: new Date(end - RANGE_MS[range as keyof typeof RANGE_MS]).toISOString(), before: null };
  }
  if (range === 'custom') {
    const from = day(params.get('from'));
    const to = day(params.get('to'));
    return {
      after: from !== null ? new Date(from).toISOString() : null,
      before: to !== null ? new Date(to + DAY).toISOString() : null,
    };
  }
  return { after: null, before: null };
}

function day(value: string | null): number | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const t = Date.parse(`${value}T00:00:00Z`);
  return Number.isNaN(t) ? null : t;
}

export interface SessionQueryState {
  agents: string[];
  kinds: SessionKindName[];
  statuses: SessionStatusName[];
  search: string;
  range: RangeKey;
  from: string;
  to: string;
  reviewed: boolean | null;
  verdicts: VerdictName[];
  sort: SortField;
  dir: Direction;
  after: string | null;
}

export function readSessionState(params: URLSearchParams): SessionQueryState {
  const sort = (params.get('sort') ?? '').toUpperCase() as SortField;
  const range = params.get('range') ?? '';
  return {
    agents: parseList(params.get('agent')),
    kinds: parseEnumList(params.get('kind'), SESSION_KINDS),
    statuses: parseEnumList(params.get('status'), SESSION_STATUSES),
    search: params.get('q') ?? '',
    range: (RANGES as readonly string[]).includes(range) || range === 'custom' ? (range as RangeKey) : '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    reviewed: parseBool(params.get('reviewed')),
    verdicts: parseEnumList(params.get('verdict'), VERDICTS),
    sort: SORT_FIELDS.includes(sort) ? sort : 'STARTED_AT',
    dir: params.get('dir') === 'asc' ? 'ASC' : 'DESC',
    after: params.get('after'),
  };
}

/** Canonical query string: defaults are omitted so URLs stay short and comparable. */
export function writeSessionState(s: SessionQueryState): URLSearchParams {
  const p = new URLSearchParams();
  const lower = (xs: string[]) => xs.map((x) => x.toLowerCase()).join(',');
  if (s.agents.length) p.set('agent', s.agents.join(','));
  if (s.kinds.length) p.set('kind', lower(s.kinds));
  if (s.statuses.length) p.set('status', lower(s.statuses));
  if (s.search.trim()) p.set('q', s.search.trim());
  if (s.range) p.set('range', s.range);
  if (s.range === 'custom' && s.from) p.set('from', s.from);
  if (s.range === 'custom' && s.to) p.set('to', s.to);
  if (s.reviewed !== null) p.set('reviewed', s.reviewed ? 'yes' : 'no');
  if (s.verdicts.length) p.set('verdict', lower(s.verdicts));
  if (s.sort !== 'STARTED_AT') p.set('sort', s.sort.toLowerCase());
  if (s.dir !== 'DESC') p.set('dir', 'asc');
  if (s.after) p.set('after', s.after);
  return p;
}

/** The API's SessionFilter input for a state (only the conditions that are set). */
export function sessionFilterOf(s: SessionQueryState, params: URLSearchParams, now: Date) {
  const win = resolveRange(params, now);
  return {
    ...(s.agents.length ? { agentIds: s.agents } : {}),
    ...(s.kinds.length ? { kinds: s.kinds } : {}),
    ...(s.statuses.length ? { statuses: s.statuses } : {}),
    ...(s.search.trim() ? { search: s.search.trim() } : {}),
    ...(win.after ? { startedAfter: win.after } : {}),
    ...(win.before ? { startedBefore: win.before } : {}),
    ...(s.reviewed !== null ? { hasReview: s.reviewed } : {}),
    ...(s.verdicts.length ? { verdicts: s.verdicts } : {}),
  };
}

export interface HeartbeatQueryState {
  agents: string[];
  statuses: RunStatusName[];
  search: string;
  range: RangeKey;
  from: string;
  to: string;
  reviewed: boolean | null;
  quiet: boolean | null;
  after: string | null;
}

export function readHeartbeatState(params: URLSearchParams): HeartbeatQueryState {
  const range = params.get('range') ?? '';
  return {
    agents: parseList(params.get('agent')),
    statuses: parseEnumList(params.get('status'), RUN_STATUSES),
    search: params.get('q') ?? '',
    range: (RANGES as readonly string[]).includes(range) || range === 'custom' ? (range as RangeKey) : '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    reviewed: parseBool(params.get('reviewed')),
    quiet: parseBool(params.get('quiet')),
    after: params.get('after'),
  };
}

export function writeHeartbeatState(s: HeartbeatQueryState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.agents.length) p.set('agent', s.agents.join(','));
  if (s.statuses.length) p.set('status', s.statuses.map((x) => x.toLowerCase()).join(','));
  if (s.search.trim()) p.set('q', s.search.trim());
  if (s.range) p.set('range', s.range);
  if (s.range === 'custom' && s.from) p.set('from', s.from);
  if (s.range === 'custom' && s.to) p.set('to', s.to);
  if (s.reviewed !== null) p.set('reviewed', s.reviewed ? 'yes' : 'no');
  if (s.quiet !== null) p.set('quiet', s.quiet ? 'yes' : 'no');
  if (s.after) p.set('after', s.after);
  return p;
}

export function heartbeatFilterOf(s: HeartbeatQueryState, params: URLSearchParams, now: Date) {
  const win = resolveRange(params, now);
  return {
    ...(s.agents.length ? { agentIds: s.agents } : {}),
    ...(s.statuses.length ? { statuses: s.statuses } : {}),
    ...(s.search.trim() ? { search: s.search.trim() } : {}),
    ...(win.after ? { startedAfter: win.after } : {}),
    ...(win.before ? { startedBefore: win.before } : {}),
    ...(s.reviewed !== null ? { reviewed: s.reviewed } : {}),
    ...(s.quiet !== null ? { quiet: s.quiet } : {}),
  };
}

/** URLSearchParams.toString() escapes commas; lists read better unescaped (and stay valid). */
export function queryString(p: URLSearchParams): string {
  return p.toString().replace(/%2C/gi, ',');
}
