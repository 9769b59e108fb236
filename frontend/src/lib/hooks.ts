import { useEffect, useMemo, useRef, useState, useSyncExternalStore, type Dispatch, type RefObject, type SetStateAction } from 'react';
import { useSearch, useLocation } from 'wouter';
import type { Connection, LiveState } from './network';
import { queryString } from './filters';
import { pageIndexOf } from './paging';

/** Current time, refreshed every `ms` (for "5 min ago" labels). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function useLiveState(connection: Connection): LiveState {
  return useSyncExternalStore(
    (l) => connection.onLiveState(l),
    () => connection.liveState(),
  );
}

/** The URL query as URLSearchParams plus a setter that keeps the path (replace by default). */
export function useQueryParams(): [URLSearchParams, (next: URLSearchParams, opts?: { push?: boolean }) => void] {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const set = (next: URLSearchParams, opts: { push?: boolean } = {}) => {
    const qs = queryString(next);
    navigate(qs ? `${location}?${qs}` : location, { replace: !opts.push });
  };
  return [params, set];
}

/** A value that follows `value` after `ms` without changes (search-as-you-type). */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/**
 * A time window read from the URL (presets are relative to now, so it is resolved again when the
 * hour turns), the URL query itself, and a setter that patches it (null or '' drops a key).
 */
export function useUrlWindow<T>(
  resolve: (params: URLSearchParams, now: Date) => T,
): [T, URLSearchParams, (patch: Record<string, string | null>) => void] {
  const [params, setParams] = useQueryParams();
  const now = useNow(60_000);
  const hour = Math.floor(now / 3600_000);
  const paramKey = params.toString();
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const value = useMemo(() => resolve(params, new Date(now)), [paramKey, hour]);
  const set = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || v === '') next.delete(k);
      else next.set(k, v);
    }
    setParams(next);
  };
  return [value, params, set];
}

/** Open/closed state for a popover that closes on a mouse press outside `root`. */
export function usePopover<T extends HTMLElement>(): [boolean, Dispatch<SetStateAction<boolean>>, RefObject<T | null>] {
  const [open, setOpen] = useState(false);
  const root = useRef<T>(null);
  useEffect(() => {
    if (!open) return;
    const onDoc = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDoc);
    return () => document.removeEventListener('mousedown', onDoc);
  }, [open]);
  return [open, setOpen, root];
}

/**
 * Cursor paging over a list whose forward cursors come from the API: `next` remembers the
 * current cursor on a stack and goes to `endCursor`; `prev` pops it. The stack starts over when
 * `list` (the filter and order, compared as JSON) changes. `go` moves to a cursor (null: page 1).
 */
export function useCursorPages({
  list,
  after,
  pageInfo,
  go,
}: {
  list: unknown;
  after: string | null;
  pageInfo: { endCursor?: string | null; hasNextPage: boolean } | null | undefined;
  go: (after: string | null) => void;
}): { pageIndex: number; hasPrev: boolean; hasNext: boolean; next: () => void; prev: () => void } {
  const listKey = JSON.stringify(list);
  const cursors = useRef<{ key: string; stack: Array<string | null> }>({ key: listKey, stack: [] });
  if (cursors.current.key !== listKey) cursors.current = { key: listKey, stack: [] };
  const endCursor = pageInfo?.endCursor ?? null;
  return {
    pageIndex: pageIndexOf(after, cursors.current.stack.length),
    hasPrev: !!after,
    hasNext: !!pageInfo?.hasNextPage,
    next: () => {
      if (!endCursor) return;
      cursors.current.stack.push(after);
      go(endCursor);
    },
    prev: () => go(cursors.current.stack.pop() ?? null),
  };
}
