// The human review queue: what most needs a person, most urgent first. Claim an item (locked
// for 15 minutes), read what happened next to the AI's verdict, give yours from the keyboard,
// and move on to the next one. Keys without `reviews:write` can look but not act.
import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import {
  AgentsQuery,
  ClaimNextQueueItemMutation,
  ClaimQueueItemMutation,
  QueueTargetQuery,
  ReleaseQueueClaimMutation,
  ReviewQueueQuery,
  SessionUpdatedSubscription,
  SkipQueueItemMutation,
  SubmitQueueReviewMutation,
} from '../api/operations';
import type { FullReviewFieldsFragment, QueueItemFieldsFragment, QueueRunFieldsFragment, RunStatus, SessionStatus, Verdict } from '../gql/graphql';
import { useAuth } from '../app/auth';
import { Stars, StatusBadge, VerdictBadge, label } from '../components/Badges';
import { Panel } from '../components/Panel';
import { RatingInput } from '../components/Reviews';
import { Empty, ErrorBanner } from '../components/States';
import { Transcript } from '../components/Transcript';
import { describeError, fieldErrors, hasCode } from '../lib/errors';
import { VERDICTS } from '../lib/filters';
import { formatClock, formatDateTime, formatDuration, formatRelative, formatTokens, formatUSD } from '../lib/format';
import { Term } from '../components/Numbers';
import { useNow, useQueryParams } from '../lib/hooks';
import {
  REASON_HELP,
  REASON_TONE,
  SHORTCUTS,
  aiEvidence,
  aiSuggestions,
  claimState,
  claimText,
  confidenceText,
  interpretKey,
  isReason,
  itemKey,
  neighbour,
  reasonChips,
  reasonLabel,
  successor,
  targetKind,
  type ClaimState,
  type KeyState,
  type QueueAction,
} from '../lib/queue';

type Item = QueueItemFieldsFragment;
const PAGE = 50;
const MAX_PAGE = 200;

interface FormValues {
  verdict: Verdict | null;
  rating: number | null;
  summary: string;
}
const EMPTY_FORM: FormValues = { verdict: null, rating: null, summary: '' };

type ClaimFields = Pick<Item, 'claimed' | 'claimedByMe' | 'claimExpiresAt'>;
/** A claim change made here, numbered so a list response requested before it cannot undo it. */
interface ClaimPatch extends ClaimFields {
  seq: number;
}
const RELEASED: ClaimFields = { claimed: false, claimedByMe: false, claimExpiresAt: null };

function itemTitle(i: Pick<Item, 'title' | 'kind' | 'sessionId' | 'runId'>): string {
  if (i.runId) return `${i.title ?? `${label(i.kind)} session #${i.sessionId}`} · run #${i.runId}`;
  return i.title ?? `${label(i.kind)} session #${i.sessionId}`;
}

function statusEnum(s: string): SessionStatus | RunStatus {
  return s.toUpperCase() as SessionStatus | RunStatus;
}

