import uPlot from 'uplot';
import { useEffect, useRef, useState } from 'preact/hooks';
import { all, feedsByName, get, type SiemIntegration, type SupplierStatistics } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, Screen, Table, fmtDate, useLoad } from '../ui';

/** The console's names for the API's windows (GET /statistics/detections?range=). */
const RANGES = { '24 h': '24h', '7 d': '7d', '30 d': '30d' } as const;
type Range = keyof typeof RANGES;

interface Series {
  times: number[];
  counts: number[];
  total: number;
}

interface Timeline {
  bucketSeconds: number;
  buckets: Array<{ start: string; detections: number }>;
}

/** One request: the server counts the events per bucket (along its index on time). */
async function detectionSeries(range: Range): Promise<Series> {
  const t = await get<Timeline>('/statistics/detections', { range: RANGES[range] });
  const counts = t.buckets.map((b) => b.detections);
  return {
    times: t.buckets.map((b) => Date.parse(b.start) / 1000),
    counts,
    total: counts.reduce((a, b) => a + b, 0),
  };
}

function Chart({ series, range }: { series: Series; range: Range }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(260, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        legend: { show: false },
        cursor: { show: false },
        series: [{}, { label: 'Detections', stroke: '#1d4ed8', fill: 'rgba(29,78,216,0.15)', width: 2 }],
        axes: [{ stroke: '#1f2937' }, { stroke: '#1f2937' }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      },
      [series.times, series.counts],
      el,
    );
    const onResize = () => plot.setSize({ width: width(), height: 220 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    };
  }, [series]);
  const peak = Math.max(0, ...series.counts);
  const peakAt = series.times[series.counts.indexOf(peak)];
  const summary = `${series.total} detections in the last ${range}${peak && peakAt ? `, at most ${peak} in one interval (from ${fmtDate(new Date(peakAt * 1000).toISOString())})` : ''}.`;
  return (
    <>
      <p>{summary}</p>
      <div ref={box} class="chart" role="img" aria-label={`Chart of detections over time. ${summary}`} />
      <details>
        <summary>Detections over time as a table</summary>
        <Table
          caption="Detections per interval"
          rows={series.times.map((t, i) => ({ t, c: series.counts[i] ?? 0 }))}
          rowKey={(r) => String(r.t)}
          columns={[
            { header: 'From', cell: (r) => fmtDate(new Date(r.t * 1000).toISOString()) },
            { header: 'Detections', cell: (r) => r.c },
          ]}
        />
      </details>
    </>
  );
}

function DetectionsOverTime() {
  const [range, setRange] = useState<Range>('24 h');
  const { data, error } = useLoad(() => detectionSeries(range), [range]);
  return (
    <section aria-labelledby="h-over-time">
      <h2 id="h-over-time">Detections over time</h2>
      <div class="actions" role="group" aria-label="Time range">
        {(Object.keys(RANGES) as Range[]).map((r) => (
          <button type="button" key={r} aria-pressed={r === range} onClick={() => setRange(r)}>
            {r}
          </button>
        ))}
      </div>
      <ErrorAlert error={error} />
      {data ? <Chart series={data} range={range} /> : !error && <p>Loading…</p>}
    </section>
  );
}

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;

