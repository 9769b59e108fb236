// Number, money, duration and time formatting shared by tables, headers and charts.
// Every formatter takes null/undefined ("the provider did not say") and renders an em dash,
// never a made-up zero.

import { currentZone, type ZoneChoice } from './timezone';

export const EMPTY = '—';

type Num = number | string | null | undefined;

function toNumber(value: Num): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

function trim(n: number, digits: number): string {
  // 1.50 -> "1.5", 2.00 -> "2", but 500 stays "500"
  const s = n.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Token counts: 950, 12.3k, 4.56M, 1.2B. */
export function formatTokens(value: Num): string {
  const n = toNumber(value);
  if (n === null) return EMPTY;
  const abs = Math.abs(n);
  const sign = n < 0 ? '-' : '';
  if (abs < 1000) return sign + String(Math.round(abs));
  const units: Array<[number, string]> = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) {
    if (abs >= size * 0.9995) {
      const scaled = abs / size;
      const digits = scaled >= 100 ? 0 : scaled >= 10 ? 1 : 2;
      // 999.95k rounds to "1000k": promote it to the next unit instead.
      const text = trim(scaled, digits);
      if (text === '1000' && unit !== 'B') return `${sign}1${unit === 'k' ? 'M' : 'B'}`;
      return sign + text + unit;
    }
  }
  return sign + String(Math.round(abs));
}

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const usdCompact = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  notation: 'compact',
  maximumFractionDigits: 1,
});

/** US dollars: $0 · $0.0042 · $0.37 · $12.34 · $1,234.50; `compact` gives $12.3K for axes. */
export function formatUSD(value: Num, opts: { compact?: boolean } = {}): string {
  const n = toNumber(value);
  if (n === null) return EMPTY;
  if (n === 0) return '$0';
  const abs = Math.abs(n);
  if (opts.compact && abs >= 10_000) return usdCompact.format(n);
  if (abs < 0.01) {
    // Sub-cent costs are common per run: keep two significant digits.
    const sign = n < 0 ? '-' : '';
    return `${sign}$${abs.toPrecision(2).replace(/0+$/, '')}`.replace(/\.$/, '');
  }
  return usd.format(n);
}

/** Durations: 850 ms · 12.3 s · 4m 05s · 2h 13m · 3d 4h. */
export function formatDuration(value: Num): string {
  const ms = toNumber(value);
  if (ms === null) return EMPTY;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${trim(s, s < 10 ? 2 : 1)} s`;
  const totalSec = Math.round(s);
  const d = Math.floor(totalSec / 86400);
  const h = Math.floor((totalSec % 86400) / 3600);
  const m = Math.floor((totalSec % 3600) / 60);
  const sec = totalSec % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(sec).padStart(2, '0')}s`;
}

/** A ratio 0..1 as a percentage: 0.873 -> "87%", 0.0042 -> "0.4%". */
export function formatPercent(value: Num): string {
  const n = toNumber(value);
  if (n === null) return EMPTY;
  const pct = n * 100;
  if (pct !== 0 && Math.abs(pct) < 1) return `${trim(pct, 1)}%`;
  return `${Math.round(pct)}%`;
}

export function formatInteger(value: Num): string {
  const n = toNumber(value);
  if (n === null) return EMPTY;
  return Math.round(n).toLocaleString('en-US');
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function dateTimeFormat(zone: ZoneChoice, short: boolean): Intl.DateTimeFormat {
  const key = `${zone}:${short}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, {
      ...(short ? {} : { year: 'numeric' as const }),
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      // Every time says its zone: "UTC", or the browser's own ("GMT+1", "PST").
      timeZoneName: 'short',
      ...(zone === 'utc' ? { timeZone: 'UTC' } : {}),
    });
    formatters.set(key, f);
  }
  return f;
}

/** A time in the chosen zone (UTC or local, see lib/timezone), with the zone named. */
export function formatDateTime(
  iso: string | null | undefined,
  opts: { short?: boolean; zone?: ZoneChoice } = {},
): string {
  if (!iso) return EMPTY;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return EMPTY;
  return dateTimeFormat(opts.zone ?? currentZone(), opts.short ?? false).format(d);
}

/** A clock time in the chosen zone, with the zone: "17:05 UTC". */
export function formatClock(t: string | number | null | undefined, opts: { zone?: ZoneChoice } = {}): string {
  if (t === null || t === undefined) return EMPTY;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return EMPTY;
  const zone = opts.zone ?? currentZone();
  return d.toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
    ...(zone === 'utc' ? { timeZone: 'UTC' } : {}),
  });
}

/** Fewer reviews than this and a rate is shown greyed: it could easily swing either way. */
export const SMALL_SAMPLE = 10;

/** A rate with its sample size: "57% · 23 reviews"; no sample gives "— · 0 reviews". */
export function formatRate(rate: Num, n: number, noun = 'reviews'): string {
  const unit = n === 1 ? noun.replace(/s$/, '') : noun;
  return `${formatPercent(n > 0 ? rate : null)} · ${formatInteger(n)} ${unit}`;
}

/** "just now", "5 min ago", "3 h ago", "2 d ago"; future times read "in 5 min". */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return EMPTY;
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return EMPTY;
  const diff = now - t;
  const abs = Math.abs(diff);
  let text: string;
  if (abs < 45_000) return 'just now';
  if (abs < 3_600_000) text = `${Math.round(abs / 60_000)} min`;
  else if (abs < 86_400_000) text = `${Math.round(abs / 3_600_000)} h`;
  else text = `${Math.round(abs / 86_400_000)} d`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}
