// The human review queue: what most needs a person, most urgent first. Claim an item (locked
// for 15 minutes), read what happened next to the AI's verdict, give yours from the keyboard,
// and move on to the next one. Keys without `reviews:write` can look but not act. The parts
// live in ./queue/; this page holds the state they share and the actions.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import {
  AgentsQuery,
  ClaimNextQueueItemMutation,
  ClaimQueueItemMutation,
  ReleaseQueueClaimMutation,
  ReviewQueueQuery,
  SessionUpdatedSubscription,
  SkipQueueItemMutation,
  SubmitQueueReviewMutation,
} from '../api/operations';
import { useAuth } from '../app/auth';
import { EMPTY_REVIEW, missingFields, clearErrors, type ReviewValues } from '../components/ReviewForm';
import { Empty, ErrorBanner } from '../components/States';
import { describeError, fieldErrors, hasCode } from '../lib/errors';
import { useNow, useQueryParams } from '../lib/hooks';
import { claimState, itemKey, neighbour, reasonChips, reasonLabel, successor, type QueueAction } from '../lib/queue';
import { itemTitle, type Item } from './queue/item';
import { QueueHeader } from './queue/QueueHeader';
import { QueueList } from './queue/QueueList';
import { ReviewPanel } from './queue/ReviewPanel';
import { ShortcutHelp } from './queue/ShortcutHelp';
import { RELEASED, useClaims } from './queue/useClaims';
import { useQueueKeys } from './queue/useQueueKeys';

const PAGE = 50;
const MAX_PAGE = 200;

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
  const [form, setForm] = useState<ReviewValues>(EMPTY_REVIEW);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [helpOpen, setHelpOpen] = useState(false);

  const [claimed, claim] = useMutation(ClaimQueueItemMutation);
  const [claimedNext, claimNext] = useMutation(ClaimNextQueueItemMutation);
  const [released, release] = useMutation(ReleaseQueueClaimMutation);
  const [skipped, skip] = useMutation(SkipQueueItemMutation);
  const [submitted, submit] = useMutation(SubmitQueueReviewMutation);
  const actionError = claimed.error ?? claimedNext.error ?? released.error ?? skipped.error;

  const dataSeq = Number((queue.operation?.context as { issuedAt?: unknown } | undefined)?.issuedAt ?? 0);
  const { serial, patchClaim, reload, withClaim } = useClaims(refetch, dataSeq);

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
    setForm(EMPTY_REVIEW);
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
      setForm(EMPTY_REVIEW);
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
    (item: Item, values: ReviewValues) =>
      serial(async () => {
        if (!canWrite || submitted.fetching) return;
        setLocalErrors(missingFields(values, { verdict: 'Choose a verdict (1–4).', rating: 'Choose a rating (r then 1–5).' }));
        if (!values.verdict || values.rating === null) return;
        const r = await submit(
          { sessionId: item.sessionId, runId: item.runId, verdict: values.verdict, rating: values.rating, summary: values.summary },
          { additionalTypenames: ['Review', 'Session', 'Run'] },
        );
        if (!r.error) await finish(item, `Review of “${itemTitle(item)}” saved.`);
      }),
    [canWrite, finish, serial, submit, submitted.fetching],
  );

  const changeForm = (patch: Partial<ReviewValues>) => {
    setForm((f) => ({ ...f, ...patch }));
    setLocalErrors((e) => clearErrors(e, patch));
  };

  const { armed, setArmed } = useQueueKeys((a: QueueAction) => {
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
        if (mine.kind !== 'other') changeForm({ verdict: a.verdict });
        return;
      case 'rating':
        if (mine.kind !== 'other') changeForm({ rating: a.rating });
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
  });

  const apiErrors = fieldErrors(submitted.error);
  return (
    <>
      <QueueHeader
        agent={agent}
        agents={agents.data?.agents ?? []}
        onAgent={(id) => {
          const next = new URLSearchParams(params);
          if (id) next.set('agent', id);
          else next.delete('agent');
          setParams(next);
          setSelected(null);
        }}
        onHelp={() => setHelpOpen(true)}
        canWrite={canWrite}
        claiming={claimedNext.fetching}
        onClaimNext={() => void doClaimNext()}
      />

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
        <QueueList
          items={items}
          chips={chips}
          total={total}
          loaded={data !== undefined}
          loading={!data && !queue.error}
          selected={selected}
          now={now}
          canWrite={canWrite}
          listRef={listRef}
          onSelect={select}
          onClaim={(i) => void doClaim(i)}
          onMore={data?.nextCursor && limit < MAX_PAGE ? () => setLimit((l) => Math.min(MAX_PAGE, l + PAGE)) : null}
        />

        {current ? (
          <ReviewPanel
            key={itemKey(current)}
            item={current}
            now={now}
            canWrite={canWrite}
            form={form}
            setForm={changeForm}
            errors={{ ...apiErrors, ...localErrors }}
            submitError={submitted.error && Object.keys(apiErrors).length === 0 ? describeError(submitted.error) : null}
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
