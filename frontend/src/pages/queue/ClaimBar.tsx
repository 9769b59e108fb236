// The panel's claim line: claim a free item, release one's own, or see who holds it.
import { formatClock } from '../../lib/format';
import type { ClaimState } from '../../lib/queue';
import { ClaimLabel } from './ClaimLabel';

export function ClaimBar({
  state,
  canWrite,
  onClaim,
  onRelease,
}: {
  state: ClaimState;
  canWrite: boolean;
  onClaim: () => void;
  onRelease: () => void;
}) {
  if (!canWrite) {
    return (
      <div className="claim-bar">
        <ClaimLabel state={state} />
        {state.kind === 'free' ? <span className="muted">Not claimed.</span> : null}
      </div>
    );
  }
  return (
    <div className={`claim-bar claim-bar-${state.kind}`} data-testid="claim-bar">
      {state.kind === 'free' ? (
        <>
          <span>Not claimed. Claim it so nobody else reviews it at the same time (15 min).</span>
          <button type="button" className="btn btn-sm" onClick={onClaim}>
            Claim <kbd>c</kbd>
          </button>
        </>
      ) : state.kind === 'mine' ? (
        <>
          <ClaimLabel state={state} />
          <span className="muted">until {formatClock(state.expiresAt)}</span>
          <button type="button" className="btn btn-sm btn-ghost" onClick={onRelease}>
            Release <kbd>u</kbd>
          </button>
        </>
      ) : (
        <ClaimLabel state={state} />
      )}
    </div>
  );
}
