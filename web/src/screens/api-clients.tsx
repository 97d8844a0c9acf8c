import { useState } from 'preact/hooks';
import { all, del, enc, page, patch, post, type ApiClient, type IpRestriction, type Role } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, OneTimeSecret, PagedTable, Screen, fmtDate, onSubmit, useAction, useConfirm, useLoad } from '../ui';

/** The roles a form may offer: the list when the principal may read it, else a text field. */
export function RoleField({ value, onChange, id }: { value: string; onChange: (v: string) => void; id: string }) {
  const { can } = useAuth();
  const { data: roles } = useLoad(() => (can('roles.manage') ? all<Role>('/roles') : Promise.resolve(null)), []);
  return (
    <>
      <label for={id}>Role</label>
      {roles ? (
        <select id={id} required value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">Choose a role</option>
          {roles.map((r) => (
            <option key={r.name} value={r.name}>
              {r.name}
            </option>
          ))}
        </select>
      ) : (
        <input id={id} required value={value} onInput={(e) => onChange(e.currentTarget.value)} />
      )}
    </>
  );
}

const ipText = (r: IpRestriction) => (r.mode === 'allow_all' ? 'Allow all' : `Restricted: ${r.allowedIps.join(', ')}`);

function NewClient({ onCreated }: { onCreated: (secret: { clientId: string; clientSecret: string }) => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState('');
  const [mode, setMode] = useState<IpRestriction['mode']>('allow_all');
  const [ips, setIps] = useState('');
  const [status, setStatus] = useState<'active' | 'inactive'>('active');
  const { error, busy, run } = useAction();
  const submit = onSubmit(() => {
    void run(async () => {
      const allowedIps = mode === 'restricted' ? ips.split(/[\s,]+/).filter(Boolean) : [];
      const c = await post<ApiClient & { clientSecret: string }>('/api-clients', { name: name.trim(), role, ipRestriction: { mode, allowedIps }, status });
      onCreated(c);
    });
  });
  return (
    <form class="card grid" onSubmit={submit} aria-label="New API client">
      <label for="client-name">Name</label>
      <input id="client-name" required maxLength={128} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <RoleField id="client-role" value={role} onChange={setRole} />
      <label for="client-ip">IP restriction</label>
      <select id="client-ip" value={mode} onChange={(e) => setMode(e.currentTarget.value as IpRestriction['mode'])}>
        <option value="allow_all">Allow all addresses</option>
        <option value="restricted">Restricted to the allowed IPs</option>
      </select>
      <label for="client-ips">Allowed IPs</label>
      <textarea id="client-ips" rows={3} aria-describedby="client-ips-help" spellcheck={false} value={ips} onInput={(e) => setIps(e.currentTarget.value)} />
      <p id="client-ips-help" class="hint">
        Addresses or networks (203.0.113.7, 10.0.0.0/8, 2001:db8::/32), one per line; used when the restriction is on.
      </p>
      <label for="client-status">Status</label>
      <select id="client-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as 'active' | 'inactive')}>
        <option value="active">active</option>
        <option value="inactive">inactive</option>
      </select>
      <ErrorAlert error={error} />
      <button type="submit" class="primary" disabled={busy}>
        Create
      </button>
    </form>
  );
}

export function ApiClients() {
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ clientId: string; clientSecret: string } | null>(null);
  const [version, setVersion] = useState(0);
  const [dialog, confirm] = useConfirm();
  const { error, run } = useAction();
  const reload = () => setVersion((v) => v + 1);
  const rotate = async (c: ApiClient) => {
    if (!(await confirm(`Rotate the secret of ${c.name}? The current secret and its tokens stop working at once.`))) return;
    await run(async () => setSecret(await post<{ clientId: string; clientSecret: string }>(`/api-clients/${enc(c.id)}/secret`)));
  };
  const toggle = (c: ApiClient) => void run(() => patch(`/api-clients/${enc(c.id)}`, { status: c.status === 'active' ? 'inactive' : 'active' }).then(reload));
  const remove = async (c: ApiClient) => {
    if (await confirm(`Delete the API client ${c.name}? Its integrations stop working at once.`)) await run(() => del(`/api-clients/${enc(c.id)}`).then(reload));
  };
  return (
    <Screen title="API clients">
      <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
        New API client
      </button>
      {creating && (
        <NewClient
          onCreated={(s) => {
            setCreating(false);
            setSecret({ clientId: s.clientId, clientSecret: s.clientSecret });
            reload();
          }}
        />
      )}
      {secret && <OneTimeSecret clientId={secret.clientId} secret={secret.clientSecret} onDone={() => setSecret(null)} />}
      <ErrorAlert error={error} />
      <PagedTable<ApiClient>
        caption="API clients"
        load={(cursor) => page<ApiClient>('/api-clients', cursor)}
        reloadKey={version}
        rowKey={(c) => c.id}
        columns={[
          { header: 'Name', cell: (c) => c.name },
          { header: 'Client ID', cell: (c) => <span class="mono">{c.clientId}</span> },
          { header: 'Role', cell: (c) => c.role },
          { header: 'IP restriction', cell: (c) => ipText(c.ipRestriction) },
          { header: 'Status', cell: (c) => c.status },
          { header: 'Created', cell: (c) => fmtDate(c.createdAt) },
          { header: 'Last used', cell: (c) => (c.lastUsedAt ? `${fmtDate(c.lastUsedAt)}${c.lastUsedIp ? ` from ${c.lastUsedIp}` : ''}` : 'never') },
          {
            header: 'Actions',
            cell: (c) => (
              <div class="actions">
                <button type="button" onClick={() => void rotate(c)}>
                  Rotate secret
                </button>
                <button type="button" onClick={() => toggle(c)}>
                  {c.status === 'active' ? 'Deactivate' : 'Activate'}
                </button>
                <button type="button" class="danger" onClick={() => void remove(c)}>
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