export default function ReviewQueuePage() {
  const { can } = useAuth();
  const canWrite = can('reviews:write');
  const client = useClient();
  const [params, setParams] = useQueryParams();
  const agent = params.get('agent') || null;
  const [limit, setLimit] = useState(PAGE);
  const [queue, refetch] = useQuery({ query: ReviewQueueQuery, variables: { first: limit, agentId: agent } });
  const [agents] = useQuery({ query: AgentsQuery });
  const now = useNow(15_000);

  const [selected, setSelected] = useState<string | null>(null);
  /** Items claimed via "claim next" that may not be on the loaded page. */
  const [pinned, setPinned] = useState<Item | null>(null);
  /** Submitted or skipped here: hidden at once, before the list is fetched again. */
  const [gone, setGone] = useState<ReadonlySet<string>>(() => new Set());
  const [form, setForm] = useState<FormValues>(EMPTY_FORM);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [helpOpen, setHelpOpen] = useState(false);
  const [armed, setArmed] = useState(false);
  const keyState = useRef<KeyState>({ armedAt: null });

  const [claimed, claim] = useMutation(ClaimQueueItemMutation);
  const [claimedNext, claimNext] = useMutation(ClaimNextQueueItemMutation);
  const [released, release] = useMutation(ReleaseQueueClaimMutation);
  const [skipped, skip] = useMutation(SkipQueueItemMutation);
  const [submitted, submit] = useMutation(SubmitQueueReviewMutation);
  const actionError = claimed.error ?? claimedNext.error ?? released.error ?? skipped.error;

  // Claim, release, claim-next, skip and submit run one at a time, in the order they were asked
  // for: a release pressed while a claim-next is in flight must reach the API after it (else the
  // claim-next re-claims what was just released).
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  const serial = useCallback(<T,>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.current.then(fn, fn);
    chain.current = run.catch(() => undefined);
    return run;
  }, []);

  // Each claim change made here is shown at once and stays shown until a list response requested
  // after it arrives; an older refetch landing late cannot bring back a released claim.
  const seq = useRef(0);
  const [claimPatches, setClaimPatches] = useState<ReadonlyMap<string, ClaimPatch>>(() => new Map());
  const patchClaim = useCallback((key: string, fields: ClaimFields) => {
    const patch = { claimed: fields.claimed, claimedByMe: fields.claimedByMe, claimExpiresAt: fields.claimExpiresAt, seq: ++seq.current };
    setClaimPatches((m) => new Map(m).set(key, patch));
  }, []);
  const reload = useCallback(() => refetch({ requestPolicy: 'network-only', issuedAt: seq.current }), [refetch]);
  const dataSeq = Number((queue.operation?.context as { issuedAt?: unknown } | undefined)?.issuedAt ?? 0);
  const withClaim = useCallback(
    (i: Item): Item => {
      const p = claimPatches.get(itemKey(i));
      return p && p.seq > dataSeq ? { ...i, claimed: p.claimed, claimedByMe: p.claimedByMe, claimExpiresAt: p.claimExpiresAt } : i;
    },
    [claimPatches, dataSeq],
  );

  const data = queue.data?.reviewQueue;
  const items = useMemo(() => (data?.items ?? []).filter((i) => !gone.has(itemKey(i))).map(withClaim), [data, gone, withClaim]);
  const keys = useMemo(() => items.map(itemKey), [items]);
  const current: Item | null =
    (selected ? (items.find((i) => itemKey(i) === selected) ?? (pinned && itemKey(pinned) === selected ? withClaim(pinned) : null)) : null) ?? null;
  const { chips, total } = reasonChips(data?.counts ?? []);

  // Select the first item once the list arrives, or when the selected one left the queue
  // (reviewed by someone else meanwhile). Nothing is claimed by this: it is a preview.
  const hasCurrent = current !== null;
  useEffect(() => {
    if (keys.length > 0 && (selected === null || !hasCurrent)) setSelected(keys[0] ?? null);
  }, [keys, selected, hasCurrent]);

  // A new item: fresh form.
  useEffect(() => {
    setForm(EMPTY_FORM);
    setLocalErrors({});
  }, [selected]);

  // Live: reviews, claims and sessions change under us; refetch (at most every 3 s) when a
  // session changes, and every 30 s for other reviewers' claims.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const sub = client.subscription(SessionUpdatedSubscription, {}).subscribe(() => {
      timer ??= setTimeout(() => {
        timer = null;
        reload();
      }, 3000);
    });
    const poll = setInterval(reload, 30_000);
    return () => {
      sub.unsubscribe();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    };
  }, [client, reload]);

  const listRef = useRef<HTMLOListElement>(null);
  const select = useCallback((key: string | null) => {
    setSelected(key);
    setNotice(null);
    // Keep the selected row visible inside the list (never scroll the page itself).
    const box = listRef.current;
    const row = key ? box?.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`) : null;
    if (box && row) {
      if (row.offsetTop < box.scrollTop) box.scrollTop = row.offsetTop;
      else if (row.offsetTop + row.offsetHeight > box.scrollTop + box.clientHeight) {
        box.scrollTop = row.offsetTop + row.offsetHeight - box.clientHeight;
      }
    }
  }, []);

  const doClaimNext = useCallback(
    () =>
      serial(async () => {
        if (!canWrite) return;
        const r = await claimNext({ agentId: agent });
        if (r.error) return;
        const item = r.data?.claimNextQueueItem ?? null;
        if (!item) {
          setNotice('Nothing left to claim: every item is reviewed, skipped by you, or claimed by someone else.');
          setSelected(null);
        } else {
          patchClaim(itemKey(item), item);
          setPinned(item);
          select(itemKey(item));
        }
        reload();
      }),
    [agent, canWrite, claimNext, patchClaim, reload, select, serial],
  );

  const doClaim = useCallback(
    (item: Item) =>
      serial(async () => {
        if (!canWrite) return;
        const r = await claim({ sessionId: item.sessionId, runId: item.runId });
        const c = r.data?.claimQueueItem;
        if (!r.error && c) {
          patchClaim(itemKey(item), { claimed: true, claimedByMe: true, claimExpiresAt: c.expiresAt });
          select(itemKey(item));
          reload();
        }
      }),
    [canWrite, claim, patchClaim, reload, select, serial],
  );

  const doRelease = useCallback(
    (item: Item) =>
      serial(async () => {
        if (!canWrite) return;
        const r = await release({ sessionId: item.sessionId, runId: item.runId });
        if (!r.error) patchClaim(itemKey(item), RELEASED);
        reload();
      }),
    [canWrite, patchClaim, release, reload, serial],
  );

  const finish = useCallback(
    async (item: Item, message: string) => {
      const key = itemKey(item);
      setGone((g) => new Set(g).add(key));
      setForm(EMPTY_FORM);
      setLocalErrors({});
      // Next: my other claims first, else the most urgent free item.
      const r = await claimNext({ agentId: agent });
      const next = r.data?.claimNextQueueItem ?? null;
      if (next) {
        patchClaim(itemKey(next), next);
        setPinned(next);
        select(itemKey(next));
        if (itemKey(next) === key) {
          // Still needs a human (e.g. a newer AI review disagrees with this one): keep it in view.
          setGone((g) => {
            const n = new Set(g);
            n.delete(key);
            return n;
          });
          setNotice(`${message} It is still in the queue (${next.reasons.map(reasonLabel).join(', ').toLowerCase()}).`);
        } else {
          setNotice(message);
        }
      } else {
        select(successor(keys, key));
        setNotice(r.error ? message : `${message} Nothing else to claim right now.`);
      }
      reload();
    },
    [agent, claimNext, keys, patchClaim, reload, select],
  );

  const doSkip = useCallback(
    (item: Item) =>
      serial(async () => {
        if (!canWrite) return;
        const r = await skip({ sessionId: item.sessionId, runId: item.runId });
        if (!r.error) await finish(item, `Skipped “${itemTitle(item)}” for 24 h.`);
      }),
    [canWrite, finish, serial, skip],
  );

  const doSubmit = useCallback(
    (item: Item, values: FormValues) =>
      serial(async () => {
        if (!canWrite || submitted.fetching) return;
        const local: Record<string, string> = {};
        if (!values.verdict) local.verdict = 'Choose a verdict (1–4).';
        if (values.rating === null) local.rating = 'Choose a rating (r then 1–5).';
        setLocalErrors(local);
        if (!values.verdict || values.rating === null) return;
        const r = await submit(
          { sessionId: item.sessionId, runId: item.runId, verdict: values.verdict, rating: values.rating, summary: values.summary },
          { additionalTypenames: ['Review', 'Session', 'Run'] },
        );
        if (!r.error) await finish(item, `Review of “${itemTitle(item)}” saved.`);
      }),
    [canWrite, finish, serial, submit, submitted.fetching],
  );

  // Keyboard: one window listener that always sees the latest state through a ref.
  const act = useRef<(a: QueueAction) => void>(() => {});
  act.current = (a: QueueAction) => {
    if (helpOpen && a.type !== 'help' && a.type !== 'escape') return;
    switch (a.type) {
      case 'help':
        setHelpOpen((h) => !h);
        return;
      case 'escape':
        if (helpOpen) setHelpOpen(false);
        else (document.activeElement as HTMLElement | null)?.blur();
        setArmed(false);
        return;
      case 'next':
      case 'prev':
        select(neighbour(keys, selected, a.type === 'next' ? 1 : -1));
        return;
      case 'arm-rating':
        setArmed(true);
        return;
      case 'claim-next':
        void doClaimNext();
        return;
    }
    setArmed(false);
    if (!current || !canWrite) return;
    const mine = claimState(current, Date.now());
    switch (a.type) {
      case 'verdict':
        if (mine.kind !== 'other') setForm((f) => ({ ...f, verdict: a.verdict }));
        setLocalErrors((e) => ({ ...e, verdict: '' }));
        return;
      case 'rating':
        if (mine.kind !== 'other') setForm((f) => ({ ...f, rating: a.rating }));
        setLocalErrors((e) => ({ ...e, rating: '' }));
        return;
      case 'submit':
        (document.activeElement as HTMLElement | null)?.blur();
        if (mine.kind !== 'other') void doSubmit(current, form);
        return;
      case 'skip':
        void doSkip(current);
        return;
      case 'claim':
        if (mine.kind === 'free') void doClaim(current);
        return;
      case 'release':
        if (mine.kind === 'mine') void doRelease(current);
        return;
    }
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.isComposing) return;
      const { action, state } = interpretKey(
        {
          key: e.key,
          code: e.code,
          shiftKey: e.shiftKey,
          ctrlKey: e.ctrlKey,
          metaKey: e.metaKey,
          altKey: e.altKey,
          target: targetKind(document.activeElement),
        },
        keyState.current,
        Date.now(),
      );
      keyState.current = state;
      if (state.armedAt === null) setArmed(false);
      if (!action) return;
      e.preventDefault();
      act.current(action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  // An armed "r" lapses after the window.
  useEffect(() => {
    if (!armed) return;
    const t = setTimeout(() => setArmed(false), 2000);
    return () => clearTimeout(t);
  }, [armed]);

  const agentList = agents.data?.agents ?? [];
  const loadedAll = !data?.nextCursor;

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Review queue</h1>
          <p>
            What most needs a human, most urgent first: AI/human disagreements, low-confidence AI verdicts, failures, then
            unreviewed work.
          </p>
        </div>
        <div className="row wrap">
          <select
            className="select"
            aria-label="Agent"
            value={agent ?? ''}
            onChange={(e) => {
              const next = new URLSearchParams(params);
              if (e.target.value) next.set('agent', e.target.value);
              else next.delete('agent');
              setParams(next);
              setSelected(null);
            }}
          >
            <option value="">All agents</option>
            {agentList.map((a) => (
              <option key={a.id} value={a.id}>
                {a.displayName ?? a.id}
              </option>
            ))}
          </select>
          <button type="button" className="btn" onClick={() => setHelpOpen(true)} aria-keyshortcuts="?">
            Shortcuts <kbd>?</kbd>
          </button>
          {canWrite ? (
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => void doClaimNext()}
              disabled={claimedNext.fetching}
              data-testid="claim-next"
              aria-keyshortcuts="n"
            >
              Claim next <kbd>n</kbd>
            </button>
          ) : null}
        </div>
      </div>

      {!canWrite ? (
        <div className="banner banner-block info" data-testid="queue-readonly" style={{ marginBottom: 16 }}>
          Your key can read the queue but not review: claiming, skipping and submitting need the <code>reviews:write</code>{' '}
          scope.
        </div>
      ) : null}
      {queue.error && !data ? <ErrorBanner error={queue.error} /> : null}
      {actionError ? <ErrorBanner error={actionError} /> : null}
      {notice ? (
        <div className="banner info" role="status" data-testid="queue-notice" style={{ marginBottom: 16 }}>
          {notice}
        </div>
      ) : null}

      <div className="queue-layout">
        <section className="card queue-list" aria-labelledby="queue-h">
          <div className="card-head">
            <h2 id="queue-h">
              Queue <span className="muted num" data-testid="queue-total">{data ? total : ''}</span>
            </h2>
          </div>
          <div className="chips" data-testid="reason-chips" aria-label="Items per reason">
            {chips.map((c) => (
              <span key={c.reason} className={`chip ${c.tone}`} title={REASON_HELP[c.reason]} data-reason={c.reason}>
                {c.label} <strong className="num">{data ? c.count : '…'}</strong>
              </span>
            ))}
          </div>
          {data && items.length === 0 ? (
            <Empty title="Nothing needs a review">Everything here has a human review, or you skipped it.</Empty>
          ) : null}
          {!data && !queue.error ? (
            <div className="card-pad muted" aria-busy="true">
              Loading the queue…
            </div>
          ) : null}
          <ol className="queue-items" data-testid="queue-items" ref={listRef}>
            {items.map((i) => (
              <QueueRow
                key={itemKey(i)}
                item={i}
                selected={selected === itemKey(i)}
                now={now}
                canWrite={canWrite}
                onSelect={() => select(itemKey(i))}
                onClaim={() => void doClaim(i)}
              />
            ))}
          </ol>
          {data && !loadedAll && limit < MAX_PAGE ? (
            <div className="table-foot">
              <span className="muted">
                Showing {items.length} of {total}
              </span>
              <button type="button" className="btn btn-sm" onClick={() => setLimit((l) => Math.min(MAX_PAGE, l + PAGE))}>
                Show more
              </button>
            </div>
          ) : null}
        </section>

        {current ? (
          <ReviewPanel
            key={itemKey(current)}
            item={current}
            now={now}
            canWrite={canWrite}
            form={form}
            setForm={(patch) => {
              setForm((f) => ({ ...f, ...patch }));
              setLocalErrors((e) => {
                const next = { ...e };
                for (const k of Object.keys(patch)) delete next[k];
                return next;
              });
            }}
            errors={{ ...fieldErrors(submitted.error), ...Object.fromEntries(Object.entries(localErrors).filter(([, v]) => v)) }}
            submitError={submitted.error && Object.keys(fieldErrors(submitted.error)).length === 0 ? describeError(submitted.error) : null}
            conflict={hasCode(submitted.error, 'CONFLICT')}
            armed={armed}
            busy={submitted.fetching || skipped.fetching}
            onSubmit={() => void doSubmit(current, form)}
            onSkip={() => void doSkip(current)}
            onClaim={() => void doClaim(current)}
            onRelease={() => void doRelease(current)}
          />
        ) : (
          <section className="card review-panel">
            <Empty title="Nothing selected">
              {canWrite ? (
                <>
                  Press <kbd>n</kbd> or “Claim next” to take the most urgent item.
                </>
              ) : (
                'Select an item to see it.'
              )}
            </Empty>
          </section>
        )}
      </div>

      {helpOpen ? <ShortcutHelp onClose={() => setHelpOpen(false)} /> : null}
    </>
  );
}

function ReasonChips({ reasons }: { reasons: readonly string[] }) {
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

function ClaimLabel({ state }: { state: ClaimState }) {
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

function QueueRow({
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

function ReviewPanel({
  item,
  now,
  canWrite,
  form,
  setForm,
  errors,
  submitError,
  conflict,
  armed,
  busy,
  onSubmit,
  onSkip,
  onClaim,
  onRelease,
}: {
  item: Item;
  now: number;
  canWrite: boolean;
  form: FormValues;
  setForm: (patch: Partial<FormValues>) => void;
  errors: Record<string, string>;
  submitError: string | null;
  conflict: boolean;
  armed: boolean;
  busy: boolean;
  onSubmit: () => void;
  onSkip: () => void;
  onClaim: () => void;
  onRelease: () => void;
}) {
  const isRun = item.runId !== null;
  const [target] = useQuery({
    query: QueueTargetQuery,
    variables: { sessionId: item.sessionId, runId: item.runId ?? '0', isRun },
  });
  const session = target.data?.session ?? null;
  const run = target.data?.run ?? null;
  const reviews: FullReviewFieldsFragment[] = (isRun ? run?.reviews : session?.reviews) ?? [];
  const ai = reviews.find((r) => r.reviewerKind === 'AI') ?? null;
  const human = reviews.find((r) => r.reviewerKind === 'HUMAN') ?? null;
  const runs: QueueRunFieldsFragment[] = isRun ? (run ? [run] : []) : (session?.runs?.edges.map((e) => e.node) ?? []);
  const state = claimState(item, now);
  const lockedByOther = state.kind === 'other';

  return (
    <section className="card review-panel" aria-labelledby="panel-title" data-testid="review-panel" data-key={itemKey(item)}>
      <div className="card-head">
        <div className="stack" style={{ gap: 4, minWidth: 0 }}>
          <h2 id="panel-title" className="truncate" data-testid="panel-title">
            {itemTitle(item)}
          </h2>
          <span className="row wrap muted" style={{ gap: 8, fontSize: 13 }}>
            <StatusBadge status={statusEnum(item.status)} />
            <span>{session?.agent.displayName ?? item.agentId}</span>
            <span>{isRun ? `${item.kind} run #${item.runId}` : `${item.kind} session`}</span>
            {session?.model ? <span>{session.model}</span> : null}
            <span title={formatDateTime(item.finishedAt)}>finished {formatRelative(item.finishedAt, now)}</span>
            <ReasonChips reasons={item.reasons} />
          </span>
        </div>
        <Link href={item.runId ? `/sessions/${item.sessionId}?run=${item.runId}` : `/sessions/${item.sessionId}`} className="btn btn-sm">
          {item.runId ? 'Open run in session' : 'Open session'}
        </Link>
      </div>

      {canWrite ? (
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
      ) : (
        <div className="claim-bar">
          <ClaimLabel state={state} />
          {state.kind === 'free' ? <span className="muted">Not claimed.</span> : null}
        </div>
      )}

      <div className="verdict-grid">
        <AiVerdict review={ai} brief={item.latestAi} />
        {canWrite ? (
          <HumanForm
            form={form}
            setForm={setForm}
            errors={errors}
            submitError={conflict ? 'Another reviewer holds this item. Pick another one.' : submitError}
            armed={armed}
            busy={busy}
            disabled={lockedByOther}
            onSubmit={onSubmit}
            onSkip={onSkip}
            previous={human}
          />
        ) : (
          <div className="verdict-card">
            <div className="field-label">Human review</div>
            {human ? <ReviewBlock review={human} /> : <p className="muted">No human review yet.</p>}
          </div>
        )}
      </div>

      <div className="what-happened">
        <h3>What happened</h3>
        {target.error ? <ErrorBanner error={target.error} /> : null}
        {!target.data ? <div className="muted" aria-busy="true">Loading…</div> : <RunSummary runs={runs} total={isRun ? 1 : (session?.runs?.totalCount ?? 0)} metrics={isRun ? null : (session?.metrics ?? null)} />}
      </div>
      <Transcript key={`${item.sessionId}:${item.runId ?? ''}`} sessionId={item.sessionId} runId={item.runId} compact />
    </section>
  );
}

