// Merging live subscription events into a paged list, kept pure so it is unit-tested.

export interface LiveRow {
  id: string;
  startedAt: string;
  latestReview?: { verdict: string } | null;
}

export interface LiveFilter {
  startedAfter?: string;
  startedBefore?: string;
  hasReview?: boolean;
  verdicts?: string[];
}

/**
 * The server filters live events by agent, kind, status and search; conditions it cannot check
 * per event (time window, reviews) are checked here so a filtered view never shows strangers.
 */
export function liveMatches(row: LiveRow, f: LiveFilter): boolean {
  const t = Date.parse(row.startedAt);
  if (f.startedAfter && t < Date.parse(f.startedAfter)) return false;
  if (f.startedBefore && t >= Date.parse(f.startedBefore)) return false;
  const review = row.latestReview ?? null;
  if (f.hasReview === true && !review) return false;
  if (f.hasReview === false && review) return false;
  if (f.verdicts && f.verdicts.length > 0 && (!review || !f.verdicts.includes(review.verdict))) return false;
  return true;
}

/**
 * Rows to display: live arrivals first (newest first), then the page; updates replace rows in
 * place; duplicates removed; the length never exceeds the page size, so the table height (and
 * everything below it) does not jump when rows arrive.
 */
export function mergeRows<T extends { id: string }>(
  page: T[],
  arrivals: T[],
  updates: ReadonlyMap<string, T>,
  pageSize: number,
): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const row of [...arrivals, ...page]) {
    if (seen.has(row.id)) continue;
    seen.add(row.id);
    out.push(updates.get(row.id) ?? row);
    if (out.length >= pageSize) break;
  }
  return out;
}

/** Add an arrival (newest first), ignoring one already present. */
export function addArrival<T extends { id: string }>(arrivals: T[], row: T, limit = 200): T[] {
  if (arrivals.some((r) => r.id === row.id)) return arrivals;
  return [row, ...arrivals].slice(0, limit);
}
