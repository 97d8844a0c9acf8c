import { useState } from 'preact/hooks';
import { del, enc, page, post, type Tag } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, PagedTable, Screen, onSubmit, useAction, useConfirm } from '../ui';

function NewTag({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [weight, setWeight] = useState('0');
  const [description, setDescription] = useState('');
  const { error, busy, run } = useAction();
  const submit = onSubmit(() => {
    void run(async () => {
      await post('/tags', { name: name.trim(), weight: Number(weight), ...(description.trim() ? { description: description.trim() } : {}) });
      onCreated();
    });
  });
  return (
    <form class="card grid" onSubmit={submit} aria-label="New tag">
      <label>
        Name <input required maxLength={128} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Weight <input type="number" min={0} max={5} value={weight} onInput={(e) => setWeight(e.currentTarget.value)} />
      </label>
      <label>
        Description <input maxLength={1024} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      <ErrorAlert error={error} />
      <button type="submit" class="primary" disabled={busy}>
        Create
      </button>
    </form>
  );
}

export function Tags() {
  const { can } = useAuth();
  const write = can('tags.write');
  const [creating, setCreating] = useState(false);
  const [version, setVersion] = useState(0);
  const [dialog, confirm] = useConfirm();
  const { error, run } = useAction();
  const reload = () => setVersion((v) => v + 1);
  const remove = async (t: Tag) => {
    if (await confirm(`Delete the tag ${t.name}? It is removed from ${t.indicatorCount} indicators.`)) await run(() => del(`/tags/${enc(t.name)}`).then(reload));
  };
  return (
    <Screen title="Tags">
      {write && (
        <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
          New tag
        </button>
      )}
      {creating && (
        <NewTag
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
      <ErrorAlert error={error} />
      <PagedTable<Tag>
        caption="Tags"
        load={(cursor) => page<Tag>('/tags', cursor)}
        reloadKey={version}
        rowKey={(t) => t.name}
        columns={[
          { header: 'Name', cell: (t) => t.name },
          { header: 'Weight', cell: (t) => t.weight },
          { header: 'Description', cell: (t) => t.description || '—' },
          { header: 'Indicators', cell: (t) => t.indicatorCount },
          ...(write
            ? [
                {
                  header: 'Actions',
                  cell: (t: Tag) => (
                    <button type="button" class="danger" onClick={() => void remove(t)}>
                      Delete
                    </button>
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
