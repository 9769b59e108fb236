// The one review form: verdict, rating 1–5 and summary. It holds no state and calls no API, so
// every place a review is written (session detail, heartbeats, run reviews, the queue) shares
// its fields, ids, error display and focus rules, and brings only its own buttons.
import { useId, type FormEvent, type ReactNode } from 'react';
import type { Verdict } from '../gql/graphql';
import { VERDICTS } from '../lib/filters';
import { VERDICT_KEYS } from '../lib/queue';
import { label } from './Badges';

export interface ReviewValues {
  verdict: Verdict | null;
  rating: number | null;
  summary: string;
}
export const EMPTY_REVIEW: ReviewValues = { verdict: null, rating: null, summary: '' };

const VERDICT_HELP: Record<Verdict, string> = {
  ACCOMPLISHED: 'Did what was asked',
  PARTIAL: 'Some of it',
  FAILED: 'Did not do it',
  UNCLEAR: 'Cannot tell',
};

/** The fields a review cannot be sent without, with the message to show next to each. */
export function missingFields(values: ReviewValues, hints: { verdict: string; rating: string }): Record<string, string> {
  const out: Record<string, string> = {};
  if (!values.verdict) out.verdict = hints.verdict;
  if (values.rating === null) out.rating = hints.rating;
  return out;
}

/** `errors` without the fields `patch` touches (a changed field is judged again on submit). */
export function clearErrors(errors: Record<string, string>, patch: Partial<ReviewValues>): Record<string, string> {
  const next = { ...errors };
  for (const k of Object.keys(patch)) delete next[k];
  return next;
}

export function ReviewForm({
  values,
  onChange,
  errors,
  error,
  onSubmit,
  title,
  testId,
  placeholder,
  actions,
  children,
  className = 'stack',
  disabled = false,
  shortcuts,
}: {
  values: ReviewValues;
  onChange: (patch: Partial<ReviewValues>) => void;
  /** Messages by field (`verdict`, `rating`, `summary`): local checks and the API's BAD_USER_INPUT. */
  errors: Record<string, string>;
  /** An error that names no field, shown above the buttons. */
  error: string | null;
  /** Resolves to the field to focus when the submission was refused. */
  onSubmit: () => Promise<string | undefined> | void;
  title: string;
  testId: string;
  placeholder: string;
  actions: ReactNode;
  /** Shown above the fields (a heading, an earlier review). */
  children?: ReactNode;
  className?: string;
  disabled?: boolean;
  /** Keyboard-driven use (the queue): keys shown on the choices, legends left to screen readers. */
  shortcuts?: { armed: boolean };
}) {
  const id = useId();
  const legend = shortcuts ? 'sr-only' : 'field-label';
  const legendStyle = shortcuts ? undefined : { marginBottom: 4 };
  const bare = { border: 0, padding: 0, margin: 0 };

  async function submit(e: FormEvent) {
    e.preventDefault();
    const field = await onSubmit();
    if (field) document.getElementById(`${id}-${field}`)?.focus();
  }

  return (
    <form className={className} onSubmit={submit} noValidate data-testid={testId} aria-label={title}>
      {children}
      <fieldset className="field" disabled={disabled} style={bare} aria-describedby={errors.verdict ? `${id}-verdict-err` : undefined}>
        <legend className={legend} style={legendStyle}>
          Verdict
        </legend>
        <div className="segmented verdicts" id={`${id}-verdict`} tabIndex={-1}>
          {VERDICTS.map((v) => (
            <label key={v} title={VERDICT_HELP[v]}>
              <input type="radio" name={`${id}-verdict`} value={v} checked={values.verdict === v} onChange={() => onChange({ verdict: v })} />
              {shortcuts ? <kbd>{VERDICT_KEYS.indexOf(v) + 1}</kbd> : null} {label(v)}
            </label>
          ))}
        </div>
        {errors.verdict ? (
          <span className="field-error" id={`${id}-verdict-err`} role="alert">
            {errors.verdict}
          </span>
        ) : null}
      </fieldset>

      <fieldset className="field" disabled={disabled} style={bare}>
        <legend className={legend} style={legendStyle}>
          Rating
        </legend>
        <div className="row">
          <RatingInput name={`${id}-rating`} id={`${id}-rating`} value={values.rating} onChange={(rating) => onChange({ rating })} />
          {shortcuts ? (
            <span className={shortcuts.armed ? 'badge accent' : 'muted'} style={{ fontSize: 12 }} data-testid="rating-armed">
              {shortcuts.armed ? (
                'Rating: press 1–5'
              ) : (
                <>
                  <kbd>r</kbd> then <kbd>1</kbd>–<kbd>5</kbd>
                </>
              )}
            </span>
          ) : null}
        </div>
        {errors.rating ? (
          <span className="field-error" role="alert">
            {errors.rating}
          </span>
        ) : null}
      </fieldset>

      <div className="field">
        <label htmlFor={`${id}-summary`}>Summary (optional)</label>
        <textarea
          id={`${id}-summary`}
          name="summary"
          className="textarea"
          rows={shortcuts ? 3 : 4}
          value={values.summary}
          disabled={disabled}
          aria-invalid={errors.summary ? true : undefined}
          aria-describedby={errors.summary ? `${id}-summary-err` : undefined}
          placeholder={placeholder}
          onChange={(e) => onChange({ summary: e.target.value })}
        />
        {errors.summary ? (
          <span className="field-error" id={`${id}-summary-err`} role="alert" data-testid="summary-error">
            {errors.summary}
          </span>
        ) : (
          <span className="field-hint">{values.summary.length.toLocaleString()} characters</span>
        )}
      </div>

      {error ? (
        <div className="banner bad" role="alert">
          {error}
        </div>
      ) : null}
      {actions}
    </form>
  );
}

/** Five radio stars, 1–5; the ones up to the chosen rating are lit. */
export function RatingInput({
  name,
  value,
  onChange,
  id,
}: {
  name: string;
  value: number | null;
  onChange: (rating: number) => void;
  /** Makes the group focusable by id (to point at a validation error). */
  id?: string;
}) {
  return (
    <div className="rating" id={id} tabIndex={id ? -1 : undefined} role="radiogroup" aria-label="Rating">
      {[1, 2, 3, 4, 5].map((n) => (
        <label key={n} className={value !== null && n <= value ? 'on' : undefined} title={`${n} of 5`}>
          <input type="radio" name={name} value={n} checked={value === n} onChange={() => onChange(n)} aria-label={`${n} of 5`} />★
        </label>
      ))}
    </div>
  );
}
