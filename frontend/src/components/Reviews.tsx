import { useId, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { CreateReviewMutation, DeleteReviewMutation, UpdateReviewMutation } from '../api/operations';
import type { ReviewFieldsFragment, Verdict } from '../gql/graphql';
import { useAuth } from '../app/auth';
import { describeError, fieldErrors, problemsOf } from '../lib/errors';
import { VERDICTS } from '../lib/filters';
import { formatDateTime, formatRelative, formatTokens, formatUSD } from '../lib/format';
import { Stars, VerdictBadge, label } from './Badges';

const VERDICT_HELP: Record<Verdict, string> = {
  ACCOMPLISHED: 'Did what was asked',
  PARTIAL: 'Some of it',
  FAILED: 'Did not do it',
  UNCLEAR: 'Cannot tell',
};

interface FormValues {
  verdict: Verdict | null;
  rating: number | null;
  summary: string;
}

/**
 * Verdict, rating 1–5 and summary. Creates a review (session or run), or edits `review`.
 * The API validates; its BAD_USER_INPUT errors are shown next to the field they name.
 */
export function ReviewForm({
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
  const id = useId();
  const [values, setValues] = useState<FormValues>({
    verdict: review?.verdict ?? null,
    rating: review?.rating ?? null,
    summary: review?.summary ?? '',
  });
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [created, create] = useMutation(CreateReviewMutation);
  const [updated, updateReview] = useMutation(UpdateReviewMutation);
  const state = review ? updated : created;
  const apiErrors = fieldErrors(state.error);
  const errors = { ...apiErrors, ...localErrors };
  const otherError =
    state.error && Object.keys(apiErrors).length === 0 ? describeError(state.error) : (apiErrors._ ?? null);
  const [saved, setSaved] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const local: Record<string, string> = {};
    if (!values.verdict) local.verdict = 'Choose a verdict.';
    if (values.rating === null) local.rating = 'Choose a rating from 1 to 5.';
    setLocalErrors(local);
    if (Object.keys(local).length > 0 || !values.verdict || values.rating === null) {
      const first = document.getElementById(`${id}-${Object.keys(local)[0]}`);
      first?.focus();
      return;
    }
    // Mutations invalidate cached queries that contain Review/Session (urql's document cache).
    const ctx = { additionalTypenames: ['Review', 'Session', 'Run'] };
    const result = review
      ? await updateReview(
          { id: review.id, input: { verdict: values.verdict, rating: values.rating, summary: values.summary } },
          ctx,
        )
      : await create(
          {
            input: {
              sessionId,
              runId: runId ?? null,
              verdict: values.verdict,
              rating: values.rating,
              summary: values.summary,
            },
          },
          ctx,
        );
    if (!result.error) {
      setSaved(true);
      if (!review) setValues({ verdict: null, rating: null, summary: '' });
      onDone?.();
    } else {
      const firstField = problemsOf(result.error).find((p) => p.field)?.field?.split('.').pop();
      if (firstField) document.getElementById(`${id}-${firstField}`)?.focus();
    }
  }

  const set = (patch: Partial<FormValues>) => {
    setValues((v) => ({ ...v, ...patch }));
    setLocalErrors((e) => {
      const next = { ...e };
      for (const k of Object.keys(patch)) delete next[k];
      return next;
    });
  };

  return (
    <form className="stack" onSubmit={submit} noValidate data-testid="review-form" aria-label={review ? 'Edit review' : 'Write a review'}>
      <fieldset className="field" style={{ border: 0, padding: 0, margin: 0 }} aria-describedby={errors.verdict ? `${id}-verdict-err` : undefined}>
        <legend className="field-label" style={{ marginBottom: 4 }}>
          Verdict
        </legend>
        <div className="segmented verdicts" id={`${id}-verdict`} tabIndex={-1}>
          {VERDICTS.map((v) => (
            <label key={v} title={VERDICT_HELP[v]}>
              <input
                type="radio"
                name={`${id}-verdict`}
                value={v}
                checked={values.verdict === v}
                onChange={() => set({ verdict: v })}
              />
              {label(v)}
            </label>
          ))}
        </div>
        {errors.verdict ? (
          <span className="field-error" id={`${id}-verdict-err`} role="alert">
            {errors.verdict}
          </span>
        ) : null}
      </fieldset>

      <fieldset className="field" style={{ border: 0, padding: 0, margin: 0 }}>
        <legend className="field-label" style={{ marginBottom: 4 }}>
          Rating
        </legend>
        <RatingInput name={`${id}-rating`} id={`${id}-rating`} value={values.rating} onChange={(rating) => set({ rating })} />
        {errors.rating ? (
          <span className="field-error" role="alert">
            {errors.rating}
          </span>
        ) : null}
      </fieldset>

      <div className="field">
        <label htmlFor={`${id}-summary`}>Summary</label>
        <textarea
          id={`${id}-summary`}
          name="summary"
          className="textarea"
          rows={4}
          value={values.summary}
          aria-invalid={errors.summary ? true : undefined}
          aria-describedby={errors.summary ? `${id}-summary-err` : undefined}
          placeholder="What happened, and why this verdict?"
          onChange={(e) => set({ summary: e.target.value })}
        />
        {errors.summary ? (
          <span className="field-error" id={`${id}-summary-err`} role="alert" data-testid="summary-error">
            {errors.summary}
          </span>
        ) : (
          <span className="field-hint">{values.summary.length.toLocaleString()} characters</span>
        )}
      </div>

      {otherError ? (
        <div className="banner bad" role="alert">
          {otherError}
        </div>
      ) : null}

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
    </form>
  );
}

/** Reviews with who wrote them; the author (or an admin) can edit or delete. */
/** Five radio stars, 1–5; the ones up to the chosen rating are lit. */
export function RatingInput({
  name,
  value,
  onChange,
  id,
  testId,
}: {
  name: string;
  value: number | null;
  onChange: (rating: number) => void;
  /** Makes the group focusable by id (to point at a validation error). */
  id?: string;
  testId?: string;
}) {
  return (
    <div className="rating" id={id} tabIndex={id ? -1 : undefined} role="radiogroup" aria-label="Rating" data-testid={testId}>
      {[1, 2, 3, 4, 5].map((n) => (
        <label key={n} className={value !== null && n <= value ? 'on' : undefined} title={`${n} of 5`}>
          <input type="radio" name={name} value={n} checked={value === n} onChange={() => onChange(n)} aria-label={`${n} of 5`} />★
        </label>
      ))}
    </div>
  );
}

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
            <ReviewForm
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
  return <ReviewForm sessionId={sessionId} runId={runId ?? null} />;
}

