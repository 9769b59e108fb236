import { useCallback, useSyncExternalStore } from 'react';

export type ThemeChoice = 'light' | 'dark' | 'system';
export type Theme = 'light' | 'dark';

const STORAGE = 'observatory.theme';
const listeners = new Set<() => void>();

function readChoice(): ThemeChoice {
  try {
    const v = localStorage.getItem(STORAGE);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

const media = typeof window !== 'undefined' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
media?.addEventListener('change', () => listeners.forEach((l) => l()));

function resolved(): Theme {
  const c = readChoice();
  if (c !== 'system') return c;
  return media?.matches ? 'dark' : 'light';
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The effective theme, and a toggle that flips it (and remembers the choice). */
export function useTheme(): [Theme, () => void] {
  const theme = useSyncExternalStore(subscribe, resolved, () => 'light' as Theme);
  const toggle = useCallback(() => {
    const next: Theme = resolved() === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem(STORAGE, next);
    } catch {
      /* private mode: applies for this page only */
    }
    document.documentElement.dataset.theme = next;
    listeners.forEach((l) => l());
  }, []);
  return [theme, toggle];
}

export function prefersReducedMotion(): boolean {
  return typeof window !== 'undefined' && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
}
