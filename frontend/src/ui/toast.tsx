import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

import { messageOf } from "./forms";

export type ToastKind = "success" | "error" | "info";

interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
  count: number;
}

interface ToastApi {
  show: (message: string, kind?: ToastKind) => void;
}

interface ToastState {
  toasts: Toast[];
  dismiss: (id: number) => void;
}

const ToastContext = createContext<ToastApi | null>(null);
const ToastStateContext = createContext<ToastState | null>(null);
export const TOAST_MILLISECONDS = 5000;
export const MAX_TOASTS = 3;

/** The toasts after `message` arrives: the same message again counts up (and starts its time
 * afresh) instead of stacking; past the cap, the oldest goes. */
export function withToast(toasts: Toast[], message: string, kind: ToastKind, id: number): Toast[] {
  const same = toasts.find((toast) => toast.message === message && toast.kind === kind);
  if (same) {
    return [...toasts.filter((toast) => toast !== same), { ...same, id, count: same.count + 1 }];
  }
  return [...toasts, { id, kind, message, count: 1 }].slice(-MAX_TOASTS);
}

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setToasts((current) => current.filter((toast) => toast.id !== id));
  }, []);

  const show = useCallback((message: string, kind: ToastKind = "success") => {
    const id = nextId.current++;
    setToasts((current) => withToast(current, message, kind, id));
  }, []);

  const api = useMemo(() => ({ show }), [show]);
  const state = useMemo(() => ({ toasts, dismiss }), [toasts, dismiss]);

  return (
    <ToastContext.Provider value={api}>
      <ToastStateContext.Provider value={state}>{children}</ToastStateContext.Provider>
    </ToastContext.Provider>
  );
}

/** Where the toasts show: placed by the layout in the page's flow, so they cover no control. */
export function ToastRegion() {
  const state = useContext(ToastStateContext);
  if (state === null) {
    throw new Error("ToastRegion needs a ToastProvider");
  }
  const { toasts, dismiss } = state;
  return (
    <>
      {/* Polite for news, assertive for failures; both read by screen readers as they arrive. */}
      <div className="toasts" aria-live="polite" role="status">
        {toasts
          .filter((toast) => toast.kind !== "error")
          .map((toast) => (
            <ToastItem key={toast.id} toast={toast} onDismiss={dismiss} />
          ))}
      </div>
      <div className="toasts toasts-errors" aria-live="assertive" role="alert">
        {toasts
          .filter((toast) => toast.kind === "error")
          .map((toast) => (
            <ToastItem key={toast.id} toast={toast} onDismiss={dismiss} />
          ))}
      </div>
    </>
  );
}

function ToastItem({ toast, onDismiss }: { toast: Toast; onDismiss: (id: number) => void }) {
  // Each toast goes by itself; a repeat is a new id, so its time starts afresh.
  useEffect(() => {
    const timer = window.setTimeout(() => onDismiss(toast.id), TOAST_MILLISECONDS);
    return () => window.clearTimeout(timer);
  }, [toast.id, onDismiss]);
  return (
    <div className={`toast toast-${toast.kind}`} data-testid="toast">
      <span>
        {toast.message}
        {toast.count > 1 && <span className="toast-count">×{toast.count}</span>}
      </span>
      <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => onDismiss(toast.id)}>
        ×
      </button>
    </div>
  );
}

export function useToast(): ToastApi {
  const context = useContext(ToastContext);
  if (context === null) {
    throw new Error("useToast needs a ToastProvider");
  }
  return context;
}

/** A mutation's callbacks that say how it went: the API's message, or why it failed. */
export function toastOutcome(toast: ToastApi) {
  return {
    onSuccess: (answer: { message: string }) => toast.show(answer.message),
    onError: (error: unknown) => toast.show(messageOf(error), "error"),
  };
}
