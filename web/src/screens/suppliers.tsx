import { useState } from 'preact/hooks';
import { del, enc, feedsByName, page, patch, post, type FeedOfSupplier, type Supplier } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, PagedTable, Screen, onSubmit, useAction, useConfirm, useLoad } from '../ui';

export const retention = (minutes: number) =>
  !minutes ? 'none' : minutes % 1440 === 0 ? `${minutes / 1440} d` : minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;

/** The Feed column: the supplier's feed from GET /feeds, read once for the whole list. */
const feedText = (feed: FeedOfSupplier | undefined) =>
  !feed ? 'none' : `${feed.enabled ? feed.state : 'disabled'}${feed.lastOutcome ? `, last ${feed.lastOutcome}` : ''}`;

function NewSupplier({ onCreated }: { onCreated: () => void }) {
  const [f, setF] = useState({ name: '', vendor: '', confidence: '50', days: '' });
  const { error, busy, run } = useAction();
  const set = (k: keyof typeof f) => (e: { currentTarget: HTMLInputElement }) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = onSubmit(() => {
    void run(async () => {
      await post('/suppliers', {
        name: f.name.trim(),
        ...(f.vendor.trim() ? { vendor: f.vendor.trim() } : {}),
        confidence: Number(f.confidence),
        ...(f.days ? { retentionMinutes: Math.round(Number(f.days) * 1440) } : {}),
      });
      onCreated();
    });
  });
  return (
    <form class="card grid" onSubmit={submit} aria-label="New supplier">
      <label>
        Name <input required maxLength={128} value={f.name} onInput={set('name')} />
      </label>
      <label>
        Vendor <input maxLength={128} value={f.vendor} onInput={set('vendor')} />
      </label>
      <label>
        Confidence <input type="number" min={0} max={100} required value={f.confidence} onInput={set('confidence')} />
      </label>
      <label>
        Retention days <input type="number" min={0} step="any" value={f.days} onInput={set('days')} aria-describedby="ret-help" />
      </label>
      <p id="ret-help" class="hint">
        Leave retention empty or 0 to keep indicators until they expire.
      </p>
      <ErrorAlert error={error} />
      <button type="submit" class="primary" disabled={busy}>
        Create
      </button>
    </form>
  );
}

export function Suppliers() {
  const { can } = useAuth();
  const [creating, setCreating] = useState(false);
  const [version, setVersion] = useState(0);
  const [dialog, confirm] = useConfirm();
  const { error, run } = useAction();
  const reload = () => setVersion((v) => v + 1);
  const write = can('suppliers.write');
  const { data: feeds } = useLoad(feedsByName, [version]);

  const load = (cursor: string | null) => page<Supplier>('/suppliers', cursor, {}, 50);
  const toggle = (s: Supplier) => void run(() => patch(`/suppliers/${enc(s.name)}`, { status: s.status === 'enabled' ? 'disabled' : 'enabled' }).then(reload));
  const remove = async (s: Supplier) => {
    if (await confirm(`Delete the supplier ${s.name} and all its ${s.indicatorCount} indicators?`)) await run(() => del(`/suppliers/${enc(s.name)}`).then(reload));
  };

  return (
    <Screen title="Suppliers">
      {write && (
        <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
          New supplier
        </button>
      )}
      {creating && (
        <NewSupplier
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
      <ErrorAlert error={error} />
      <PagedTable<Supplier>
        caption="Suppliers"
        load={load}
        reloadKey={version}
        rowKey={(s) => s.name}
        columns={[
          { header: 'Name', cell: (s) => <a href={`/console/suppliers/${enc(s.name)}`}>{s.name}</a> },
          { header: 'Status', cell: (s) => s.status },
          { header: 'Confidence', cell: (s) => s.confidence },
          { header: 'Retention', cell: (s) => retention(s.retentionMinutes) },
          { header: 'Indicators', cell: (s) => s.indicatorCount.toLocaleString('en') },
          { header: 'Feed', cell: (s) => (feeds ? feedText(feeds.get(s.name)) : '…') },
          ...(write
            ? [
                {
                  header: 'Actions',
                  cell: (s: Supplier) => (
                    <div class="actions">
                      <button type="button" onClick={() => toggle(s)}>
                        {s.status === 'enabled' ? 'Disable' : 'Enable'}
                      </button>
                      {!s.builtIn && (
                        <button type="button" class="danger" onClick={() => void remove(s)}>
                          Delete
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
    </Screen>
  );
}
