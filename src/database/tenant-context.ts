import { AsyncLocalStorage } from 'node:async_hooks';

/** The built-in root tenant (docs/tenancy.md): everything of a single-tenant deployment. */
export const DEFAULT_TENANT_ID = '00000000-0000-0000-0000-000000000001';
/** The role application statements run as: owns nothing, cannot bypass row-level security. */
export const APP_ROLE = 'indicium_app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Where statements run: a tenant's id, or none (platform tables only: tenants, principal
 * names, lockouts, the search key feed). A request starts with none and gets its tenant once
 * authentication has decided it (`settle`); background work runs in the tenant of the object it
 * works on (`inTenant`); migrations run as the schema's owner (`asSchemaOwner`).
 */
class Scope {
  constructor(
    private tenantId: string | undefined,
    readonly owner: boolean,
    private readonly settleable: boolean,
  ) {}

  get tenant(): string | undefined {
    return this.tenantId;
  }

  settle(tenantId: string): void {
    if (!this.settleable || this.tenantId !== undefined)
      throw new Error('the tenant of this scope is already decided');
    this.tenantId = checked(tenantId);
  }
}

function checked(tenantId: string): string {
  if (!UUID.test(tenantId)) throw new Error(`not a tenant id: ${tenantId}`);
  return tenantId;
}

const scopes = new AsyncLocalStorage<Scope>();

/** A utility statement, not a query: it takes no snapshot, so SET TRANSACTION may still follow. */
const setTenant = (tenant: string): string => `SET LOCAL indicium.tenant = '${tenant}'`;

/** Runs `fn` (and everything it starts) in `tenantId`. */
export function inTenant<T>(tenantId: string, fn: () => T): T {
  return scopes.run(new Scope(checked(tenantId), false, false), fn);
}

/** Runs `fn` as the schema's owner (migrations, test setup): no role switch, no tenant. */
export function asSchemaOwner<T>(fn: () => T): T {
  return scopes.run(new Scope(undefined, true, false), fn);
}

/** Runs a request in a scope whose tenant authentication decides later (`settleTenant`). */
export function inRequestScope<T>(fn: () => T): T {
  return scopes.run(new Scope(undefined, false, true), fn);
}

/** Fixes the running request's tenant; once, and only inside `inRequestScope`. */
export function settleTenant(tenantId: string): void {
  const scope = scopes.getStore();
  if (!scope) throw new Error('no request scope to settle a tenant in');
  scope.settle(tenantId);
}

/** The tenant statements run in now, if any. */
export function currentTenant(): string | undefined {
  return scopes.getStore()?.tenant;
}

/** The tenant statements run in now; throws when there is none. */
export function requireTenant(): string {
  const tenant = currentTenant();
  if (tenant === undefined) throw new Error('no tenant is set for this work');
  return tenant;
}

/** Outside any scope: the application's role (false), or the owner's in a schema tool. */
let ownerByDefault = false;

/**
 * For the schema tools (the TypeORM CLI's data source): statements outside any scope run as
 * the schema's owner, as migrations must. The application never calls it.
 */
export function runAsSchemaOwnerByDefault(): void {
  ownerByDefault = true;
}

/** Whether statements run now as the schema's owner. */
function asOwnerNow(): boolean {
  return scopes.getStore()?.owner ?? ownerByDefault;
}

const BEGINS = /^\s*(?:BEGIN|START\s+TRANSACTION)\b/i;
const ENDS = /^\s*(?:COMMIT|END|ABORT|ROLLBACK(?!\s+TO\b)(?:\s+(?:WORK|TRANSACTION))?\s*(?:;|$))/i;

/**
 * For a connection of its own outside the pool (a COPY download): what to send before its one
 * statement, in order, so that it runs as the application role inside a transaction of `tenant`.
 */
export function ownConnectionSetup(tenant: string): [string, string] {
  return [`SET ROLE ${APP_ROLE}`, `BEGIN READ ONLY; ${setTenant(checked(tenant))}`];
}

/** What to send around one statement so that it runs with the right role and tenant. */
export interface StatementPlan {
  /** A role switch to send first, alone: never inside a transaction, which could undo it. */
  role?: string;
  /** A simple query to send next: BEGIN and the tenant, for a statement outside a transaction. */
  before?: string;
  /** The statement itself, rewritten: a BEGIN that also sets the tenant. */
  text?: string;
  /** The statement runs in a transaction of ours: COMMIT after it, ROLLBACK if it fails. */
  wrapped: boolean;
}

/**
 * One connection's view of its session: the role it runs as and whether a transaction is open
 * (and in which tenant). `plan` decides, per statement, what must be sent around it. The tenant
 * is set per transaction (SET LOCAL), so a connection back in the
 * pool carries none, and a statement outside a transaction gets a transaction of its own.
 * Every statement runs in its own scope's tenant, also inside a transaction opened in another.
 */
export class TenantSession {
  private role: 'owner' | 'app' = 'owner';
  private open = false;
  private openTenant: string | undefined;

  plan(text: string): StatementPlan {
    const owner = asOwnerNow();
    const tenant = owner ? undefined : currentTenant();
    let role: string | undefined;
    if (!this.open) {
      if (owner && this.role === 'app') role = 'RESET ROLE';
      if (!owner && this.role === 'owner') role = `SET ROLE ${APP_ROLE}`;
    } else if (this.openTenant !== tenant && !ENDS.test(text)) {
      // Work of another tenant inside the transaction (a tenant's creation audited in its
      // parent): the setting follows the statement's own scope, never the transaction's.
      this.openTenant = tenant;
      return { role, before: setTenant(tenant ?? ''), wrapped: false };
    }
    if (BEGINS.test(text)) {
      this.open = true;
      this.openTenant = tenant;
      const begin = tenant === undefined ? undefined : `${text}; ${setTenant(tenant)}`;
      return { role, text: begin, wrapped: false };
    }
    if (ENDS.test(text)) {
      this.open = false;
      this.openTenant = undefined;
      return { role, wrapped: false };
    }
    if (this.open || tenant === undefined) return { role, wrapped: false };
    return { role, before: `BEGIN; ${setTenant(tenant)}`, wrapped: true };
  }

  /** The plan's role switch succeeded. */
  roleSwitched(): void {
    this.role = this.role === 'app' ? 'owner' : 'app';
  }
}
