/** The privilege catalogue (docs/api.md §2). Roles carry subsets of these. */
export const PRIVILEGES = {
  search: 'Look up values (GET/POST /api/v1/search)',
  'suppliers.read': 'List and read suppliers',
  'suppliers.write': 'Create, change and delete suppliers',
  'indicators.read': 'List the indicators of a supplier',
  'indicators.write': 'Upload and delete indicators',
  'tags.read': 'List and read tags',
  'tags.write': 'Create, change, delete and assign tags',
  'users.manage': 'Manage users (people) and reset their passwords',
  'roles.manage': 'Manage custom roles',
  'clients.manage': 'Manage API clients and rotate their secrets',
  'audit.read': 'Read and verify the audit log',
  'siem.manage': 'Manage SIEM integrations',
  'metrics.read': 'Read Prometheus metrics',
  'detections.read': 'Read the detection log and supplier statistics',
  'tenants.manage': 'Create and manage child tenants, and act in any descendant tenant',
} as const;

export type Privilege = keyof typeof PRIVILEGES;
export const ALL_PRIVILEGES = Object.keys(PRIVILEGES) as Privilege[];

export function isPrivilege(value: string): value is Privilege {
  return Object.prototype.hasOwnProperty.call(PRIVILEGES, value);
}
