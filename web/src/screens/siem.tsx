import { useState } from 'preact/hooks';
import { enc, page, post, type SiemIntegration } from '../api';
import { ErrorAlert, PagedTable, Screen, Status, fmtDate, useAction } from '../ui';

export function SiemIntegrations() {
  const [status, setStatus] = useState('');
  const [version, setVersion] = useState(0);
  const { error, run } = useAction();
  const test = (s: SiemIntegration) => {
    setStatus('');
    void run(async () => {
      const r = await post<{ delivered: boolean; status: string }>(`/siem-integrations/${enc(s.id)}/test`);
      setStatus(r.delivered ? `Test event delivered to ${s.name}.` : `Test event sent to ${s.name} (UDP cannot confirm receipt).`);
      setVersion((v) => v + 1);
    });
  };
  return (
    <Screen title="SIEM integrations">
      {status && <Status text={status} />}
      <ErrorAlert error={error} />
      <PagedTable<SiemIntegration>
        caption="SIEM integrations"
        load={(cursor) => page<SiemIntegration>('/siem-integrations', cursor)}
        reloadKey={version}
        rowKey={(s) => s.id}
        columns={[
          { header: 'Name', cell: (s) => s.name },
          { header: 'Status', cell: (s) => (s.enabled ? (s.lastError ? 'failing' : 'delivering') : 'disabled') },
          { header: 'Backlog', cell: (s) => `${s.backlog} audit${s.detectionBacklog ? `, ${s.detectionBacklog} detections` : ''}` },
          { header: 'Last error', cell: (s) => s.lastError ?? '—' },
          { header: 'Last delivered', cell: (s) => fmtDate(s.lastDeliveredAt) },
          {
            header: 'Actions',
            cell: (s) => (
              <button type="button" onClick={() => test(s)}>
                Test
              </button>
            ),
          },
        ]}
      />
    </Screen>
  );
}