function ReviewBlock({ review }: { review: FullReviewFieldsFragment }) {
  return (
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
  );
}

function AiVerdict({ review, brief }: { review: FullReviewFieldsFragment | null; brief: Item['latestAi'] }) {
  const r = review ?? brief;
  if (!r) {
    return (
      <div className="verdict-card" data-testid="ai-verdict">
        <div className="field-label">AI verdict</div>
        <p className="muted" style={{ margin: 0 }}>
          No AI review of this item.
        </p>
      </div>
    );
  }
  const conf = confidenceText(r.confidence);
  const evidence = review ? aiEvidence(review.evidence) : [];
  const suggestions = review ? aiSuggestions(review.suggestions) : [];
  return (
    <div className="verdict-card" data-testid="ai-verdict">
      <div className="field-label">AI verdict</div>
      <span className="row wrap">
        <VerdictBadge verdict={r.verdict} kind="AI" />
        <Stars rating={r.rating} />
        <span className={conf.low ? 'badge warn' : 'muted'}>{conf.text}</span>
      </span>
      {r.summary ? <p style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{r.summary}</p> : null}
      {evidence.length ? (
        <div>
          <div className="field-label">Evidence</div>
          <ul className="evidence-list">
            {evidence.map((e, i) => (
              <li key={i}>
                {e.ref ? <code>{e.ref}</code> : null} {e.note}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {suggestions.length ? (
        <div>
          <div className="field-label">AI suggestions</div>
          <ul className="evidence-list">
            {suggestions.map((s, i) => (
              <li key={i}>
                {s.target ? <span className="chip chip-sm">{label(s.target)}</span> : null} {s.text}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <span className="review-meta">
        {r.reviewerModel ?? 'model unknown'} · {formatDateTime(r.createdAt, { short: true })}
        {review?.inputTokens !== null && review?.inputTokens !== undefined ? ` · ${formatTokens(review.inputTokens + (review.outputTokens ?? 0))} tokens` : ''}
        {review?.cost ? ` · ${formatUSD(review.cost)}` : ''}
      </span>
    </div>
  );
}

const VERDICT_KEY: Record<Verdict, string> = { ACCOMPLISHED: '1', PARTIAL: '2', FAILED: '3', UNCLEAR: '4' };

function HumanForm({
  form,
  setForm,
  errors,
  submitError,
  armed,
  busy,
  disabled,
  onSubmit,
  onSkip,
  previous,
}: {
  form: FormValues;
  setForm: (patch: Partial<FormValues>) => void;
  errors: Record<string, string>;
  submitError: string | null;
  armed: boolean;
  busy: boolean;
  disabled: boolean;
  onSubmit: () => void;
  onSkip: () => void;
  previous: FullReviewFieldsFragment | null;
}) {
  const id = useId();
  return (
    <form
      className="verdict-card human-form"
      data-testid="queue-form"
      aria-label="Your review"
      noValidate
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      <div className="field-label">Your review</div>
      {previous ? (
        <div className="previous-human">
          <span className="muted">Earlier human review:</span> <VerdictBadge verdict={previous.verdict} /> <Stars rating={previous.rating} />
        </div>
      ) : null}
      <fieldset className="field" disabled={disabled} style={{ border: 0, padding: 0, margin: 0 }}>
        <legend className="sr-only">Verdict</legend>
        <div className="segmented verdicts" data-testid="queue-verdicts">
          {VERDICTS.map((v) => (
            <label key={v}>
              <input type="radio" name={`${id}-verdict`} value={v} checked={form.verdict === v} onChange={() => setForm({ verdict: v })} />
              <kbd>{VERDICT_KEY[v]}</kbd> {label(v)}
            </label>
          ))}
        </div>
        {errors.verdict ? (
          <span className="field-error" role="alert">
            {errors.verdict}
          </span>
        ) : null}
      </fieldset>
      <fieldset className="field" disabled={disabled} style={{ border: 0, padding: 0, margin: 0 }}>
        <legend className="sr-only">Rating</legend>
        <div className="row">
          <RatingInput name={`${id}-rating`} value={form.rating} onChange={(rating) => setForm({ rating })} testId="queue-rating" />
          <span className={armed ? 'badge accent' : 'muted'} style={{ fontSize: 12 }} data-testid="rating-armed">
            {armed ? 'Rating: press 1–5' : (
              <>
                <kbd>r</kbd> then <kbd>1</kbd>–<kbd>5</kbd>
              </>
            )}
          </span>
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
          className="textarea"
          rows={3}
          value={form.summary}
          disabled={disabled}
          aria-invalid={errors.summary ? true : undefined}
          placeholder="Why this verdict? (Ctrl+Enter submits, Esc leaves the field)"
          onChange={(e) => setForm({ summary: e.target.value })}
        />
        {errors.summary ? (
          <span className="field-error" role="alert">
            {errors.summary}
          </span>
        ) : null}
      </div>
      {submitError ? (
        <div className="banner bad" role="alert">
          {submitError}
        </div>
      ) : null}
      <div className="row wrap">
        <button type="submit" className="btn btn-primary" disabled={busy || disabled} data-testid="queue-submit">
          {busy ? 'Saving…' : 'Submit & next'} <kbd>Enter</kbd>
        </button>
        <button type="button" className="btn" onClick={onSkip} disabled={busy} data-testid="queue-skip">
          Skip <kbd>s</kbd>
        </button>
      </div>
    </form>
  );
}

function RunSummary({
  runs,
  total,
  metrics,
}: {
  runs: QueueRunFieldsFragment[];
  total: number;
  metrics: { failedRuns: number; totalTokens: number | null; cost: string | null; timeToCompletionMs: number | null; wallTimeMs: number | null } | null;
}) {
  if (runs.length === 0) return <p className="muted">No runs recorded.</p>;
  const first = runs[0];
  const last = runs[runs.length - 1];
  const toolErrors = runs.reduce((n, r) => n + r.toolErrorCount, 0);
  const toolCalls = runs.reduce((n, r) => n + r.toolCallCount, 0);
  return (
    <div className="stack" style={{ gap: 12 }} data-testid="run-summary">
      <div className="row wrap muted" style={{ gap: 16, fontSize: 13 }}>
        <span>
          {total} run{total === 1 ? '' : 's'}
          {metrics?.failedRuns ? `, ${metrics.failedRuns} failed` : ''}
        </span>
        <span>
          {toolCalls} tool calls{toolErrors ? `, ${toolErrors} failed` : ''}
        </span>
        {metrics ? <span>{formatTokens(metrics.totalTokens)} tokens</span> : null}
        {metrics ? <span>{formatUSD(metrics.cost)}</span> : <span>{formatUSD(first?.cost)}</span>}
        {metrics ? (
          <span>
            <Term name="timeToCompletion" /> {formatDuration(metrics.timeToCompletionMs)}
          </span>
        ) : null}
        {metrics ? (
          <span>
            <Term name="runTime" /> {formatDuration(metrics.wallTimeMs)}
          </span>
        ) : null}
      </div>
      <Excerpt label="Asked">{first?.promptPreview ?? '—'}</Excerpt>
      <Excerpt label={last?.error ? 'Ended with an error' : 'Outcome'} tone={last?.error ? 'bad' : undefined}>
        {last?.error ?? last?.outcomePreview ?? (last?.status === 'RUNNING' ? 'Still running.' : '—')}
      </Excerpt>
    </div>
  );
}

function Excerpt({ label: title, children, tone }: { label: string; children: ReactNode; tone?: 'bad' | undefined }) {
  return (
    <div>
      <div className="field-label" style={tone === 'bad' ? { color: 'var(--bad)' } : undefined}>
        {title}
      </div>
      <pre className="preview">{children}</pre>
    </div>
  );
}

function ShortcutHelp({ onClose }: { onClose: () => void }) {
  return (
    <Panel titleId="keys-title" title="Keyboard shortcuts" testId="shortcut-help" onClose={onClose}>
      <div className="panel-body">
        <table className="shortcuts">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.what}>
                <td>
                  {s.keys.map((k, i) => (
                    <span key={k}>
                      {i > 0 ? (k.includes('–') ? ' then ' : ' + ') : null}
                      <kbd>{k}</kbd>
                    </span>
                  ))}
                </td>
                <td>{s.what}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Panel>
  );
}
