// Which zone times are shown in: UTC or the browser's own, remembered per browser. Formatters
// read it through `currentZone()`; components re-render on a switch through `useTimeZone()`.
import { useCallback, useSyncExternalStore } from 'react';

export type ZoneChoice = 'local' | 'utc';

const STORAGE = 'observatory.timeZone';
const listeners = new Set<() => void>();

function read(): ZoneChoice {
  try {
    return localStorage.getItem(STORAGE) === 'utc' ? 'utc' : 'local';
  } catch {
    return 'local';
  }
}

let zone: ZoneChoice = typeof localStorage === 'undefined' ? 'local' : read();

export function currentZone(): ZoneChoice {
  return zone;
}

/** Switch the zone (and remember it); tests call it directly. */
export function setZone(next: ZoneChoice): void {
  zone = next;
  try {
    localStorage.setItem(STORAGE, next);
  } catch {
    /* private mode: applies for this page only */
  }
  listeners.forEach((l) => l());
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useTimeZone(): [ZoneChoice, (z: ZoneChoice) => void] {
  const z = useSyncExternalStore(subscribe, currentZone, currentZone);
  return [z, useCallback((next: ZoneChoice) => setZone(next), [])];
}
