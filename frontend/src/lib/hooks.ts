import { useEffect, useState, useSyncExternalStore } from 'react';
import { useSearch, useLocation } from 'wouter';
import type { Connection, LiveState } from './network';
import { queryString } from './filters';

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
