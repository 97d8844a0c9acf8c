import { Readable } from 'node:stream';
import { parseCsvFeed, DEFAULT_CSV } from './csv-feed';
import { FeedItem } from './feed-item';
import { jsonMembers } from './json-members';
import { mispEventItems, mispManifestEvents } from './misp-feed';
import { parseStixBundle } from './stix21-feed';
import { parseTextFeed } from './text-feed';

/** A body delivered in chunks of `size` bytes, so every parser meets split tokens. */
function chunked(text: string, size = 7): AsyncIterable<Buffer> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const entries = (items: FeedItem[]) => items.flatMap((i) => (i.kind === 'entry' ? [i.entry] : []));

describe('text feeds', () => {
  it('yields one entry per line, skipping blanks and # / ; comments, CRLF or LF', async () => {
    const body =
      '\uFEFF# abuse list, generated 2026-11-27\r\n198.51.100.7\r\n\r\n; old\n  evil.example  \nhttp://x.example/a\n2001:db8::1';
    expect(entries(await collect(parseTextFeed(chunked(body, 3))))).toEqual([
      { indicator: '198.51.100.7' },
      { indicator: 'evil.example' },
      { indicator: 'http://x.example/a' },
      { indicator: '2001:db8::1' },
    ]);
  });

  it('decodes UTF-8 split across chunks', async () => {
    const items = await collect(parseTextFeed(chunked('bücher.example\n', 2)));
    expect(entries(items)).toEqual([{ indicator: 'bücher.example' }]);
  });

  it('refuses a line longer than 64 KiB', async () => {
    await expect(collect(parseTextFeed(chunked('a'.repeat(70_000), 4096)))).rejects.toThrow(
      /a line is longer than 65536 bytes/,
    );
  });
});

describe('csv feeds (RFC 4180)', () => {
  const sample = [
    '# exported by a vendor portal',
    'indicator,kind,"threat, actor",tags,note',
    '198.51.100.7,ip,"APT ""Bear""",botnet;c2,"line one',
    'line two"',
    'evil.example,domain,,phishing,',
    'short',
    ',domain,x,,',
  ].join('\r\n');

  it('maps columns by header name: quoted fields, doubled quotes, embedded newlines', async () => {
    const items = await collect(
      parseCsvFeed(chunked(sample, 5), {
        ...DEFAULT_CSV,
        valueColumn: 'indicator',
        typeColumn: 'kind',
        tagsColumn: 'tags',
        contextColumns: { actor: 'threat, actor', note: 4 },
      }),
    );
    expect(items).toEqual([
      {
        kind: 'entry',
        entry: {
          indicator: '198.51.100.7',
          type: 'ip',
          context: { actor: 'APT "Bear"', note: 'line one\r\nline two' },
          tags: ['botnet', 'c2'],
        },
      },
      {
        kind: 'entry',
        entry: { indicator: 'evil.example', type: 'domain', context: {}, tags: ['phishing'] },
      },
      { kind: 'entry', entry: { indicator: 'short', context: {} } },
      { kind: 'rejected', indicator: null, reason: 'record 5 has no value in column 0' },
    ]);
  });

  it('reads headerless files by index with another delimiter', async () => {
    const items = await collect(
      parseCsvFeed(chunked('1.2.3.4;a\n"5.6.7.8";b\n'), {
        ...DEFAULT_CSV,
        header: false,
        delimiter: ';',
        valueColumn: 0,
        contextColumns: { source: 1 },
      }),
    );
    expect(entries(items)).toEqual([
      { indicator: '1.2.3.4', context: { source: 'a' } },
      { indicator: '5.6.7.8', context: { source: 'b' } },
    ]);
  });

  it('fails when a named column is not in the header', async () => {
    await expect(
      collect(
        parseCsvFeed(chunked('value,x\n1.2.3.4,y\n'), { ...DEFAULT_CSV, valueColumn: 'ioc' }),
      ),
    ).rejects.toThrow(
      'csv.valueColumn names column "ioc", which the header does not have (columns: value, x)',
    );
  });

  it('fails on an unclosed quote (a body cut short)', async () => {
    await expect(collect(parseCsvFeed(chunked('v\n"1.2.3.4\n'), DEFAULT_CSV))).rejects.toThrow(
      /^CSV: .*quote/i,
    );
  });
});

describe('streamed JSON members', () => {
  it('hands out each item of the array member and keeps the scalar members', async () => {
    let scalars: Record<string, unknown> = {};
    const body = JSON.stringify({
      type: 'bundle',
      id: 'bundle--1',
      extra: { objects: [1], s: ']}"' },
      objects: [{ a: 1, s: 'x}]"\\' }, { b: [2, { c: 3 }] }],
      more: true,
      next: 'p2',
    });
    const items = await collect(jsonMembers(chunked(body, 3), 'objects', (s) => (scalars = s)));
    expect(items).toEqual([{ a: 1, s: 'x}]"\\' }, { b: [2, { c: 3 }] }]);
    expect(scalars).toEqual({
      type: 'bundle',
      id: 'bundle--1',
      extra: null,
      objects: null,
      more: true,
      next: 'p2',
    });
  });

  it('fails on a body cut short, naming how far it got', async () => {
    const body = JSON.stringify({ objects: [{ a: 1 }, { b: 2 }] }).slice(0, -8);
    await expect(collect(jsonMembers(chunked(body), 'objects'))).rejects.toThrow(
      /ended at byte \d+ before the JSON object was complete \(after 1 items\)/,
    );
  });

  it('fails on what is not a JSON object', async () => {
    await expect(collect(jsonMembers(chunked('[1,2]'), 'objects'))).rejects.toThrow(
      /not a JSON object/,
    );
    await expect(collect(jsonMembers(chunked(''), 'objects'))).rejects.toThrow(/body is empty/);
    await expect(collect(jsonMembers(chunked('{"objects":[1]}'), 'objects'))).rejects.toThrow(
      /each item of "objects" must be a JSON object/,
    );
  });
});

