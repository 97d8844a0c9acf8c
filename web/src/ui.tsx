// Shared pieces: the screen frame, errors, the paged table, the confirm dialog.
import type { ComponentChildren, TargetedSubmitEvent } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Page as ApiPage } from './api';

const errorText = (e: unknown): string =>
  e instanceof Error ? e.message : 'Something went wrong. Try again.';

export const fmtDate = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '—';

/** A context value as text. */
export const scalar = (v: unknown): string =>
  Array.isArray(v) ? v.map(scalar).join(', ') : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);

export const fmtContext = (ctx: Record<string, unknown> | null | undefined): string =>
  Object.entries(ctx ?? {})
    .map(([k, v]) => `${k}=${scalar(v)}`)
    .join('; ');

/** One screen: its title, its h1 (focused on arrival, for screen readers), its content. */
export function Screen({ title, children }: { title: string; children?: ComponentChildren }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Indicium console`;
    h1.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <>
      <h1 ref={h1} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </>
  );
}

export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" class="error">
      {errorText(error)}
    </p>
  );
}

export function Status({ text }: { text: string }) {
  return (
    <p role="status" class="status">
      {text}
    </p>
  );
}

/** Runs actions (button presses, form submissions) keeping their error and busy state. */
export function useAction() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (fn: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, busy, run, setError };
}

/** Loads data for a screen; `reload` fetches it again. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    fn().then(
      (d) => live && setData(d),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

/** A form's submit handler: no page reload, the action run. */
export const onSubmit =
  (fn: () => void) =>
  (e: TargetedSubmitEvent<HTMLFormElement>): void => {
    e.preventDefault();
    fn();
  };

export interface Column<T> {
  header: string;
  cell: (row: T) => ComponentChildren;
}

export function Table<T>({ caption, columns, rows, rowKey, onRow }: { caption: string; columns: Column<T>[]; rows: T[]; rowKey: (row: T, i: number) => string; onRow?: (row: T) => void }) {
  return (
    // Focusable so a keyboard can scroll it when it is wider than a small screen.
    <div class="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c.header}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length}>Nothing to show.</td>
            </tr>
          ) : (
            rows.map((r, i) => (
              <tr key={rowKey(r, i)} class={onRow ? 'clickable' : undefined} onClick={onRow ? () => onRow(r) : undefined}>
                {columns.map((c) => (
                  <td key={c.header}>{c.cell(r)}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

export function Pager({ onPrev, onNext, hasPrev, hasNext, label }: { onPrev: () => void; onNext: () => void; hasPrev: boolean; hasNext: boolean; label?: string }) {
  return (
    <div class="pager">
      <button type="button" onClick={onPrev} disabled={!hasPrev}>
        Previous page
      </button>
      {label && <span>{label}</span>}
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next page
      </button>
    </div>
  );
}

/**
 * A server-paged list: keeps the stack of cursors that led to the current page, so
 * `Previous page` goes back and `Next page` follows the API's nextCursor. Changing
 * `reloadKey` reloads the current page (after a change); changing `resetKey` starts over.
 */
export function PagedTable<T>(props: {
  caption: string;
  columns: Column<T>[];
  load: (cursor: string | null) => Promise<ApiPage<T>>;
  rowKey: (row: T, i: number) => string;
  reloadKey?: unknown;
  resetKey?: unknown;
  onRow?: (row: T) => void;
}) {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<ApiPage<T> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const cursor = stack[stack.length - 1] ?? null;
  useEffect(() => setStack([null]), [props.resetKey]);
  useEffect(() => {
    let live = true;
    setError(null);
    props.load(cursor).then(
      (p) => live && setPage(p),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [cursor, props.reloadKey, props.resetKey]);
  return (
    <div class="paged">
      <ErrorAlert error={error} />
      {page ? <Table caption={props.caption} columns={props.columns} rows={page.items} rowKey={props.rowKey} onRow={props.onRow} /> : !error && <p>Loading…</p>}
      <Pager
        hasPrev={stack.length > 1}
        hasNext={!!page?.nextCursor}
        onPrev={() => setStack((s) => s.slice(0, -1))}
        onNext={() => page?.nextCursor && setStack((s) => [...s, page.nextCursor])}
        label={`Page ${stack.length}`}
      />
    </div>
  );
}

/** `const [dialog, confirm] = useConfirm()`; `if (await confirm('Delete X?')) …`. */
export function useConfirm(): [ComponentChildren, (question: string) => Promise<boolean>] {
  const ref = useRef<HTMLDialogElement>(null);
  const [question, setQuestion] = useState('');
  const resolver = useRef<((ok: boolean) => void) | null>(null);
  const close = (ok: boolean) => {
    ref.current?.close();
    resolver.current?.(ok);
    resolver.current = null;
  };
  const ask = useCallback((q: string) => {
    setQuestion(q);
    return new Promise<boolean>((resolve) => {
      resolver.current = resolve;
      ref.current?.showModal();
    });
  }, []);
  const dialog = (
    <dialog ref={ref} aria-labelledby="confirm-title" aria-describedby="confirm-question" onCancel={() => close(false)}>
      <h2 id="confirm-title">Please confirm</h2>
      <p id="confirm-question">{question}</p>
      <div class="actions">
        <button type="button" class="danger" onClick={() => close(true)}>
          Confirm
        </button>
        <button type="button" onClick={() => close(false)}>
          Cancel
        </button>
      </div>
    </dialog>
  );
  return [dialog, ask];
}

/** A secret shown once (API client creation and rotation), with a copy button. */
export function OneTimeSecret({ secret, clientId, onDone }: { secret: string; clientId: string; onDone: () => void }) {
  const [copied, setCopied] = useState('');
  const byHand = 'Could not copy: select the secret and copy it by hand.';
  const copy = () => {
    // navigator.clipboard exists only in a secure context (HTTPS or localhost).
    const clipboard = window.isSecureContext ? (navigator.clipboard as Clipboard | undefined) : undefined;
    if (!clipboard) {
      (document.getElementById('client-secret') as HTMLTextAreaElement | null)?.select();
      setCopied(byHand);
      return;
    }
    clipboard.writeText(secret).then(
      () => setCopied('Copied to the clipboard.'),
      () => setCopied(byHand),
    );
  };
  return (
    <section class="secret" aria-labelledby="secret-title">
      <h2 id="secret-title">Secret of {clientId}</h2>
      <p class="warning">
        <strong>Copy this secret now: it will not be shown again.</strong>
      </p>
      <label for="client-secret">Client secret</label>
      <textarea key={secret} id="client-secret" readOnly rows={2} spellcheck={false}>
        {secret}
      </textarea>
      <div class="actions">
        <button type="button" onClick={copy}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
      {copied && <Status text={copied} />}
    </section>
  );
}
