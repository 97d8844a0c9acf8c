import { useEffect, useRef, useState } from 'preact/hooks';
import { page, type Detection } from '../api';
import { ErrorAlert, PagedTable, Screen, fmtDate, onSubmit, scalar } from '../ui';

const EMPTY = { from: '', to: '', supplier: '', principal: '', value: '' };
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

function Detail({ d, onClose }: { d: Detection; onClose: () => void }) {
  const h2 = useRef<HTMLHeadingElement>(null);
  useEffect(() => h2.current?.focus(), [d.id]);
  return (
    <section class="card detail" aria-labelledby="h-detection">
      <h2 id="h-detection" tabIndex={-1} ref={h2}>
        Detection
      </h2>
      <dl class="facts">
        <dt>When</dt>
        <dd>{fmtDate(d.at)}</dd>
        <dt>Value</dt>
        <dd class="mono">{d.value}</dd>
        <dt>Type</dt>
        <dd>{d.type}</dd>
        <dt>Result</dt>
        <dd>{d.result}</dd>
        <dt>Principal</dt>
        <dd>{d.principal}</dd>
        <dt>Supplier</dt>
        <dd>
          <a href={`/console/suppliers/${encodeURIComponent(d.supplier)}`}>{d.supplier}</a>
        </dd>
        <dt>Indicator</dt>
        <dd class="mono">
          {d.indicator} ({d.indicatorType})
        </dd>
        <dt>Matched by</dt>
        <dd>{d.matchedBy}</dd>
        <dt>Retro-scan</dt>
        <dd>{d.retro ? 'yes: found when the indicator was added after the search' : 'no'}</dd>
        <dt>Context</dt>
        <dd>
          {Object.keys(d.context ?? {}).length ? (
            <dl class="facts">
              {Object.entries(d.context).map(([k, v]) => [<dt key={`k${k}`}>{k}</dt>, <dd key={`v${k}`}>{scalar(v)}</dd>])}
            </dl>
          ) : (
            'none'
          )}
        </dd>
      </dl>
      <button type="button" onClick={onClose}>
        Close
      </button>
    </section>
  );
}

export function Detections() {
  const [form, setForm] = useState(EMPTY);
  const [filters, setFilters] = useState(EMPTY);
  const [selected, setSelected] = useState<Detection | null>(null);
  const [error, setError] = useState<unknown>(null);
  const field = (k: keyof typeof EMPTY, label: string, date = false) => {
    const props = { value: form[k], onInput: (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [k]: e.currentTarget.value }) };
    return (
      <label>
        {label} {date ? <input type="datetime-local" {...props} /> : <input {...props} />}
      </label>
    );
  };
  const apply = onSubmit(() => {
    setError(null);
    try {
      iso(form.from);
      iso(form.to);
      setFilters({ ...form });
      setSelected(null);
    } catch {
      setError(new Error('From and To must be valid dates and times.'));
    }
  });
  return (
    <Screen title="Detections">
      <form class="card grid" onSubmit={apply} aria-label="Filter detections">
        {field('from', 'From', true)}
        {field('to', 'To', true)}
        {field('supplier', 'Supplier')}
        {field('principal', 'Principal')}
        {field('value', 'Value')}
        <button type="submit" class="primary">
          Apply
        </button>
      </form>
      <ErrorAlert error={error} />
      {selected && <Detail d={selected} onClose={() => setSelected(null)} />}
      <PagedTable<Detection>
        caption="Detections, most recent first"
        resetKey={filters}
        load={(cursor) =>
          page<Detection>('/detections', cursor, {
            from: iso(filters.from),
            to: iso(filters.to),
            supplier: filters.supplier.trim(),
            principal: filters.principal.trim(),
            value: filters.value.trim(),
          })
        }
        rowKey={(d) => String(d.id)}
        onRow={setSelected}
        columns={[
          {
            header: 'When',
            cell: (d) => (
              <button type="button" class="link" aria-label={`Open detection of ${d.value} at ${fmtDate(d.at)}`}>
                {fmtDate(d.at)}
              </button>
            ),
          },
          { header: 'Value', cell: (d) => <span class="mono">{d.value}</span> },
          { header: 'Type', cell: (d) => d.type },
          { header: 'Supplier', cell: (d) => d.supplier },
          { header: 'Indicator', cell: (d) => <span class="mono">{d.indicator}</span> },
          { header: 'Matched by', cell: (d) => d.matchedBy },
          { header: 'Principal', cell: (d) => d.principal },
          { header: 'Retro', cell: (d) => (d.retro ? 'yes' : 'no') },
        ]}
      />
    </Screen>
  );
}
