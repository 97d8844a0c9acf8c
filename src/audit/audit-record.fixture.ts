import type { AuditRecord } from './audit-chain';

/** One audit record with every field set, for the unit specs of the chain and the SIEM formats. */
export const AUDIT_RECORD: AuditRecord = {
  id: '00000000-0000-4000-8000-000000000001',
  sequence: 1,
  timestamp: '2025-01-02T03:04:05.678Z',
  actorType: 'user',
  actorId: '00000000-0000-4000-8000-0000000000aa',
  actorName: 'admin',
  action: 'user.create',
  entityType: 'user',
  entityName: 'jane',
  operation: 'create',
  outcome: 'success',
  oldValue: null,
  newValue: { username: 'jane', role: 'Analyst' },
  ip: '127.0.0.1',
  userAgent: 'jest',
  requestId: 'req-1',
  hash: 'ab'.repeat(32),
};
