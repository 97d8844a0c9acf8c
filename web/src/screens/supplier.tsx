import type { TargetedMouseEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiUrl, del, enc, feedsByName, get, page, patch, post, put, selectedTenant, send, type Feed, type FeedRun, type Indicator, type Supplier, type UploadResult } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, PagedTable, Screen, Status, fmtContext, fmtDate, onSubmit, useAction, useConfirm, useLoad } from '../ui';
import { retention } from './suppliers';

const FALSE_POSITIVE = 'FalsePositive';
const linesOf = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
const uploadSummary = (r: UploadResult) =>
  `${r.processed} processed: ${r.created} created, ${r.updated} updated, ${r.failed.length} rejected.` +
  (r.failed.length ? ` Rejected: ${r.failed.slice(0, 5).map((f) => `${f.indicator ?? `#${f.index + 1}`} (${f.reason})`).join('; ')}${r.failed.length > 5 ? '; …' : ''}` : '');

/** An export link; with another tenant selected it downloads through fetch, which can send the tenant header. */
function ExportLink({ href, file, children }: { href: string; file: string; children: string }) {
  const [error, setError] = useState<unknown>(null);
  const click = (e: TargetedMouseEvent<HTMLAnchorElement>) => {
    if (!selectedTenant()) return;
    e.preventDefault();
    send('GET', href.replace(/^\/api\/v1/, '').replace(/\?.*$/, ''), { query: Object.fromEntries(new URL(href, location.href).searchParams) })
      .then((r) => r.blob())
      .then((b) => {
        const a = document.createElement('a');
        a.href = URL.createObjectURL(b);
        a.download = file;
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      }, setError);
  };
  return (
    <>
      <a href={href} download={file} onClick={click}>
        {children}
      </a>
      <ErrorAlert error={error} />
    </>
  );
}

function ActionableFields({ supplier, onSaved }: { supplier: Supplier; onSaved: () => void }) {
  const [text, setText] = useState(supplier.actionableFields.join(', '));
  const [saved, setSaved] = useState('');
  const { error, busy, run } = useAction();
  const submit = onSubmit(() => {
    setSaved('');
    void run(async () => {
      const actionableFields = [...new Set(text.split(/[\s,]+/).filter(Boolean))];
      await patch(`/suppliers/${enc(supplier.name)}`, { actionableFields });
      setSaved('Actionable fields saved.');
      onSaved();
    });
  });
  return (
    <form class="card" onSubmit={submit}>
      <label for="actionable">Actionable fields</label>
      <p id="actionable-help" class="hint">
        Context fields a playbook may act on, separated by commas.
      </p>
      <input id="actionable" aria-describedby="actionable-help" value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <ErrorAlert error={error} />
      {saved && <Status text={saved} />}
      <button type="submit" class="primary" disabled={busy}>
        Save
      </button>
    </form>
  );
}

