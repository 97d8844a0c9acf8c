import { useState } from 'preact/hooks';
import { del, enc, get, page, post, type Privilege, type PrivilegeInfo, type Role } from '../api';
import { ErrorAlert, PagedTable, Screen, onSubmit, useAction, useConfirm, useLoad } from '../ui';

function NewRole({ onCreated }: { onCreated: () => void }) {
  const { data: catalogue, error: loadError } = useLoad(() => get<PrivilegeInfo[]>('/roles/privileges'), []);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [chosen, setChosen] = useState<Set<Privilege>>(new Set());
  const { error, busy, run } = useAction();
  const toggle = (p: Privilege, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(p);
    else next.delete(p);
    setChosen(next);
  };
  const submit = onSubmit(() => {
    void run(async () => {
      await post('/roles', { name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}), privileges: [...chosen] });
      onCreated();
    });
  });
  return (
    <form class="card" onSubmit={submit} aria-label="New role">
      <div class="grid">
        <label>
          Name <input required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Description <input maxLength={1024} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
      </div>
      <fieldset>
        <legend>Privileges</legend>
        <ErrorAlert error={loadError} />
        {catalogue?.map((p) => (
          <div class="check" key={p.name}>
            <input type="checkbox" id={`priv-${p.name}`} aria-describedby={`priv-${p.name}-d`} checked={chosen.has(p.name)} onChange={(e) => toggle(p.name, e.currentTarget.checked)} />
            <label for={`priv-${p.name}`}>{p.name}</label>
            <span id={`priv-${p.name}-d`} class="hint">
              {p.description}
            </span>
          </div>
        ))}
      </fieldset>
      <ErrorAlert error={error} />
      <button type="submit" class="primary" disabled={busy}>
        Create
      </button>
    </form>
  );
}

export function Roles() {
  const [creating, setCreating] = useState(false);
  const [version, setVersion] = useState(0);
  const [dialog, confirm] = useConfirm();
  const { error, run } = useAction();
  const reload = () => setVersion((v) => v + 1);
  const remove = async (r: Role) => {
    if (await confirm(`Delete the role ${r.name}?`)) await run(() => del(`/roles/${enc(r.name)}`).then(reload));
  };
  return (
    <Screen title="Roles">
      <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
        New role
      </button>
      {creating && (
        <NewRole
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
      <ErrorAlert error={error} />
      <PagedTable<Role>
        caption="Roles"
        load={(cursor) => page<Role>('/roles', cursor)}
        reloadKey={version}
        rowKey={(r) => r.name}
        columns={[
          { header: 'Name', cell: (r) => r.name },
          { header: 'Description', cell: (r) => r.description || '—' },
          { header: 'Built in', cell: (r) => (r.builtIn ? 'yes' : 'no') },
          { header: 'Privileges', cell: (r) => r.privileges.join(', ') || 'none' },
          {
            header: 'Actions',
            cell: (r) =>
              r.builtIn ? (
                '—'
              ) : (
                <button type="button" class="danger" onClick={() => void remove(r)}>
                  Delete
                </button>
              ),
          },
        ]}
      />
      {dialog}
    </Screen>
  );
}
