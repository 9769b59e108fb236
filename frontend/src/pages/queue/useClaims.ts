// Claim changes made on this page, kept consistent with a list that is refetched under them.
import { useCallback, useRef, useState } from 'react';
import { itemKey } from '../../lib/queue';
import type { Item } from './item';

export type ClaimFields = Pick<Item, 'claimed' | 'claimedByMe' | 'claimExpiresAt'>;
/** A claim change made here, numbered so a list response requested before it cannot undo it. */
interface ClaimPatch extends ClaimFields {
  seq: number;
}
export const RELEASED: ClaimFields = { claimed: false, claimedByMe: false, claimExpiresAt: null };

/**
 * `serial` runs claim, release, claim-next, skip and submit one at a time, in the order they
 * were asked for: a release pressed while a claim-next is in flight must reach the API after it
 * (else the claim-next re-claims what was just released).
 *
 * Each claim change (`patchClaim`) is shown at once and stays shown until a list response
 * requested after it arrives (`reload` tags each request with the latest change's number; pass
 * the response's tag as `dataSeq`), so an older refetch landing late cannot bring back a
 * released claim.
 */
export function useClaims(refetch: (opts: { requestPolicy: 'network-only'; issuedAt: number }) => void, dataSeq: number) {
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  const serial = useCallback(<T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.current.then(fn, fn);
    chain.current = run.catch(() => undefined);
    return run;
  }, []);

  const seq = useRef(0);
  const [patches, setPatches] = useState<ReadonlyMap<string, ClaimPatch>>(() => new Map());
  const patchClaim = useCallback((key: string, fields: ClaimFields) => {
    const patch = { claimed: fields.claimed, claimedByMe: fields.claimedByMe, claimExpiresAt: fields.claimExpiresAt, seq: ++seq.current };
    setPatches((m) => new Map(m).set(key, patch));
  }, []);
  const reload = useCallback(() => refetch({ requestPolicy: 'network-only', issuedAt: seq.current }), [refetch]);
  const withClaim = useCallback(
    (i: Item): Item => {
      const p = patches.get(itemKey(i));
      return p && p.seq > dataSeq ? { ...i, claimed: p.claimed, claimedByMe: p.claimedByMe, claimExpiresAt: p.claimExpiresAt } : i;
    },
    [patches, dataSeq],
  );
  return { serial, patchClaim, reload, withClaim };
}