function Indicators({ supplier }: { supplier: Supplier }) {
  const { can } = useAuth();
  const write = can('indicators.write');
  const base = `/suppliers/${enc(supplier.name)}/indicators`;
  const [filter, setFilter] = useState('');
  const [applied, setApplied] = useState('');
  // The filter applies as one types (after a pause), or at once with Apply.
  useEffect(() => {
    const t = setTimeout(() => setApplied(filter.trim()), 300);
    return () => clearTimeout(t);
  }, [filter]);
  const [version, setVersion] = useState(0);
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const [dialog, confirm] = useConfirm();
  const { error, busy, run } = useAction();
  const reload = () => setVersion((v) => v + 1);

  const add = onSubmit(() => {
    const values = linesOf(text);
    if (!values.length) return;
    setStatus('');
    void run(async () => {
      const r = await put<UploadResult>(base, values.map((indicator) => ({ indicator })));
      setStatus(uploadSummary(r));
      if (r.failed.length === 0) setText('');
      reload();
    });
  });
  const remove = async (i: Indicator) => {
    if (!(await confirm(`Delete the indicator ${i.indicator} from ${supplier.name}?`))) return;
    await run(async () => {
      await del(base, [{ indicator: i.indicator, type: i.type }]);
      setStatus(`Deleted ${i.indicator}.`);
      reload();
    });
  };
  const moveToFalsePositive = async (i: Indicator) => {
    if (!(await confirm(`Move ${i.indicator} to ${FALSE_POSITIVE}? It is removed from ${supplier.name} and will never be reported.`))) return;
    await run(async () => {
      const r = await put<UploadResult>(`/suppliers/${FALSE_POSITIVE}/indicators`, [{ indicator: i.indicator, type: i.type }]);
      if (r.failed.length) throw new Error(`Could not add ${i.indicator} to ${FALSE_POSITIVE}: ${r.failed[0]?.reason ?? 'rejected'}.`);
      await del(base, [{ indicator: i.indicator, type: i.type }]);
      setStatus(`Moved ${i.indicator} to ${FALSE_POSITIVE}.`);
      reload();
    });
  };

  return (
    <section>
      <h2 id="h-indicators">Indicators</h2>
      <p class="actions">
        <ExportLink href={apiUrl(`${base}/export`, { format: 'stix21' })} file={`${supplier.name}.stix.json`}>
          Export STIX
        </ExportLink>
        <ExportLink href={apiUrl(`${base}/export`, { format: 'csv' })} file={`${supplier.name}.csv`}>
          Export CSV
        </ExportLink>
        <ExportLink href={apiUrl(`${base}/export`, { format: 'ndjson' })} file={`${supplier.name}.ndjson`}>
          Export text
        </ExportLink>
      </p>
      {write && (
        <form class="card" onSubmit={add}>
          <label for="new-indicators">Indicators</label>
          <p id="new-indicators-help" class="hint">
            One value per line; the type is detected.
          </p>
          <textarea id="new-indicators" aria-describedby="new-indicators-help" rows={4} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <button type="submit" class="primary" disabled={busy}>
            Add
          </button>
        </form>
      )}
      <form
        class="inline"
        role="search"
        onSubmit={onSubmit(() => setApplied(filter.trim()))}
      >
        <label for="filter">Filter</label>
        <input id="filter" type="search" placeholder="exact value" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        <button type="submit">Apply</button>
      </form>
      {status && <Status text={status} />}
      <ErrorAlert error={error} />
      <PagedTable<Indicator>
        caption={`Indicators of ${supplier.name}`}
        load={(cursor) => page<Indicator>(base, cursor, { value: applied || undefined }, 50)}
        reloadKey={version}
        resetKey={applied}
        rowKey={(i) => i.id}
        columns={[
          { header: 'Indicator', cell: (i) => <span class="mono">{i.indicator}</span> },
          { header: 'Type', cell: (i) => i.type },
          { header: 'Confidence', cell: (i) => i.confidence ?? supplier.confidence },
          { header: 'Tags', cell: (i) => i.tags.map((t) => t.name).join(', ') || '—' },
          { header: 'Context', cell: (i) => fmtContext(i.context) || '—' },
          { header: 'Hits', cell: (i) => i.hits },
          { header: 'Updated', cell: (i) => fmtDate(i.updatedAt) },
          ...(write
            ? [
                {
                  header: 'Actions',
                  cell: (i: Indicator) => (
                    <div class="actions">
                      <button type="button" class="danger" onClick={() => void remove(i)}>
                        Delete
                      </button>
                      {supplier.name !== FALSE_POSITIVE && (
                        <button type="button" onClick={() => void moveToFalsePositive(i)}>
                          Move to FalsePositive
                        </button>
                      )}
                    </div>
                  ),
                },
              ]
            : []),
        ]}
      />
      {dialog}
    </section>
  );
}

