import { useEffect, useRef, type ReactNode } from 'react';

/**
 * A modal side panel: opens on mount, closes on ✕, Escape or a click on the backdrop, and then
 * calls onClose. The children follow the title bar.
 */
export function Panel({
  titleId,
  title,
  testId,
  onClose,
  children,
}: {
  titleId: string;
  title: ReactNode;
  testId: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      className="panel"
      onClose={onClose}
      onClick={(e) => e.target === ref.current && ref.current?.close()}
      aria-labelledby={titleId}
      data-testid={testId}
    >
      <div className="card-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="btn btn-ghost btn-icon" aria-label="Close" onClick={() => ref.current?.close()}>
          ✕
        </button>
      </div>
      {children}
    </dialog>
  );
}
