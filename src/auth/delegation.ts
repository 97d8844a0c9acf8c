import { ForbiddenException, Injectable } from '@nestjs/common';
import type { AuditContext } from '../audit/audit-context';
import { AuditService, type AuditEntry } from '../audit/audit.service';
import type { Principal } from './principal';
import type { Privilege } from './privileges';

/** A role as delegation sees it: its name and what it grants. */
interface RoleGrant {
  name: string;
  privileges: ReadonlyArray<Privilege>;
}

/**
 * One administrative act, described by what it touches (docs/security.md, "Delegation"):
 * - `target`: the user or API client acted on (update, rotate, reset, delete, deactivate),
 *   with the role it holds now;
 * - `grants`: a role given to a principal (create, role change) or a role's new privileges
 *   (role create/update);
 * - `edits`: a role changed or deleted, as it is now.
 */
export interface DelegatedAct {
  entityType: 'user' | 'api_client' | 'role';
  entityName: string;
  target?: { type: Principal['type']; id: string; role: RoleGrant };
  grants?: RoleGrant;
  edits?: RoleGrant;
}

/** @internal exported for tests */
export interface DelegationDenial {
  reason: string;
  missing: Privilege[];
}

/** The privileges of `wanted` the actor does not hold, sorted. */
function lacking(
  actor: Pick<Principal, 'privileges'>,
  wanted: ReadonlyArray<Privilege>,
): Privilege[] {
  return [...new Set(wanted)].filter((p) => !actor.privileges.has(p)).sort();
}

/**
 * The delegation rule, the one place it is decided: a principal may only grant, assign or
 * create what it holds itself, may not act on a principal (or role) holding more than it
 * does, never changes its own role and never edits the role it holds. Holding every
 * privilege (Administrator) passes every subset test. Null: allowed.
 * @internal exported for tests
 */
export function delegationDenial(
  actor: Pick<Principal, 'type' | 'id' | 'role' | 'privileges'>,
  act: DelegatedAct,
): DelegationDenial | null {
  const { target, grants, edits } = act;
  const self = target !== undefined && target.type === actor.type && target.id === actor.id;
  if (self && grants && grants.name !== target.role.name) {
    return { reason: 'Nobody can change their own role', missing: [] };
  }
  if (edits && edits.name === actor.role) {
    return { reason: `Role "${edits.name}" is your own role: you cannot change it`, missing: [] };
  }
  const checks: Array<[RoleGrant | undefined, (missing: string) => string]> = [
    [
      target?.role,
      (m) => `${principalLabel(act)} holds privileges you do not: ${m}; you cannot act on it`,
    ],
    [edits, (m) => `Role "${edits?.name}" holds privileges you do not: ${m}; you cannot change it`],
    [
      grants,
      (m) =>
        act.entityType === 'role'
          ? `You cannot grant privileges you do not hold: ${m}`
          : `Role "${grants?.name}" holds privileges you do not: ${m}; you cannot assign it`,
    ],
  ];
  for (const [role, message] of checks) {
    const missing = role ? lacking(actor, role.privileges) : [];
    if (missing.length > 0) return { reason: message(missing.join(', ')), missing };
  }
  return null;
}

function principalLabel(act: DelegatedAct): string {
  return `${act.entityType === 'user' ? 'User' : 'API client'} "${act.entityName}"`;
}

/** 403 for an act the delegation rule forbids; carries its audit record. */
class DelegationDeniedException extends ForbiddenException {
  constructor(
    readonly denial: DelegationDenial,
    readonly act: DelegatedAct,
  ) {
    super(denial.reason);
  }

  get auditEntry(): AuditEntry {
    return {
      action: 'access.denied',
      entityType: this.act.entityType,
      entityName: this.act.entityName,
      operation: 'access',
      outcome: 'denied',
      newValue: { reason: this.denial.reason, missingPrivileges: this.denial.missing },
    };
  }
}

/**
 * Enforces the delegation rule for the services that manage users, roles and API clients:
 * `check` inside their transaction (where the target and roles were read), `guard` around
 * it, so a refusal is audited as `access.denied` after the rollback — in a transaction of
 * its own, which the embedded database could not run while the refused one is open.
 */
@Injectable()
export class Delegation {
  constructor(private readonly audit: AuditService) {}

  /** Throws DelegationDeniedException when `actor` may not do `act`. */
  check(actor: Principal, act: DelegatedAct): void {
    const denial = delegationDenial(actor, act);
    if (denial) throw new DelegationDeniedException(denial, act);
  }

  async guard<T>(ctx: AuditContext, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (e instanceof DelegationDeniedException) await this.audit.recordEvent(ctx, e.auditEntry);
      throw e;
    }
  }
}