function FeedForm({ supplier, feed, onSaved }: { supplier: Supplier; feed: Feed | null; onSaved: () => void }) {
  const [f, setF] = useState({
    url: feed?.url ?? '',
    format: feed?.format ?? 'text',
    mode: feed?.mode ?? 'replace',
    interval: String(feed?.intervalMinutes ?? 60),
    enabled: feed?.enabled ?? true,
    collection: '',
  });
  const { error, busy, run } = useAction();
  const submit = onSubmit(() => {
    void run(async () => {
      await put(`/suppliers/${enc(supplier.name)}/feed`, {
        url: f.url.trim(),
        format: f.format,
        mode: f.mode,
        intervalMinutes: Number(f.interval),
        enabled: f.enabled,
        ...(f.format === 'taxii21' ? { taxii: { collectionId: f.collection.trim() } } : {}),
      });
      onSaved();
    });
  });
  return (
    <form class="card grid" onSubmit={submit} aria-label="Feed configuration">
      <label>
        Feed URL <input type="url" required value={f.url} onInput={(e) => setF({ ...f, url: e.currentTarget.value })} />
      </label>
      <label>
        Format
        <select value={f.format} onChange={(e) => setF({ ...f, format: e.currentTarget.value as Feed['format'] })}>
          {['text', 'csv', 'stix21', 'taxii21', 'misp'].map((x) => (
            <option key={x}>{x}</option>
          ))}
        </select>
      </label>
      <label>
        Mode
        <select value={f.mode} onChange={(e) => setF({ ...f, mode: e.currentTarget.value as Feed['mode'] })}>
          <option>replace</option>
          <option>merge</option>
        </select>
      </label>
      {f.format === 'taxii21' && (
        <label>
          TAXII collection ID <input required value={f.collection} onInput={(e) => setF({ ...f, collection: e.currentTarget.value })} />
        </label>
      )}
      <label>
        Interval minutes <input type="number" min={5} max={10080} required value={f.interval} onInput={(e) => setF({ ...f, interval: e.currentTarget.value })} />
      </label>
      <label class="check">
        <input type="checkbox" checked={f.enabled} onChange={(e) => setF({ ...f, enabled: e.currentTarget.checked })} /> Feed enabled
      </label>
      <ErrorAlert error={error} />
      <button type="submit" class="primary" disabled={busy}>
        Save feed
      </button>
    </form>
  );
}

