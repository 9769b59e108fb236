// The dashboard's period picker: a preset (24h / 7d / 30d) or a custom range, kept in the URL,
// resolved to an absolute [from, to) window and a bucket size the charts can draw legibly.

export type Bucket = 'HOUR' | 'DAY' | 'WEEK';
export type PresetPeriod = '24h' | '7d' | '30d';
export type PeriodKey = PresetPeriod | 'custom';

export interface Period {
  key: PeriodKey;
  from: Date;
  to: Date;
  bucket: Bucket;
}

export const PRESETS: Record<PresetPeriod, { label: string; ms: number; bucket: Bucket }> = {
  '24h': { label: '24 h', ms: 24 * 3600_000, bucket: 'HOUR' },
  '7d': { label: '7 d', ms: 7 * 86_400_000, bucket: 'DAY' },
  '30d': { label: '30 d', ms: 30 * 86_400_000, bucket: 'DAY' },
};

export const BUCKET_MS: Record<Bucket, number> = {
  HOUR: 3600_000,
  DAY: 86_400_000,
  WEEK: 7 * 86_400_000,
};

/** Pick a bucket that gives a readable number of points (roughly 12–200). */
export function bucketFor(spanMs: number): Bucket {
  if (spanMs <= 3 * 86_400_000) return 'HOUR';
  if (spanMs <= 120 * 86_400_000) return 'DAY';
  return 'WEEK';
}

function isPreset(key: string | null): key is PresetPeriod {
  return key !== null && key in PRESETS;
}

function parseDay(value: string | null, endOfDay: boolean): Date | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return null;
  return endOfDay ? new Date(d.getTime() + 86_400_000) : d;
}

/**
 * Resolve URL params (`period`, `from`, `to` as YYYY-MM-DD, UTC) to a window.
 * `to` is exclusive and the custom `to` day is included whole. Anything invalid falls back
 * to the last 7 days, so a mangled shared link still shows something sensible.
 */
export function resolvePeriod(params: URLSearchParams, now: Date = new Date()): Period {
  const key = params.get('period');
  if (key === 'custom') {
    const from = parseDay(params.get('from'), false);
    const to = parseDay(params.get('to'), true);
    if (from && to && from < to) {
      return { key: 'custom', from, to, bucket: bucketFor(to.getTime() - from.getTime()) };
    }
  }
  const preset = isPreset(key) ? key : '7d';
  const spec = PRESETS[preset];
  // Align `to` to the next bucket boundary so the last bucket is complete-to-date and stable
  // across re-renders within the same bucket (the query variables do not change every second).
  const size = BUCKET_MS[spec.bucket];
  const to = new Date(Math.ceil(now.getTime() / size) * size);
  const from = new Date(to.getTime() - spec.ms);
  return { key: preset, from, to, bucket: spec.bucket };
}

/** Start of the UTC bucket containing `t` (weeks start on Monday, as PostgreSQL's date_trunc). */
export function bucketStart(t: number, bucket: Bucket): number {
  if (bucket === 'WEEK') {
    const day = Math.floor(t / 86_400_000);
    // 1970-01-01 was a Thursday: Monday-based weekday = (day + 3) % 7
    const weekday = (((day + 3) % 7) + 7) % 7;
    return (day - weekday) * 86_400_000;
  }
  const size = BUCKET_MS[bucket];
  return Math.floor(t / size) * size;
}

/** Every bucket start in [from, to), so charts show gaps as zeros rather than skipping them. */
export function bucketRange(from: Date, to: Date, bucket: Bucket): number[] {
  const out: number[] = [];
  const end = to.getTime();
  let t = bucketStart(from.getTime(), bucket);
  const step = BUCKET_MS[bucket];
  while (t < end && out.length < 5000) {
    out.push(t);
    t += step;
  }
  return out;
}

export function toDayParam(d: Date): string {
  return d.toISOString().slice(0, 10);
}
