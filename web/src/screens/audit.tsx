import { useState } from 'preact/hooks';
import { get, page, type AuditRecord, type AuditVerify } from '../api';
import { ErrorAlert, PagedTable, Screen, Status, fmtDate, onSubmit, useAction } from '../ui';

const EMPTY = { from: '', to: '', actor: '', action: '', entityType: '', outcome: '' };
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function AuditLog() {
  const [form, setForm] = useState(EMPTY);
  const [filters, setFilters] = useState(EMPTY);
  const [verdict, setVerdict] = useState('');
  const { error, busy, run, setError } = useAction();
  const field = (k: keyof typeof EMPTY, label: string, date = false) => {
    const props = { value: form[k], onInput: (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [k]: e.currentTarget.value }) };
    return (
      <label>
        {label} {date ? <input type="datetime-local" {...props} /> : <input {...props} />}
      </label>
    );
  };
  const apply = onSubmit(() => {
    try {
      iso(form.from);
      iso(form.to);
      setError(null);
      setFilters({ ...form });
    } catch {
      setError(new Error('From and To must be valid dates and times.'));
    }
  });
  const verify = () => {
    setVerdict('');
    void run(async () => {
      const r = await get<AuditVerify>('/audit-logs/verify');
      setVerdict(r.valid ? `The chain is intact: ${r.checked ?? 0} records checked.` : `The chain is broken at record ${r.brokenAt ?? '?'}: the log was changed behind the API.`);
    });
  };
  return (
    <Screen title="Audit log">
      <form class="card grid" onSubmit={apply} aria-label="Filter the audit log">
        {field('from', 'From', true)}
        {field('to', 'To', true)}
        {field('actor', 'Actor')}
        {field('action', 'Action')}
        {field('entityType', 'Entity type')}
        <label>
          Outcome
          <select value={form.outcome} onChange={(e) => setForm({ ...form, outcome: e.currentTarget.value })}>
            <option value="">any</option>
            <option>success</option>
            <option>failure</option>
            <option>denied</option>
          </select>
        </label>
        <button type="submit" class="primary">
          Apply
        </button>
      </form>
      <div class="actions">
        <button type="button" onClick={verify} disabled={busy}>
          Verify chain
        </button>
      </div>
      {verdict && <Status text={verdict} />}
      <ErrorAlert error={error} />
      <PagedTable<AuditRecord>
        caption="Audit records, newest first"
        resetKey={filters}
        load={(cursor) => page<AuditRecord>('/audit-logs', cursor, { ...filters, from: iso(filters.from), to: iso(filters.to) })}
        rowKey={(r) => r.id}
        columns={[
          { header: 'Sequence', cell: (r) => r.sequence },
          { header: 'Time', cell: (r) => fmtDate(r.timestamp) },
          { header: 'Actor', cell: (r) => `${r.actorName ?? '—'} (${r.actorType})` },
          { header: 'Action', cell: (r) => r.action },
          { header: 'Entity', cell: (r) => `${r.entityType}${r.entityName ? `: ${r.entityName}` : ''}` },
          { header: 'Outcome', cell: (r) => r.outcome },
          { header: 'Address', cell: (r) => r.ip ?? '—' },
        ]}
      />
    </Screen>
  );
}
