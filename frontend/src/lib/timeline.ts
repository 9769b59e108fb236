// Pure helpers for the run timeline (waterfall) on the session detail.

export interface Span {
  from: number;
  to: number;
}

/** The time span the waterfall covers: the session's start to its last known activity. */
export function sessionSpan(startedAt: string, ends: Array<string | null | undefined>, now: number): Span {
  const from = Date.parse(startedAt);
  const known = ends.map((e) => (e ? Date.parse(e) : NaN)).filter((t) => Number.isFinite(t));
  const to = known.length ? Math.max(...known) : now;
  // A span of zero (one instant) would divide by zero: give it a second.
  return { from, to: Math.max(to, from + 1000) };
}

/**
 * Where a run's bar sits, in percent of the span. A running run (no duration yet) reaches the
 * end of the span; every bar keeps a visible minimum width (the CSS sets 3 px).
 */
export function barPosition(startedAt: string, durationMs: number | string | null, span: Span): { left: number; width: number } {
  const total = span.to - span.from;
  const start = Date.parse(startedAt);
  const left = Math.min(100, Math.max(0, ((start - span.from) / total) * 100));
  const d = durationMs === null ? span.to - start : Number(durationMs);
  const width = Math.min(100 - left, Math.max(0, (d / total) * 100));
  return { left, width };
}
