import { useState } from 'preact/hooks';
import { del, enc, page, patch, post, type User } from '../api';
import { ErrorAlert, PagedTable, Screen, fmtDate, onSubmit, useAction, useConfirm } from '../ui';
import { RoleField } from './api-clients';

function NewUser({ onCreated }: { onCreated: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState('');
  const { error, busy, run } = useAction();
  const submit = onSubmit(() => {
    void run(async () => {
      await post('/users', { username: username.trim(), password, role });
      onCreated();
    });
  });
  return (
    <form class="card grid" onSubmit={submit} aria-label="New user">
      <label for="user-name">Username</label>
      <input id="user-name" required minLength={3} maxLength={64} autoComplete="off" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
      <label for="user-password">Password</label>
      <input id="user-password" type="password" required minLength={12} maxLength={256} autoComplete="new-password" aria-describedby="user-password-help" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      <p id="user-password-help" class="hint">
        12 to 256 characters.
      </p>
      <RoleField id="user-role" value={role} onChange={setRole} />
      <ErrorAlert error={error} />
      <button type="submit" class="primary" disabled={busy}>
        Create
      </button>
    </form>
  );
}

export function Users() {
  const [creating, setCreating] = useState(false);
  const [version, setVersion] = useState(0);
  const [dialog, confirm] = useConfirm();
  const { error, run } = useAction();
  const reload = () => setVersion((v) => v + 1);
  const toggle = (u: User) => void run(() => patch(`/users/${enc(u.id)}`, { status: u.status === 'active' ? 'inactive' : 'active' }).then(reload));
  const remove = async (u: User) => {
    if (await confirm(`Delete the user ${u.username}?`)) await run(() => del(`/users/${enc(u.id)}`).then(reload));
  };
  return (
    <Screen title="Users">
      <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
        New user
      </button>
      {creating && (
        <NewUser
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
      <ErrorAlert error={error} />
      <PagedTable<User>
        caption="Users"
        load={(cursor) => page<User>('/users', cursor)}
        reloadKey={version}
        rowKey={(u) => u.id}
        columns={[
          { header: 'Username', cell: (u) => u.username },
          { header: 'Role', cell: (u) => u.role },
          { header: 'Status', cell: (u) => u.status },
          { header: 'Created', cell: (u) => fmtDate(u.createdAt) },
          { header: 'Last sign-in', cell: (u) => (u.lastLoginAt ? fmtDate(u.lastLoginAt) : 'never') },
          {
            header: 'Actions',
            cell: (u) => (
              <div class="actions">
                <button type="button" onClick={() => toggle(u)}>
                  {u.status === 'active' ? 'Deactivate' : 'Activate'}
                </button>
                <button type="button" class="danger" onClick={() => void remove(u)}>
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
