// The UI's small shared building blocks: page frame, loading and error states, form fields,
// dialogs, copy buttons, badges, and the formatting every page uses. Pages compose these so
// they look and behave alike (focus, keyboard, narrow screens).
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';

/** The state of one asynchronous load; `reload` runs it again. */
export interface Async<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change; keeps the last data while reloading. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[] = []): Async<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(e instanceof Error ? e : new Error(String(e)));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** A page: its heading (focused on arrival, for screen readers and keyboards) and actions. */
export function Page(props: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · Junction`;
    heading.current?.focus({ preventScroll: true });
  }, [props.title]);
  return (
    <section class="page">
      <header class="page-head">
        <h1 tabIndex={-1} ref={heading}>
          {props.title}
        </h1>
        {props.actions && <div class="actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

export function Loading(props: { what?: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      Loading{props.what ? ` ${props.what}` : ''}…
    </p>
  );
}

/** An error message, announced to screen readers. */
export function ErrorNote(props: { error: unknown; onRetry?: () => void }) {
  if (!props.error) return null;
  const message = props.error instanceof Error ? props.error.message : String(props.error);
  return (
    <div class="notice error" role="alert">
      <span>{message}</span>
      {props.onRetry && (
        <button type="button" class="link" onClick={props.onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice(props: { kind?: 'info' | 'success' | 'warn' | 'error'; children: ComponentChildren }) {
  const kind = props.kind ?? 'info';
  return (
    <div class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

/** A labelled form control; `children` is the input, which gets the label's id. */
export function Field(props: {
  label: string;
  hint?: ComponentChildren;
  error?: string;
  children: (id: string) => ComponentChildren;
}) {
  const id = useId();
  return (
    <div class={`field${props.error ? ' invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      {props.children(id)}
      {props.hint && <div class="hint">{props.hint}</div>}
      {props.error && (
        <div class="field-error" role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}

/**
 * A modal dialog on the native `<dialog>`: focus moves in and is trapped, Escape closes it,
 * and focus returns to what opened it.
 */
export function Modal(props: { title: string; open: boolean; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class={props.wide ? 'wide' : ''} onClose={props.onClose} aria-label={props.title}>
      <header class="dialog-head">
        <h2>{props.title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </header>
      {props.open && props.children}
    </dialog>
  );
}

/** Copies `text` to the clipboard and says so. */
export function CopyButton(props: { text: string; label?: string; class?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
    } catch {
      // Without clipboard permission (plain http on another host): select-and-copy fallback.
      const area = document.createElement('textarea');
      area.value = props.text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <button type="button" class={props.class ?? 'small'} onClick={copy} aria-live="polite">
      {copied ? 'Copied' : (props.label ?? 'Copy')}
    </button>
  );
}

export function Badge(props: { kind?: 'ok' | 'warn' | 'bad' | 'neutral'; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge ${props.kind ?? 'neutral'}`} title={props.title}>
      {props.children}
    </span>
  );
}

/** Pretty-printed JSON in a scrollable block. */
export function Json(props: { value: unknown; label?: string }) {
  return (
    <pre class="json" tabIndex={0} aria-label={props.label ?? 'JSON'}>
      {JSON.stringify(props.value, null, 2)}
    </pre>
  );
}

/** A table that scrolls sideways on narrow screens instead of overflowing the page. */
export function Table(props: { caption: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={props.caption}>
      <table>
        <caption class="sr-only">{props.caption}</caption>
        {props.children}
      </table>
    </div>
  );
}

/** A button that runs an async action, disabled while it runs. */
export function ActionButton(
  props: Omit<JSX.ButtonHTMLAttributes<HTMLButtonElement>, 'onClick'> & {
    onClick: () => Promise<unknown>;
    busyLabel?: string;
  },
) {
  const { onClick, busyLabel, children, ...rest } = props;
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      {...rest}
      disabled={busy || Boolean(rest.disabled)}
      onClick={async () => {
        setBusy(true);
        try {
          await onClick();
        } finally {
          setBusy(false);
        }
      }}
    >
      {busy ? (busyLabel ?? 'Working…') : children}
    </button>
  );
}

/** `"a, b\nc"` → `["a", "b", "c"]`. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A time as local date and time; accepts Unix milliseconds or an ISO 8601 string. */
export function formatTime(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatUsd(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return '—';
  return usd === 0 ? '$0' : usd < 0.01 ? `$${usd.toFixed(6)}` : `$${usd.toFixed(2)}`;
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
