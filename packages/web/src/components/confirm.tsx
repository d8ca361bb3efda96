import { useEffect, useId, useRef, type ReactNode } from 'react';
import { ErrorMessage } from './ui.tsx';

/**
 * A confirmation as a modal `<dialog>`: the browser keeps focus inside it and Escape cancels; it opens with
 * focus on "Cancel" (the safe choice) and, once closed, focus goes back to what opened it. While the action
 * runs, both buttons are disabled; an error is shown inside, and the dialog stays open to try again.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  busy,
  error,
  danger,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busy?: boolean;
  error?: unknown;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const opener = useRef<Element | null>(null);
  const titleId = useId();
  const bodyId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
      cancelRef.current?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
    }
    if (!open && opener.current) {
      // What opened it may be gone (its row done with): then the page's heading.
      const back = opener.current instanceof HTMLElement && opener.current.isConnected ? opener.current : document.querySelector<HTMLElement>('main h1');
      back?.focus();
      opener.current = null;
    }
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="confirm"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      onCancel={(e) => {
        // Escape: the same as "Cancel" (and not while the action runs).
        e.preventDefault();
        if (!busy) onCancel();
      }}
      onClose={() => {
        // The browser may close it anyway (a second Escape): keep the page's state in step, so it opens again.
        if (open) onCancel();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      <div id={bodyId}>{children}</div>
      <ErrorMessage error={error} />
      <div className="dialog-actions">
        <button type="button" className={danger ? 'danger' : undefined} onClick={onConfirm} disabled={busy}>
          {busy ? 'Working…' : confirmLabel}
        </button>
        <button type="button" ref={cancelRef} className="secondary" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
