// Merging live subscription events into a paged list, kept pure so it is unit-tested. Which
// events fit the filter is the server's call (subscriptions apply the list query's predicate).

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
