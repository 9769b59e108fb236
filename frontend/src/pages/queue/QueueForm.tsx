// The human's verdict in the queue: the one review form, driven from the keyboard, with
// "Submit & next" and "Skip" (the page decides what each does).
import { Stars, VerdictBadge } from '../../components/Badges';
import { ReviewForm, type ReviewValues } from '../../components/ReviewForm';
import type { FullReviewFieldsFragment } from '../../gql/graphql';

export function QueueForm({
  values,
  onChange,
  errors,
  error,
  armed,
  busy,
  disabled,
  onSubmit,
  onSkip,
  previous,
}: {
  values: ReviewValues;
  onChange: (patch: Partial<ReviewValues>) => void;
  errors: Record<string, string>;
  error: string | null;
  armed: boolean;
  busy: boolean;
  disabled: boolean;
  onSubmit: () => void;
  onSkip: () => void;
  previous: FullReviewFieldsFragment | null;
}) {
  return (
    <ReviewForm
      className="verdict-card human-form"
      testId="queue-form"
      title="Your review"
      placeholder="Why this verdict? (Ctrl+Enter submits, Esc leaves the field)"
      values={values}
      onChange={onChange}
      errors={errors}
      error={error}
      disabled={disabled}
      shortcuts={{ armed }}
      onSubmit={onSubmit}
      actions={
        <div className="row wrap">
          <button type="submit" className="btn btn-primary" disabled={busy || disabled} data-testid="queue-submit">
            {busy ? 'Saving…' : 'Submit & next'} <kbd>Enter</kbd>
          </button>
          <button type="button" className="btn" onClick={onSkip} disabled={busy} data-testid="queue-skip">
            Skip <kbd>s</kbd>
          </button>
        </div>
      }
    >
      <div className="field-label">Your review</div>
      {previous ? (
        <div className="previous-human">
          <span className="muted">Earlier human review:</span> <VerdictBadge verdict={previous.verdict} /> <Stars rating={previous.rating} />
        </div>
      ) : null}
    </ReviewForm>
  );
}
