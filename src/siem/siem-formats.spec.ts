import type { AuditRecord } from '../audit/audit-chain';
import { AUDIT_RECORD } from '../audit/audit-record.fixture';
import { cefHeader, cefValue, octetCounted, toCef, toJson, toSyslog } from './siem-formats';

const record: AuditRecord = { ...AUDIT_RECORD, sequence: 42 };

const CEF =
  'CEF:0|Indicium|Indicium|1.2.3|user.create|user.create|3|rt=1735787045678 suser=admin src=127.0.0.1 ' +
  'outcome=success externalId=42 cs1Label=EntityName cs1=jane cs2Label=OldValue cs2=null ' +
  'cs3Label=NewValue cs3={"username":"jane","role":"Analyst"}';

describe('CEF', () => {
  it('formats a record byte-exact', () => {
    expect(toCef(record, '1.2.3')).toBe(CEF);
  });

  it('escapes header fields and extension values', () => {
    expect(cefHeader('a|b\\c\nd')).toBe('a\\|b\\\\c d');
    expect(cefValue('a=b\\c\nd\re|f')).toBe('a\\=b\\\\c\\nd\\re|f');
    const cef = toCef(
      {
        ...record,
        action: 'x|y',
        actorName: 'ev=il\\',
        newValue: { note: 'l1\nl2' },
        outcome: 'denied',
      },
      '1',
    );
    expect(cef).toBe(
      'CEF:0|Indicium|Indicium|1|x\\|y|x\\|y|7|rt=1735787045678 suser=ev\\=il\\\\ src=127.0.0.1 outcome=denied ' +
        'externalId=42 cs1Label=EntityName cs1=jane cs2Label=OldValue cs2=null cs3Label=NewValue cs3={"note":"l1\\\\nl2"}',
    );
  });
});

describe('RFC 5424 + RFC 6587 framing', () => {
  it('builds the syslog line with PRI from facility 13 and the outcome', () => {
    expect(toSyslog(record, 'MSG', 'host-1')).toBe(
      '<109>1 2025-01-02T03:04:05.678Z host-1 indicium - user.create - MSG',
    );
    expect(toSyslog({ ...record, outcome: 'failure' }, 'M', '')).toBe(
      '<108>1 2025-01-02T03:04:05.678Z - indicium - user.create - M',
    );
  });

  it('frames by octet count in bytes, byte-exact', () => {
    const line = toSyslog(record, toCef(record, '1.2.3'), 'host-1');
    const framed = octetCounted(line);
    const expected = `<109>1 2025-01-02T03:04:05.678Z host-1 indicium - user.create - ${CEF}`;
    expect(framed.toString('utf8')).toBe(`${Buffer.byteLength(expected)} ${expected}`);
    expect(octetCounted('é').equals(Buffer.from([0x32, 0x20, 0xc3, 0xa9]))).toBe(true);
  });

  it('JSON format carries the record', () => {
    expect(JSON.parse(toJson(record))).toEqual(record);
  });
});