function Statistics() {
  const { data, error } = useLoad(() => get<{ items: SupplierStatistics[] }>('/statistics/suppliers'), []);
  const items = data?.items ?? [];
  const top = [...items].sort((a, b) => b.hits - a.hits).slice(0, 10);
  const overlaps = items
    .flatMap((s) => s.overlap.filter((o) => o.indicators > 0 && s.supplier < o.supplier).map((o) => ({ a: s.supplier, b: o.supplier, n: o.indicators })))
    .sort((x, y) => y.n - x.n)
    .slice(0, 20);
  return (
    <>
      <section aria-labelledby="h-top">
        <h2 id="h-top">Top suppliers</h2>
        <ErrorAlert error={error} />
        <Table
          caption="Top suppliers by hits"
          rows={top}
          rowKey={(s) => s.supplier}
          columns={[
            { header: 'Supplier', cell: (s) => s.supplier },
            { header: 'Hits', cell: (s) => s.hits },
            { header: 'Hit in 24 h', cell: (s) => s.hitLast24h },
            { header: 'Hit in 7 d', cell: (s) => s.hitLast7d },
            { header: 'Hit in 30 d', cell: (s) => s.hitLast30d },
          ]}
        />
      </section>
      <section aria-labelledby="h-never">
        <h2 id="h-never">Never hit</h2>
        <Table
          caption="Share of each supplier's indicators never hit"
          rows={items}
          rowKey={(s) => s.supplier}
          columns={[
            { header: 'Supplier', cell: (s) => s.supplier },
            { header: 'Indicators', cell: (s) => s.indicators },
            { header: 'Never hit', cell: (s) => pct(s.neverHitShare) },
          ]}
        />
      </section>
      <section aria-labelledby="h-overlap">
        <h2 id="h-overlap">Supplier overlap</h2>
        <Table
          caption="Indicators two suppliers have in common"
          rows={overlaps}
          rowKey={(o) => `${o.a}|${o.b}`}
          columns={[
            { header: 'Supplier', cell: (o) => o.a },
            { header: 'Other supplier', cell: (o) => o.b },
            { header: 'Indicators in common', cell: (o) => o.n },
          ]}
        />
      </section>
    </>
  );
}

function FeedHealth() {
  const { data, error } = useLoad(async () => [...(await feedsByName()).values()].map((feed) => ({ name: feed.supplier, feed })), []);
  return (
    <section aria-labelledby="h-feeds">
      <h2 id="h-feeds">Feed health</h2>
      <ErrorAlert error={error} />
      {data?.length === 0 && <p>No supplier has a feed yet.</p>}
      {data && data.length > 0 && (
        <Table
          caption="Feeds and their last runs"
          rows={data}
          rowKey={(r) => r.name}
          columns={[
            { header: 'Supplier', cell: (r) => <a href={`/console/suppliers/${encodeURIComponent(r.name)}`}>{r.name}</a> },
            { header: 'State', cell: (r) => (r.feed.enabled ? r.feed.state : 'disabled') },
            { header: 'Last outcome', cell: (r) => r.feed.lastOutcome ?? '—' },
            { header: 'Last success', cell: (r) => fmtDate(r.feed.lastSuccessAt) },
            { header: 'Last error', cell: (r) => r.feed.lastError ?? '—' },
          ]}
        />
      )}
    </section>
  );
}

function SiemBacklog() {
  const { data, error } = useLoad(() => all<SiemIntegration>('/siem-integrations', {}, 1000), []);
  return (
    <section aria-labelledby="h-siem">
      <h2 id="h-siem">SIEM backlog</h2>
      <ErrorAlert error={error} />
      {data && (
        <Table
          caption="SIEM integrations and what they have not delivered yet"
          rows={data}
          rowKey={(s) => s.id}
          columns={[
            { header: 'Name', cell: (s) => s.name },
            { header: 'Status', cell: (s) => (s.enabled ? (s.lastError ? 'failing' : 'delivering') : 'disabled') },
            { header: 'Audit backlog', cell: (s) => s.backlog },
            { header: 'Detection backlog', cell: (s) => s.detectionBacklog },
            { header: 'Last delivered', cell: (s) => fmtDate(s.lastDeliveredAt) },
          ]}
        />
      )}
    </section>
  );
}

export function Dashboard() {
  const { can, me } = useAuth();
  const any = can('detections.read') || can('suppliers.read') || can('siem.manage');
  return (
    <Screen title="Dashboard">
      {!any && <p>Signed in as {me.name}. Your role gives you no dashboard sections; use the links above.</p>}
      {can('detections.read') && <DetectionsOverTime />}
      {can('detections.read') && <Statistics />}
      {can('suppliers.read') && <FeedHealth />}
      {can('siem.manage') && <SiemBacklog />}
    </Screen>
  );
}
