import { SIEM_FORMAT_NAMES, SIEM_FORMATS, toCef, toJson } from './siem-formats';
import { missingColumns, SiemTarget, targetColumns, targetFromColumns } from './siem-target';
import type { AuditRecord } from '../audit/audit-chain';

const targets: SiemTarget[] = [
  { type: 'webhook', url: 'https://siem.example.org/x', secret: 's' },
  { type: 'syslog', transport: 'udp', host: '127.0.0.1', port: 514, format: 'json' },
  { type: 'syslog', transport: 'relp', host: '127.0.0.1', port: 2514, format: 'cef' },
  {
    type: 'syslog',
    transport: 'tls',
    host: 'siem.example.org',
    port: 6514,
    format: 'cef',
    tlsInsecure: true,
    caCert: null,
  },
];

describe('SIEM target columns', () => {
  it.each(targets)('round-trips a $type/$transport target through its columns', (t) => {
    const columns = targetColumns(t);
    expect(missingColumns(columns)).toEqual([]);
    expect(targetFromColumns(columns)).toEqual(t);
  });

  it('leaves the other type’s columns null and drops TLS options off TLS', () => {
    expect(targetColumns(targets[0])).toMatchObject({ transport: null, format: null });
    expect(targetColumns(targets[1])).toMatchObject({ url: null, tlsInsecure: false });
  });

  it('names what an incomplete row lacks', () => {
    const columns = { ...targetColumns(targets[1]), host: null, format: null };
    expect(missingColumns(columns)).toEqual(['host', 'format']);
    expect(() => targetFromColumns(columns)).toThrow('syslog target lacks host, format');
  });
});

describe('SIEM format table', () => {
  it('lists every format by name and encodes with its formatter', () => {
    expect(SIEM_FORMAT_NAMES).toEqual(['cef', 'json']);
    const record = {
      sequence: 1,
      timestamp: '2025-01-01T00:00:00.000Z',
      action: 'user.create',
      outcome: 'success',
    } as AuditRecord;
    expect(SIEM_FORMATS.cef.encode(record, '9.9')).toBe(toCef(record, '9.9'));
    expect(SIEM_FORMATS.json.encode(record)).toBe(toJson(record));
  });
});
