// The queue's keyboard: one window listener that always sees the latest handler through a ref.
import { useEffect, useRef, useState } from 'react';
import { RATING_WINDOW_MS, interpretKey, targetKind, type KeyState, type QueueAction } from '../../lib/queue';

/** Calls `act` for each shortcut pressed; `armed` is true while an "r" waits for its digit. */
export function useQueueKeys(act: (a: QueueAction) => void): { armed: boolean; setArmed: (armed: boolean) => void } {
  const [armed, setArmed] = useState(false);
  const keyState = useRef<KeyState>({ armedAt: null });
  const handler = useRef(act);
  handler.current = act;

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
      handler.current(action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // An armed "r" lapses after the same window interpretKey allows for its digit.
  useEffect(() => {
    if (!armed) return;
    const t = setTimeout(() => setArmed(false), RATING_WINDOW_MS);
    return () => clearTimeout(t);
  }, [armed]);

  return { armed, setArmed };
}
