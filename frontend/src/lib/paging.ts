import { formatInteger } from './format';

/**
 * Which page (0-based) a cursor-paged list shows: the first page has no `after` cursor; later
 * pages are as deep as the stack of cursors it took to get there (at least 1, e.g. after a reload
 * of a shared URL, when the stack is empty).
 */
export function pageIndexOf(after: string | null, depth: number): number {
  return after ? Math.max(1, depth) : 0;
}

/** The pager footer text: "1–50 of 1,234", `none` when the list is empty, a space while loading. */
export function pageRangeLabel(
  pageIndex: number,
  pageSize: number,
  shown: number,
  total: number | null,
  none: string,
): string {
  if (total === null) return ' ';
  if (total === 0) return none;
  const first = pageIndex * pageSize;
  return `${formatInteger(first + 1)}–${formatInteger(first + shown)} of ${formatInteger(total)}`;
}
