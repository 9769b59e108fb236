// Why an item is in the queue, one chip per reason.
import { REASON_HELP, REASON_TONE, isReason, reasonLabel } from '../../lib/queue';

export function ReasonChips({ reasons }: { reasons: readonly string[] }) {
  return (
    <span className="row wrap" style={{ gap: 4 }}>
      {reasons.map((r) => (
        <span key={r} className={`chip chip-sm ${isReason(r) ? REASON_TONE[r] : ''}`} title={isReason(r) ? REASON_HELP[r] : undefined}>
          {reasonLabel(r)}
        </span>
      ))}
    </span>
  );
}
