import { useState } from 'preact/hooks';
import { enc, get, put, type SharedSupplier } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, PagedTable, Screen, Status, useAction } from '../ui';

export function SharedSuppliers() {
  const { can } = useAuth();
  const write = can('suppliers.write');
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState('');
  const { error, run } = useAction();
  const setSubscribed = (s: SharedSupplier, subscribed: boolean) =>
    void run(async () => {
      await put(`/shared-suppliers/${enc(s.name)}`, { subscribed });
      setStatus(subscribed ? `Subscribed to ${s.name}.` : `Unsubscribed from ${s.name}.`);
      setVersion((v) => v + 1);
    });
  return (
    <Screen title="Shared suppliers">
      <p>Suppliers a parent tenant shares with this one. Their indicators are used in searches once subscribed.</p>
      {status && <Status text={status} />}
      <ErrorAlert error={error} />
      <PagedTable<SharedSupplier>
        caption="Shared suppliers"
        load={async () => {
          const r = await get<SharedSupplier[] | { items: SharedSupplier[] }>('/shared-suppliers');
          return { items: Array.isArray(r) ? r : r.items, nextCursor: null };
        }}
        reloadKey={version}
        rowKey={(s) => `${s.owner}/${s.name}`}
        columns={[
          { header: 'Name', cell: (s) => s.name },
          { header: 'Owner', cell: (s) => s.owner },
          { header: 'Description', cell: (s) => s.description || '—' },
          { header: 'Confidence', cell: (s) => s.confidence },
          { header: 'Subscribed', cell: (s) => (s.subscribed ? 'yes' : 'no') },
          ...(write
            ? [
                {
                  header: 'Actions',
                  cell: (s: SharedSupplier) =>
                    s.subscribed ? (
                      <button type="button" onClick={() => setSubscribed(s, false)}>
                        Unsubscribe
                      </button>
                    ) : (
                      <button type="button" onClick={() => setSubscribed(s, true)}>
                        Subscribe
                      </button>
                    ),
                },
              ]
            : []),
        ]}
      />
    </Screen>
  );
}
