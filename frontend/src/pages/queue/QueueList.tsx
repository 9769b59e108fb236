// The queue's left column: counts per reason, the items (most urgent first), "Show more".
import type { RefObject } from 'react';
import { Empty } from '../../components/States';
import { REASON_HELP, itemKey, type ReasonChip } from '../../lib/queue';
import type { Item } from './item';
import { QueueItem } from './QueueItem';

export function QueueList({
  items,
  chips,
  total,
  loaded,
  loading,
  selected,
  now,
  canWrite,
  listRef,
  onSelect,
  onClaim,
  onMore,
}: {
  items: Item[];
  chips: ReasonChip[];
  total: number;
  loaded: boolean;
  loading: boolean;
  selected: string | null;
  now: number;
  canWrite: boolean;
  listRef: RefObject<HTMLOListElement | null>;
  onSelect: (key: string) => void;
  onClaim: (item: Item) => void;
  /** Null when everything is loaded (or the page is at its largest). */
  onMore: (() => void) | null;
}) {
  return (
    <section className="card queue-list" aria-labelledby="queue-h">
      <div className="card-head">
        <h2 id="queue-h">
          Queue <span className="muted num" data-testid="queue-total">{loaded ? total : ''}</span>
        </h2>
      </div>
      <div className="chips" data-testid="reason-chips" aria-label="Items per reason">
        {chips.map((c) => (
          <span key={c.reason} className={`chip ${c.tone}`} title={REASON_HELP[c.reason]} data-reason={c.reason}>
            {c.label} <strong className="num">{loaded ? c.count : '…'}</strong>
          </span>
        ))}
      </div>
      {loaded && items.length === 0 ? <Empty title="Nothing needs a review">Everything here has a human review, or you skipped it.</Empty> : null}
      {loading ? (
        <div className="card-pad muted" aria-busy="true">
          Loading the queue…
        </div>
      ) : null}
      <ol className="queue-items" data-testid="queue-items" ref={listRef}>
        {items.map((i) => (
          <QueueItem
            key={itemKey(i)}
            item={i}
            selected={selected === itemKey(i)}
            now={now}
            canWrite={canWrite}
            onSelect={() => onSelect(itemKey(i))}
            onClaim={() => onClaim(i)}
          />
        ))}
      </ol>
      {loaded && onMore ? (
        <div className="table-foot">
          <span className="muted">
            Showing {items.length} of {total}
          </span>
          <button type="button" className="btn btn-sm" onClick={onMore}>
            Show more
          </button>
        </div>
      ) : null}
    </section>
  );
}
