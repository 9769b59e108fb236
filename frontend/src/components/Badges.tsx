import type { ReviewerKind, RunStatus, SessionKind, SessionStatus, Verdict } from '../gql/graphql';

const STATUS_TONE: Record<SessionStatus | RunStatus, string> = {
  PENDING: '',
  RUNNING: 'info',
  COMPLETED: 'ok',
  FAILED: 'bad',
  ARCHIVED: '',
};

export function StatusBadge({ status }: { status: SessionStatus | RunStatus }) {
  return <span className={`badge badge-dot ${STATUS_TONE[status]}`}>{label(status)}</span>;
}

const VERDICT_TONE: Record<Verdict, string> = {
  ACCOMPLISHED: 'ok',
  PARTIAL: 'warn',
  FAILED: 'bad',
  UNCLEAR: '',
};

export function VerdictBadge({ verdict, kind }: { verdict: Verdict; kind?: ReviewerKind | undefined }) {
  return (
    <span className={`badge ${VERDICT_TONE[verdict]}`} title={kind === 'AI' ? 'AI review' : 'Human review'}>
      {label(verdict)}
      {kind === 'AI' ? <span aria-label="by AI"> · AI</span> : null}
    </span>
  );
}

export function KindTag({ kind }: { kind: SessionKind }) {
  return <span className="kind">{kind.toLowerCase()}</span>;
}

export function Stars({ rating }: { rating: number }) {
  return (
    <span className="stars" role="img" aria-label={`${rating} of 5`}>
      {'★'.repeat(rating)}
      <span className="off">{'★'.repeat(Math.max(0, 5 - rating))}</span>
    </span>
  );
}

/** ENUM_NAME -> "Enum name" */
export function label(value: string): string {
  const s = value.replace(/_/g, ' ').toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A list cell: the latest review's verdict and stars, or a dash when there is none. */
export function LatestReview({
  review,
}: {
  review: { verdict: Verdict; rating: number; reviewerKind: ReviewerKind } | null;
}) {
  return review ? (
    <span className="row">
      <VerdictBadge verdict={review.verdict} kind={review.reviewerKind} />
      <Stars rating={review.rating} />
    </span>
  ) : (
    <span className="muted">—</span>
  );
}
