import { useState } from 'react';
import { useMutation } from 'urql';
import { CreateReviewMutation, DeleteReviewMutation, UpdateReviewMutation } from '../api/operations';
import type { ReviewFieldsFragment } from '../gql/graphql';
import { useAuth } from '../app/auth';
import { describeError, fieldErrors, problemsOf } from '../lib/errors';
import { formatDateTime, formatRelative, formatTokens, formatUSD } from '../lib/format';
import { Stars, VerdictBadge, label } from './Badges';
import { EMPTY_REVIEW, ReviewForm, missingFields, clearErrors, type ReviewValues } from './ReviewForm';

/**
 * Creates a review (session or run), or edits `review`, in the one review form. The API
 * validates; its BAD_USER_INPUT errors are shown next to the field they name.
 */
export function ReviewEditor({
  sessionId,
  runId,
  review,
  onDone,
  onCancel,
}: {
  sessionId: string;
  runId?: string | null;
  review?: ReviewFieldsFragment;
  onDone?: () => void;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState<ReviewValues>(
    review ? { verdict: review.verdict, rating: review.rating, summary: review.summary ?? '' } : EMPTY_REVIEW,
  );
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [created, create] = useMutation(CreateReviewMutation);
  const [updated, updateReview] = useMutation(UpdateReviewMutation);
  const state = review ? updated : created;
  const apiErrors = fieldErrors(state.error);
  const otherError =
    state.error && Object.keys(apiErrors).length === 0 ? describeError(state.error) : (apiErrors._ ?? null);
  const [saved, setSaved] = useState(false);

  async function submit(): Promise<string | undefined> {
    setSaved(false);
    const local = missingFields(values, { verdict: 'Choose a verdict.', rating: 'Choose a rating from 1 to 5.' });
    setLocalErrors(local);
    if (!values.verdict || values.rating === null) return Object.keys(local)[0];
    // Mutations invalidate cached queries that contain Review/Session (urql's document cache).
    const ctx = { additionalTypenames: ['Review', 'Session', 'Run'] };
    const fields = { verdict: values.verdict, rating: values.rating, summary: values.summary };
    const result = review
      ? await updateReview({ id: review.id, input: fields }, ctx)
      : await create({ input: { sessionId, runId: runId ?? null, ...fields } }, ctx);
    if (result.error) return problemsOf(result.error).find((p) => p.field)?.field?.split('.').pop();
    setSaved(true);
    if (!review) setValues(EMPTY_REVIEW);
    onDone?.();
    return undefined;
  }

  return (
    <ReviewForm
      values={values}
      onChange={(patch) => {
        setValues((v) => ({ ...v, ...patch }));
        setLocalErrors((e) => clearErrors(e, patch));
      }}
      errors={{ ...apiErrors, ...localErrors }}
      error={otherError}
      onSubmit={submit}
      title={review ? 'Edit review' : 'Write a review'}
      testId="review-form"
      placeholder="What happened, and why this verdict?"
      actions={
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={state.fetching}>
            {state.fetching ? 'Saving…' : review ? 'Save changes' : 'Submit review'}
          </button>
          {onCancel ? (
            <button type="button" className="btn btn-ghost" onClick={onCancel}>
              Cancel
            </button>
          ) : null}
          <span className="muted" aria-live="polite">
            {saved && !review ? 'Review saved.' : ''}
          </span>
        </div>
      }
    />
  );
}

/** Reviews with who wrote them; the author (or an admin) can edit or delete. */
export function ReviewList({ reviews, now }: { reviews: ReviewFieldsFragment[]; now: number }) {
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [deleted, remove] = useMutation(DeleteReviewMutation);

  if (reviews.length === 0) {
    return <div className="empty" style={{ padding: 24 }}>No reviews yet.</div>;
  }
  return (
    <div data-testid="review-list">
      {deleted.error ? (
        <div style={{ padding: '8px 16px' }}>
          <div className="banner bad" role="alert">
            {describeError(deleted.error)}
          </div>
        </div>
      ) : null}
      {reviews.map((r) =>
        editing === r.id ? (
          <div className="review" key={r.id}>
            <ReviewEditor
              sessionId={r.sessionId}
              runId={r.runId}
              review={r}
              onDone={() => setEditing(null)}
              onCancel={() => setEditing(null)}
            />
          </div>
        ) : (
          <article className="review" key={r.id} data-testid="review-item">
            <div className="row" style={{ justifyContent: 'space-between' }}>
              <span className="row">
                <VerdictBadge verdict={r.verdict} kind={r.reviewerKind} />
                <Stars rating={r.rating} />
              </span>
              {r.editable ? (
                confirming === r.id ? (
                  <span className="row">
                    <span className="muted">Delete?</span>
                    <button
                      type="button"
                      className="btn btn-sm btn-danger"
                      onClick={async () => {
                        await remove({ id: r.id }, { additionalTypenames: ['Review', 'Session', 'Run'] });
                        setConfirming(null);
                      }}
                    >
                      Delete
                    </button>
                    <button type="button" className="btn btn-sm btn-ghost" onClick={() => setConfirming(null)}>
                      Keep
                    </button>
                  </span>
                ) : (
                  <span className="row">
                    <button type="button" className="btn btn-sm btn-ghost" onClick={() => setEditing(r.id)}>
                      Edit
                    </button>
                    <button type="button" className="btn btn-sm btn-ghost btn-danger" onClick={() => setConfirming(r.id)}>
                      Delete
                    </button>
                  </span>
                )
              ) : null}
            </div>
            {r.summary ? <p>{r.summary}</p> : null}
            <div className="review-meta" style={{ marginTop: 6 }}>
              <span>
                {r.reviewerKind === 'AI'
                  ? `AI review${r.reviewerModel ? ` · ${r.reviewerModel}` : ''}`
                  : `by ${r.createdBy ?? 'unknown key'}`}
              </span>
              {r.reviewerKind === 'AI' ? <AiCost review={r} /> : null}
              <span title={formatDateTime(r.createdAt)}>{formatRelative(r.createdAt, now)}</span>
              {r.updatedAt !== r.createdAt && Date.parse(r.updatedAt) - Date.parse(r.createdAt) > 1000 ? (
                <span title={formatDateTime(r.updatedAt)}>edited</span>
              ) : null}
              {r.runId ? <span>run #{r.runId}</span> : null}
            </div>
          </article>
        ),
      )}
    </div>
  );
}

/** What an AI review cost and how sure it was (null values: not reported, so not shown). */
function AiCost({ review }: { review: ReviewFieldsFragment }) {
  const tokens = review.inputTokens === null && review.outputTokens === null ? null : (review.inputTokens ?? 0) + (review.outputTokens ?? 0);
  return (
    <>
      {review.confidence !== null ? <span>{Math.round(review.confidence * 100)}% confident</span> : null}
      {tokens !== null ? <span title={`${formatTokens(review.inputTokens)} in · ${formatTokens(review.outputTokens)} out`}>{formatTokens(tokens)} tokens</span> : null}
      {review.cost !== null ? <span>{formatUSD(review.cost)}</span> : null}
    </>
  );
}

/** The form for a key that may write reviews; a plain explanation for one that may not. */
export function ReviewComposer({ sessionId, runId }: { sessionId: string; runId?: string | null }) {
  const { can, me } = useAuth();
  if (!can('reviews:write')) {
    return (
      <p className="muted" data-testid="review-denied" style={{ margin: 0 }}>
        Your key ({me.name}, role {label(me.role).toLowerCase()}) can read reviews but not write them.
      </p>
    );
  }
  return <ReviewEditor sessionId={sessionId} runId={runId ?? null} />;
}