function FeedSection({ supplier }: { supplier: Supplier }) {
  const { can } = useAuth();
  const write = can('suppliers.write') && !supplier.builtIn;
  // From the list of feeds: asking GET …/feed would answer 404 for a supplier without one.
  const { data: feeds, error: loadError, reload } = useLoad(feedsByName, [supplier.name]);
  const feed = feeds === undefined ? undefined : (feeds.get(supplier.name) ?? null);
  const [editing, setEditing] = useState(false);
  const [status, setStatus] = useState('');
  const [dialog, confirm] = useConfirm();
  const { error, run } = useAction();
  const runNow = () =>
    void run(async () => {
      await post(`/suppliers/${enc(supplier.name)}/feed/run`);
      setStatus('Feed run queued.');
      reload();
    });
  const remove = async () => {
    if (await confirm(`Delete the feed of ${supplier.name}? Its indicators stay.`)) await run(() => del(`/suppliers/${enc(supplier.name)}/feed`).then(reload));
  };
  return (
    <>
      <section aria-labelledby="h-feed">
        <h2 id="h-feed">Feed</h2>
        <ErrorAlert error={loadError ?? error} />
        {status && <Status text={status} />}
        {feed === null && <p>This supplier has no feed: its indicators come through the API.</p>}
        {feed && (
          <dl class="facts">
            <dt>URL</dt>
            <dd class="mono">{feed.url}</dd>
            <dt>Format</dt>
            <dd>{feed.format}</dd>
            <dt>Mode</dt>
            <dd>{feed.mode}</dd>
            <dt>Interval</dt>
            <dd>{feed.intervalMinutes} minutes</dd>
            <dt>State</dt>
            <dd>{feed.enabled ? feed.state : 'disabled'}</dd>
            <dt>Last run</dt>
            <dd>
              {fmtDate(feed.lastRunAt)} {feed.lastOutcome ? `(${feed.lastOutcome})` : ''}
            </dd>
            <dt>Last success</dt>
            <dd>{fmtDate(feed.lastSuccessAt)}</dd>
            <dt>Last error</dt>
            <dd>{feed.lastError ?? '—'}</dd>
            <dt>Next run</dt>
            <dd>{fmtDate(feed.nextRunAt)}</dd>
          </dl>
        )}
        {write && !supplier.builtIn && feed !== undefined && (
          <div class="actions">
            <button type="button" aria-expanded={editing} onClick={() => setEditing(!editing)}>
              {feed ? 'Edit feed' : 'Configure a feed'}
            </button>
            {feed && (
              <button type="button" onClick={runNow}>
                Run now
              </button>
            )}
            {feed && (
              <button type="button" class="danger" onClick={() => void remove()}>
                Delete feed
              </button>
            )}
          </div>
        )}
        {editing && (
          <FeedForm
            supplier={supplier}
            feed={feed ?? null}
            onSaved={() => {
              setEditing(false);
              reload();
            }}
          />
        )}
        {dialog}
      </section>
      <section aria-labelledby="h-runs">
        <h2 id="h-runs">Runs</h2>
        {feed ? (
          <PagedTable<FeedRun>
            caption={`Feed runs of ${supplier.name}`}
            load={(cursor) => page<FeedRun>(`/suppliers/${enc(supplier.name)}/feed/runs`, cursor, {}, 20)}
            rowKey={(r) => r.id}
            reloadKey={feed}
            columns={[
              { header: 'Started', cell: (r) => fmtDate(r.startedAt) },
              { header: 'Finished', cell: (r) => fmtDate(r.finishedAt) },
              { header: 'Outcome', cell: (r) => r.outcome },
              { header: 'Fetched', cell: (r) => r.counts?.fetched ?? 0 },
              { header: 'Created', cell: (r) => r.counts?.created ?? 0 },
              { header: 'Updated', cell: (r) => r.counts?.updated ?? 0 },
              { header: 'Removed', cell: (r) => r.counts?.removed ?? 0 },
              { header: 'Rejected', cell: (r) => r.counts?.rejected ?? 0 },
              { header: 'Error', cell: (r) => r.error ?? (r.rejectedSample?.length ? r.rejectedSample.map((s) => `${s.indicator ?? '?'}: ${s.reason}`).join('; ') : '—') },
            ]}
          />
        ) : (
          <p>No runs: there is no feed.</p>
        )}
      </section>
    </>
  );
}

export function SupplierPage({ name }: { name?: string; params?: Record<string, string> }) {
  const supplierName = decodeURIComponent(name ?? '');
  const { can } = useAuth();
  const { data: s, error, reload } = useLoad(() => get<Supplier>(`/suppliers/${enc(supplierName)}`), [supplierName]);
  return (
    <Screen title={s?.name ?? supplierName}>
      <p>
        <a href="/console/suppliers">All suppliers</a>
      </p>
      <ErrorAlert error={error} />
      {s && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>{s.status}</dd>
            <dt>Vendor</dt>
            <dd>{s.vendor || '—'}</dd>
            <dt>Description</dt>
            <dd>{s.description || '—'}</dd>
            <dt>Confidence</dt>
            <dd>{s.confidence}</dd>
            <dt>Retention</dt>
            <dd>{retention(s.retentionMinutes)}</dd>
            <dt>Sharing</dt>
            <dd>{s.sharing === 'descendants' ? 'shared with descendant tenants' : 'not shared'}</dd>
            <dt>Indicators</dt>
            <dd>{s.indicatorCount.toLocaleString('en')}</dd>
          </dl>
          {can('suppliers.write') && <ActionableFields supplier={s} onSaved={reload} />}
          {can('indicators.read') && <Indicators supplier={s} />}
          <FeedSection supplier={s} />
        </>
      )}
    </Screen>
  );
}
