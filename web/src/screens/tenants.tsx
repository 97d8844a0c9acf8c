import { useState } from 'preact/hooks';
import { del, enc, page, patch, post, type Tenant } from '../api';
import { ErrorAlert, PagedTable, Screen, fmtDate, onSubmit, useAction, useConfirm } from '../ui';

function NewTenant({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const { error, busy, run } = useAction();
  const submit = onSubmit(() => {
    void run(async () => {
      await post('/tenants', { name: name.trim(), ...(displayName.trim() ? { displayName: displayName.trim() } : {}) });
      onCreated();
    });
  });
  return (
    <form class="card grid" onSubmit={submit} aria-label="New tenant">
      <label>
        Name <input required maxLength={63} pattern="[a-z0-9][a-z0-9\-]{0,62}" aria-describedby="tenant-name-help" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <p id="tenant-name-help" class="hint">
        Lower-case letters, digits and hyphens.
      </p>
      <label>
        Display name <input maxLength={128} value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} />
      </label>
      <ErrorAlert error={error} />
      <button type="submit" class="primary" disabled={busy}>
        Create
      </button>
    </form>
  );
}

export function Tenants() {
  const [creating, setCreating] = useState(false);
  const [version, setVersion] = useState(0);
  const [dialog, confirm] = useConfirm();
  const { error, run } = useAction();
  const reload = () => setVersion((v) => v + 1);
  const toggle = (t: Tenant) => void run(() => patch(`/tenants/${enc(t.name)}`, { status: t.status === 'active' ? 'suspended' : 'active' }).then(reload));
  const remove = async (t: Tenant) => {
    if (await confirm(`Delete the tenant ${t.name} and all its data? This cannot be undone.`)) await run(() => del(`/tenants/${enc(t.name)}`).then(reload));
  };
  return (
    <Screen title="Tenants">
      <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
        New tenant
      </button>
      {creating && (
        <NewTenant
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
      <ErrorAlert error={error} />
      <PagedTable<Tenant>
        caption="Tenants"
        load={(cursor) => page<Tenant>('/tenants', cursor)}
        reloadKey={version}
        rowKey={(t) => t.id}
        columns={[
          { header: 'Name', cell: (t) => t.name },
          { header: 'Display name', cell: (t) => t.displayName || '—' },
          { header: 'Parent', cell: (t) => t.parent ?? '—' },
          { header: 'Status', cell: (t) => t.status },
          { header: 'Created', cell: (t) => fmtDate(t.createdAt) },
          {
            header: 'Actions',
            cell: (t) => (
              <div class="actions">
                <button type="button" onClick={() => toggle(t)}>
                  {t.status === 'active' ? 'Suspend' : 'Resume'}
                </button>
                <button type="button" class="danger" onClick={() => void remove(t)}>
                  Delete
                </button>
              </div>
            ),
          },
        ]}
      />
      {dialog}
    </Screen>
  );
}