describe('stix21 bundles', () => {
  const bundle = {
    type: 'bundle',
    id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
    objects: [
      { type: 'identity', id: 'identity--1', name: 'ACME CERT' },
      {
        type: 'indicator',
        spec_version: '2.1',
        id: 'indicator--a1',
        name: 'C2 servers',
        description: 'Seen in campaign X',
        indicator_types: ['malicious-activity'],
        labels: ['c2'],
        pattern_type: 'stix',
        pattern: "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'c2.example']",
        valid_from: '2026-11-01T00:00:00Z',
        valid_until: '2027-01-01T00:00:00Z',
        confidence: 80,
      },
      {
        type: 'indicator',
        id: 'indicator--a2',
        pattern_type: 'stix',
        pattern: "[domain-name:value = 'x.example' AND url:value = 'x.example/a']",
        valid_from: '2026-11-01T00:00:00Z',
      },
      {
        type: 'indicator',
        id: 'indicator--a3',
        pattern_type: 'stix',
        revoked: true,
        pattern: "[url:value = 'http://old.example/']",
        valid_from: '2026-11-01T00:00:00Z',
      },
      { type: 'indicator', id: 'indicator--a4', pattern_type: 'sigma', pattern: 'title: x' },
    ],
  };

  it('yields one entry per comparison, rejections with reasons, removals for revoked', async () => {
    const items = await collect(parseStixBundle(chunked(JSON.stringify(bundle), 11)));
    const context = {
      stixId: 'indicator--a1',
      name: 'C2 servers',
      description: 'Seen in campaign X',
      indicator_types: ['malicious-activity'],
      labels: ['c2'],
    };
    const common = {
      context,
      confidence: 80,
      expiresAt: '2027-01-01T00:00:00Z',
      firstSeen: '2026-11-01T00:00:00Z',
    };
    expect(items).toEqual([
      { kind: 'entry', entry: { indicator: '198.51.100.7', type: 'ip', ...common } },
      { kind: 'entry', entry: { indicator: 'c2.example', type: 'domain', ...common } },
      {
        kind: 'rejected',
        indicator: "[domain-name:value = 'x.example' AND url:value = 'x.example/a']",
        reason: 'AND is not supported (only OR)',
      },
      { kind: 'removal', indicator: 'http://old.example/', type: 'url' },
      {
        kind: 'rejected',
        indicator: 'indicator--a4',
        reason: 'pattern_type "sigma" is not supported (only "stix")',
      },
    ]);
  });
});

describe('misp feeds', () => {
  it('lists manifest events oldest first, ignoring keys that are not event uuids', () => {
    expect(
      mispManifestEvents({
        'b1a2c3d4-0000-4000-8000-000000000002': { info: 'b', timestamp: '1700000200' },
        'A1A2C3D4-0000-4000-8000-000000000001': { info: 'a', timestamp: 1700000100 },
        meta: { x: 1 },
      }),
    ).toEqual([
      { uuid: 'a1a2c3d4-0000-4000-8000-000000000001', timestamp: 1700000100 },
      { uuid: 'b1a2c3d4-0000-4000-8000-000000000002', timestamp: 1700000200 },
    ]);
    expect(() => mispManifestEvents([])).toThrow('manifest.json is not a JSON object');
  });

  it('maps to_ids attributes of the supported types; deleted ones are removals', () => {
    const event = {
      Event: {
        uuid: '5e1b0c1a-0000-4000-8000-00000000000a',
        info: 'Phishing wave',
        timestamp: '1700000100',
        Attribute: [
          {
            type: 'ip-dst|port',
            value: '203.0.113.5|443',
            to_ids: true,
            category: 'Network activity',
            comment: 'C2',
          },
          {
            type: 'domain',
            value: 'phish.example',
            to_ids: true,
            category: 'Network activity',
            comment: '',
          },
          { type: 'domain', value: 'benign.example', to_ids: false, category: 'Network activity' },
          { type: 'sha256', value: 'c'.repeat(64), to_ids: true, deleted: true },
          { type: 'filename', value: 'x.exe', to_ids: true },
        ],
        Object: [
          {
            name: 'file',
            Attribute: [
              { type: 'md5', value: 'd'.repeat(32), to_ids: true, category: 'Payload delivery' },
            ],
          },
        ],
      },
    };
    const ctx = { mispEvent: '5e1b0c1a-0000-4000-8000-00000000000a', info: 'Phishing wave' };
    expect(mispEventItems(event)).toEqual([
      {
        kind: 'entry',
        entry: {
          indicator: '203.0.113.5',
          type: 'ip',
          context: { ...ctx, category: 'Network activity', comment: 'C2' },
        },
      },
      {
        kind: 'entry',
        entry: {
          indicator: 'phish.example',
          type: 'domain',
          context: { ...ctx, category: 'Network activity' },
        },
      },
      { kind: 'removal', indicator: 'c'.repeat(64), type: 'sha256' },
      {
        kind: 'entry',
        entry: {
          indicator: 'd'.repeat(32),
          type: 'md5',
          context: { ...ctx, category: 'Payload delivery' },
        },
      },
    ]);
    expect(() => mispEventItems({ event: {} })).toThrow('the event file has no "Event" object');
  });
});
