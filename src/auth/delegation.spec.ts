import { DelegatedAct, delegationDenial } from './delegation';
import { ALL_PRIVILEGES, Privilege } from './privileges';

const role = (name: string, ...privileges: Privilege[]) => ({ name, privileges });
const ADMIN = role('Administrator', ...ALL_PRIVILEGES);
const ANALYST = role('Analyst', 'search');
const actor = (r: { name: string; privileges: Privilege[] }, id = 'actor') => ({
  type: 'user' as const,
  id,
  role: r.name,
  privileges: new Set(r.privileges),
});
const USERS = role('UserAdmins', 'users.manage', 'search');
const ROLES = role('RoleAdmins', 'roles.manage');

describe('delegationDenial', () => {
  const cases: Array<[string, ReturnType<typeof actor>, DelegatedAct, RegExp | null, Privilege[]]> =
    [
      [
        'assigns a role within its own privileges',
        actor(USERS),
        { entityType: 'user', entityName: 'u', grants: ANALYST },
        null,
        [],
      ],
      [
        'assigns a role beyond them',
        actor(USERS),
        { entityType: 'user', entityName: 'u', grants: ADMIN },
        /^Role "Administrator" holds privileges you do not: .*audit\.read.*; you cannot assign it$/,
        ALL_PRIVILEGES.filter((p) => p !== 'users.manage' && p !== 'search').sort(),
      ],
      [
        'acts on a weaker principal',
        actor(USERS),
        { entityType: 'user', entityName: 'u', target: { type: 'user', id: 'u', role: ANALYST } },
        null,
        [],
      ],
      [
        'acts on a stronger principal',
        actor(USERS),
        {
          entityType: 'api_client',
          entityName: 'ind_x',
          target: { type: 'client', id: 'c', role: role('Ops', 'users.manage', 'audit.read') },
        },
        /^API client "ind_x" holds privileges you do not: audit\.read; you cannot act on it$/,
        ['audit.read'],
      ],
      [
        'changes its own role, even to a weaker one',
        actor(USERS),
        {
          entityType: 'user',
          entityName: 'me',
          target: { type: 'user', id: 'actor', role: USERS },
          grants: ANALYST,
        },
        /^Nobody can change their own role$/,
        [],
      ],
      [
        'keeps its own role while editing itself',
        actor(USERS),
        {
          entityType: 'user',
          entityName: 'me',
          target: { type: 'user', id: 'actor', role: USERS },
          grants: USERS,
        },
        null,
        [],
      ],
      [
        'a client with the same id as a user is someone else',
        actor(USERS),
        {
          entityType: 'api_client',
          entityName: 'c',
          target: { type: 'client', id: 'actor', role: ANALYST },
          grants: ANALYST,
        },
        null,
        [],
      ],
      [
        'grants a privilege it lacks to a role',
        actor(ROLES),
        { entityType: 'role', entityName: 'R', grants: role('R', 'roles.manage', 'audit.read') },
        /^You cannot grant privileges you do not hold: audit\.read$/,
        ['audit.read'],
      ],
      [
        'edits the role it holds',
        actor(ROLES),
        { entityType: 'role', entityName: 'RoleAdmins', edits: ROLES, grants: ROLES },
        /your own role/,
        [],
      ],
      [
        'edits a role stronger than itself',
        actor(ROLES),
        { entityType: 'role', entityName: 'R', edits: role('R', 'audit.read'), grants: role('R') },
        /^Role "R" holds privileges you do not: audit\.read; you cannot change it$/,
        ['audit.read'],
      ],
      [
        'Administrator: everything',
        actor(ADMIN),
        {
          entityType: 'user',
          entityName: 'u',
          target: { type: 'user', id: 'u', role: ADMIN },
          grants: ANALYST,
        },
        null,
        [],
      ],
      [
        'Administrator: but not its own role',
        actor(ADMIN),
        {
          entityType: 'user',
          entityName: 'me',
          target: { type: 'user', id: 'actor', role: ADMIN },
          grants: ANALYST,
        },
        /own role/,
        [],
      ],
    ];

  it.each(cases)('%s', (_what, who, act, reason, missing) => {
    const denial = delegationDenial(who, act);
    if (reason === null) {
      expect(denial).toBeNull();
    } else {
      expect(denial?.reason).toMatch(reason);
      expect(denial?.missing).toEqual(missing);
    }
  });
});
