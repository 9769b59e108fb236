// One row of the queue list: what it is, why it is queued, the AI's verdict and its claim.
import { VerdictBadge, label } from '../../components/Badges';
import { formatDateTime, formatRelative } from '../../lib/format';
import { claimState, itemKey } from '../../lib/queue';
import { ClaimLabel } from './ClaimLabel';
import { itemTitle, type Item } from './item';
import { ReasonChips } from './ReasonChips';

export function QueueItem({
  item,
  selected,
  now,
  canWrite,
  onSelect,
  onClaim,
}: {
  item: Item;
  selected: boolean;
  now: number;
  canWrite: boolean;
  onSelect: () => void;
  onClaim: () => void;
}) {
  const state = claimState(item, now);
  return (
    <li className="queue-item" aria-selected={selected} data-key={itemKey(item)} data-testid="queue-item">
      <button type="button" className="queue-item-main" onClick={onSelect} aria-current={selected ? 'true' : undefined}>
        <span className="queue-item-title truncate">{itemTitle(item)}</span>
        <span className="queue-item-meta">
          <span>{item.agentId}</span>
          <span>{item.runId ? `${item.kind} run` : item.kind}</span>
          <span>{label(item.status)}</span>
          <span title={formatDateTime(item.finishedAt)}>{formatRelative(item.finishedAt, now)}</span>
        </span>
        <span className="row wrap" style={{ gap: 6 }}>
          <ReasonChips reasons={item.reasons} />
          {item.latestAi ? <VerdictBadge verdict={item.latestAi.verdict} kind="AI" /> : null}
        </span>
        <ClaimLabel state={state} />
      </button>
      {canWrite && state.kind === 'free' ? (
        <button type="button" className="btn btn-sm queue-claim" onClick={onClaim} aria-label={`Claim ${itemTitle(item)}`}>
          Claim
        </button>
      ) : null}
    </li>
  );
}
