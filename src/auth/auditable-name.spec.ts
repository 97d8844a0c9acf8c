import { createHash } from 'node:crypto';
import { auditableName } from './auditable-name';
import { newAccessToken, newClientId, newClientSecret } from './client-credentials';

const fingerprint = (s: string): string =>
  `sha256:${createHash('sha256').update(s).digest('hex').slice(0, 8)}`;

describe('auditableName', () => {
  it.each(['admin', 'jane.doe', 'ops@example.org', 'a-b_c', newClientId()])(
    'keeps %j: it matches the username or client-id grammar',
    (name) => {
      expect(auditableName(name)).toBe(name);
    },
  );

  it.each([
    ['a client secret', newClientSecret()],
    ['an access token', newAccessToken()],
    ['a short secret-prefixed value', 'inds_x'],
    ['a password in the username field', 'hunter2!Correct horse'],
    ['too long', 'a'.repeat(65)],
    ['too short', 'ab'],
    ['control characters', 'adm\u001bin'],
    ['a NUL', 'a\u0000b'],
    ['non-ASCII', 'jöhn'],
    ['empty', ''],
  ])('fingerprints %s', (_what, name) => {
    const shown = auditableName(name);
    expect(shown).toBe(fingerprint(name));
    expect(shown).toMatch(/^sha256:[0-9a-f]{8}$/);
  });
});
