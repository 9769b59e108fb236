// Who holds an item and for how long, behind a lock icon (nothing when it is free).
import { claimText, type ClaimState } from '../../lib/queue';

export function ClaimLabel({ state }: { state: ClaimState }) {
  const text = claimText(state);
  if (!text) return null;
  return (
    <span className={`claim claim-${state.kind}`} data-testid="claim-label">
      <LockIcon /> {text}
    </span>
  );
}

function LockIcon() {
  return (
    <svg className="lock-icon" width="11" height="12" viewBox="0 0 11 12" aria-hidden="true">
      <rect x="1" y="5" width="9" height="6.5" rx="1.5" fill="currentColor" />
      <path d="M3 5V3.6a2.5 2.5 0 0 1 5 0V5" fill="none" stroke="currentColor" strokeWidth="1.4" />
    </svg>
  );
}
