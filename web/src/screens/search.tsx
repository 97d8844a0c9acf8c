import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { get, post, type Match, type SearchResult } from '../api';
import { ErrorAlert, Pager, Screen, Status, Table, fmtContext, onSubmit, useAction } from '../ui';

/** Values per request: well under the API's 100,000, so progress shows and bodies stay small. */
const CHUNK = 10_000;
const ROWS_PER_PAGE = 200;
/** A query this short goes in the URL (`?q=`), so it can be linked and reloading re-runs it. */
const URL_MAX_CHARS = 2000;

const linesOf = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
const matchesOf = (r: SearchResult): Match[] => (r.falsePositive ? [r.falsePositive] : r.matches);
const uniq = (xs: string[]) => [...new Set(xs)].join(', ');

export function Search() {
  const loc = useLocation();
  const q = loc.query.q ?? '';
  const [text, setText] = useState(q);
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [progress, setProgress] = useState('');
  const [pageNo, setPageNo] = useState(0);
  const runId = useRef(0);
  const { error, busy, run } = useAction();

  const search = (values: string[]) => {
    const id = ++runId.current;
    setResults(null);
    setPageNo(0);
    void run(async () => {
      if (values.length === 1) {
        const r = await get<SearchResult>('/search', { value: values[0] });
        if (id === runId.current) setResults([r]);
        return;
      }
      const out: SearchResult[] = [];
      for (let i = 0; i < values.length; i += CHUNK) {
        if (values.length > CHUNK) setProgress(`Searched ${i.toLocaleString('en')} of ${values.length.toLocaleString('en')} values…`);
        const res = await post<{ results: SearchResult[] }>('/search', { values: values.slice(i, i + CHUNK) });
        if (id !== runId.current) return;
        out.push(...res.results);
      }
      setProgress('');
      setResults(out);
    });
  };

  useEffect(() => {
    if (!q) return;
    setText(q);
    search(linesOf(q));
  }, [q]);

  const submit = onSubmit(() => {
    const values = linesOf(text);
    if (values.length === 0) return;
    const joined = values.join('\n');
    if (joined.length <= URL_MAX_CHARS && joined !== q) loc.route(`/console/search?q=${encodeURIComponent(joined)}`);
    else {
      if (q && joined !== q) loc.route('/console/search', true); // too long for the URL: not linkable
      search(values);
    }
  });

  const counts = (results ?? []).reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.result]: (acc[r.result] ?? 0) + 1 }), {});
  const pages = Math.max(1, Math.ceil((results?.length ?? 0) / ROWS_PER_PAGE));
  const rows = (results ?? []).slice(pageNo * ROWS_PER_PAGE, (pageNo + 1) * ROWS_PER_PAGE);

  return (
    <Screen title="Search">
      <form class="card" onSubmit={submit}>
        <label for="values">Values</label>
        <p id="values-help" class="hint">
          One value per line (IP addresses, networks, domains, URLs, hashes, email addresses), up to 100,000.
        </p>
        <textarea id="values" aria-describedby="values-help" rows={6} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <button type="submit" class="primary" disabled={busy}>
          Search
        </button>
      </form>
      {progress && <Status text={progress} />}
      <ErrorAlert error={error} />
      {results && (
        <section aria-labelledby="h-results">
          <h2 id="h-results">Results</h2>
          <Status text={`${results.length.toLocaleString('en')} values: ${Object.entries(counts).map(([k, n]) => `${n.toLocaleString('en')} ${k}`).join(', ')}.`} />
          <Table
            caption="Search results"
            rows={rows}
            rowKey={(_r, i) => String(pageNo * ROWS_PER_PAGE + i)}
            columns={[
              { header: 'Value', cell: (r) => <span class="mono">{show(r.value)}</span> },
              { header: 'Verdict', cell: (r) => <span class={`verdict ${r.result}`}>{r.result}</span> },
              { header: 'Type', cell: (r) => r.type ?? '—' },
              { header: 'Suppliers', cell: (r) => uniq(matchesOf(r).map((m) => (m.sharedBy ? `${m.supplier} (shared by ${m.sharedBy})` : m.supplier))) || '—' },
              {
                header: 'Context',
                cell: (r) =>
                  r.result === 'invalid'
                    ? (r.reason ?? 'invalid')
                    : matchesOf(r)
                        .map((m) => `${m.indicator} (${m.matchedBy}, confidence ${m.confidence})${Object.keys(m.context ?? {}).length ? `: ${fmtContext(m.context)}` : ''}`)
                        .join(' | ') || '—',
              },
              { header: 'Tags', cell: (r) => uniq(matchesOf(r).flatMap((m) => m.tags.map((t) => t.name))) || '—' },
            ]}
          />
          {pages > 1 && (
            <Pager
              hasPrev={pageNo > 0}
              hasNext={pageNo < pages - 1}
              onPrev={() => setPageNo((p) => p - 1)}
              onNext={() => setPageNo((p) => p + 1)}
              label={`Page ${pageNo + 1} of ${pages}`}
            />
          )}
        </section>
      )}
    </Screen>
  );
}
