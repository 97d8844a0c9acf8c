import { AsyncLocalStorage } from 'node:async_hooks';

/** The built-in root tenant (docs/tenancy.md): everything of a single-tenant deployment. */
export const DEFAULT_TENANT_ID = '00000000-0000-0000-0000-000000000001';
/** The role application statements run as: owns nothing, cannot bypass row-level security. */
export const APP_ROLE = 'indicium_app';
/**
 * The role a statement switches to (SET LOCAL ROLE) for the `shared` and `catalogue` views:
 * it may only read, and only it is subject to the policies that add other tenants' shared
 * rows, so every other statement keeps the plain own-tenant policy and its index plans.
 */
export const SHARED_READER_ROLE = 'indicium_shared_reader';

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
    readonly view: View = 'own',
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

/**
 * Which rows of other tenants a statement may read besides its own tenant's (row-level
 * security, docs/tenancy.md): none (`own`, the default); the suppliers an ancestor shares and
 * this tenant subscribed to, with their indicators and tags (`shared`: search, blocklist, TAXII,
 * statistics); every supplier an ancestor shares, subscribed or not (`catalogue`). Writes
 * only ever reach the tenant's own rows, whatever the view.
 */
export type View = 'own' | 'shared' | 'catalogue';

const scopes = new AsyncLocalStorage<Scope>();

/**
 * Utility statements, not queries: they take no snapshot, so SET TRANSACTION may still follow.
 * `view` is sent unless it is the default a new transaction starts with.
 */
function setTenant(tenant: string, view: View | undefined): string {
  const set = `SET LOCAL indicium.tenant = '${tenant}'`;
  return view === undefined || view === 'own'
    ? set
    : `${set}; SET LOCAL indicium.view = '${view}'; SET LOCAL ROLE ${SHARED_READER_ROLE}`;
}

/** Runs `fn` (and everything it starts) in `tenantId`. */
export function inTenant<T>(tenantId: string, fn: () => T): T {
  return scopes.run(new Scope(checked(tenantId), false, false), fn);
}

/**
 * Runs `fn` in the current tenant with another view of other tenants' shared rows: read paths
 * that include subscribed shared suppliers (`shared`), or the shared-supplier catalogue.
 */
export function inView<T>(view: View, fn: () => T): T {
  return scopes.run(new Scope(requireTenant(), false, false, view), fn);
}

/** The view statements run with now. */
function currentView(): View {
  return scopes.getStore()?.view ?? 'own';
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
export function ownConnectionSetup(tenant: string, view: View = 'own'): [string, string] {
  return [`SET ROLE ${APP_ROLE}`, `BEGIN READ ONLY; ${setTenant(checked(tenant), view)}`];
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
  private openView: View | undefined;

  plan(text: string): StatementPlan {
    const owner = asOwnerNow();
    const tenant = owner ? undefined : currentTenant();
    const view = owner ? undefined : currentView();
    let role: string | undefined;
    if (!this.open) {
      if (owner && this.role === 'app') role = 'RESET ROLE';
      if (!owner && this.role === 'owner') role = `SET ROLE ${APP_ROLE}`;
    } else if ((this.openTenant !== tenant || this.openView !== view) && !ENDS.test(text)) {
      // Work of another tenant inside the transaction (a tenant's creation audited in its
      // parent): the setting follows the statement's own scope, never the transaction's.
      this.openTenant = tenant;
      this.openView = view;
      let set = `${setTenant(tenant ?? '', undefined)}; SET LOCAL indicium.view = '${view ?? ''}'`;
      if (this.role === 'app') {
        const reader = view === 'shared' || view === 'catalogue';
        set += `; SET LOCAL ROLE ${reader ? SHARED_READER_ROLE : APP_ROLE}`;
      }
      return { role, before: set, wrapped: false };
    }
    if (BEGINS.test(text)) {
      this.open = true;
      this.openTenant = tenant;
      this.openView = view;
      const begin = tenant === undefined ? undefined : `${text}; ${setTenant(tenant, view)}`;
      return { role, text: begin, wrapped: false };
    }
    if (ENDS.test(text)) {
      this.open = false;
      this.openTenant = undefined;
      this.openView = undefined;
      return { role, wrapped: false };
    }
    if (this.open || tenant === undefined) return { role, wrapped: false };
    return { role, before: `BEGIN; ${setTenant(tenant, view)}`, wrapped: true };
  }

  /** The plan's role switch succeeded. */
  roleSwitched(): void {
    this.role = this.role === 'app' ? 'owner' : 'app';
  }
}
