// The latest human review, read-only (for keys that may read the queue but not review).
import { Stars, VerdictBadge } from '../../components/Badges';
import type { FullReviewFieldsFragment } from '../../gql/graphql';
import { formatDateTime } from '../../lib/format';

export function HumanReview({ review }: { review: FullReviewFieldsFragment | null }) {
  return (
    <div className="verdict-card">
      <div className="field-label">Human review</div>
      {review ? (
        <div className="stack" style={{ gap: 6 }}>
          <span className="row">
            <VerdictBadge verdict={review.verdict} kind={review.reviewerKind} />
            <Stars rating={review.rating} />
          </span>
          {review.summary ? <p style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{review.summary}</p> : null}
          <span className="review-meta">
            {review.reviewerKind === 'AI' ? `AI · ${review.reviewerModel ?? 'model unknown'}` : `by ${review.createdBy ?? 'unknown key'}`} ·{' '}
            {formatDateTime(review.createdAt, { short: true })}
          </span>
        </div>
      ) : (
        <p className="muted">No human review yet.</p>
      )}
    </div>
  );
}
