import { pageRangeLabel } from '../lib/paging';

/** The table footer of a cursor-paged list: "1–50 of N" and Previous / Next. */
export function Pager({
  pages,
  pageSize,
  shown,
  total,
  none,
  testId,
}: {
  pages: { pageIndex: number; hasPrev: boolean; hasNext: boolean; next: () => void; prev: () => void };
  pageSize: number;
  shown: number;
  /** null while the first page loads. */
  total: number | null;
  /** Text for an empty list, e.g. "No sessions". */
  none: string;
  testId?: string;
}) {
  return (
    <div className="table-foot">
      <span data-testid={testId}>{pageRangeLabel(pages.pageIndex, pageSize, shown, total, none)}</span>
      <div className="row">
        <button type="button" className="btn btn-sm" onClick={pages.prev} disabled={!pages.hasPrev}>
          ← Previous
        </button>
        <button type="button" className="btn btn-sm" onClick={pages.next} disabled={!pages.hasNext}>
          Next →
        </button>
      </div>
    </div>
  );
}
