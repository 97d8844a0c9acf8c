import type { ErrorCode } from './error-codes';

/**
 * What services, writers and runners throw when a request cannot be done: a code of the
 * registry (error-codes.ts, which gives its HTTP status) and a sentence for people. Nothing
 * below the controllers knows about HTTP; the exception filter alone turns these into
 * responses, and other callers (the feed runner) read them as values.
 */
export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  /** Per-problem items of the error body (validation messages, rejected entries). */
  readonly details?: readonly unknown[];

  constructor(message: string, details?: readonly unknown[]) {
    super(message);
    this.name = new.target.name;
    if (details && details.length > 0) this.details = details;
  }
}

/** The base of the errors of one code: the code is on the class too, so tests can walk them. */
function coded<C extends ErrorCode>(code: C) {
  abstract class Coded extends DomainError {
    static readonly code: C = code;
    readonly code: C = code;
  }
  return Coded;
}

export class ValidationError extends coded('validation_failed') {}

export class MalformedBodyError extends coded('malformed_body') {}

/** One rejected entry of a batch: its position, its value (when it had one) and why. */
export interface EntryFailure {
  index: number;
  indicator: string | null;
  reason: string;
}

/** At most this many failures are listed in the error body (a result lists all of them). */
const MAX_LISTED_FAILURES = 1_000;

/** Entries were sent but none is valid: nothing was applied. */
export class NoValidEntriesError extends coded('no_valid_entries') {
  constructor(readonly failures: readonly EntryFailure[]) {
    const cut = failures.length > MAX_LISTED_FAILURES;
    super(
      `No entry is valid (${failures.length} failed${cut ? `; the first ${MAX_LISTED_FAILURES} are listed` : ''}); nothing was applied`,
      failures.slice(0, MAX_LISTED_FAILURES),
    );
  }
}

/** A body or query names a role, supplier or tag that does not exist (the 400, not a 404). */
export class UnknownReferenceError extends coded('unknown_reference') {}

export class ForbiddenError extends coded('forbidden') {}

export class SupplierNotFoundError extends coded('supplier_not_found') {
  constructor(name: string) {
    super(`Supplier "${name}" does not exist`);
  }
}

export class TagNotFoundError extends coded('tag_not_found') {
  constructor(name: string) {
    super(`Tag "${name.toUpperCase()}" does not exist`);
  }
}

export class RoleNotFoundError extends coded('role_not_found') {
  constructor(name: string) {
    super(`Role "${name}" does not exist`);
  }
}

/** A session route called with HTTP Basic or a Bearer token: only the console has sessions. */
export class NoSessionError extends coded('not_found') {
  constructor() {
    super(
      'No session: this request did not come with a console session cookie (HTTP Basic and Bearer callers, API clients among them, have no session)',
    );
  }
}

export class UserNotFoundError extends coded('user_not_found') {
  constructor(id: string) {
    super(`User ${id} does not exist`);
  }
}

export class ApiClientNotFoundError extends coded('api_client_not_found') {
  constructor(id: string) {
    super(`API client ${id} does not exist`);
  }
}

export class FeedNotFoundError extends coded('feed_not_found') {
  constructor(supplierName: string) {
    super(`Supplier "${supplierName}" has no feed`);
  }
}

/** The same answer whether the tenant exists or only lies outside the principal's reach. */
export class TenantNotFoundError extends coded('tenant_not_found') {
  constructor() {
    super('tenant not found');
  }
}

export class TenantHasChildrenError extends coded('tenant_has_children') {
  constructor(name: string) {
    super(`Tenant "${name}" still has child tenants; delete them first`);
  }
}

export class CollectionNotFoundError extends coded('collection_not_found') {}

export class NameTakenError extends coded('name_taken') {}

export class BuiltInImmutableError extends coded('built_in_immutable') {}

export class RoleInUseError extends coded('role_in_use') {
  constructor(name: string, holders: number) {
    super(`Role "${name}" is still assigned to ${holders} principal(s); reassign them first`);
  }
}

export class LastAdministratorError extends coded('last_administrator') {
  constructor(what: string) {
    super(`The last active Administrator cannot be ${what}`);
  }
}

export class FeedRunningError extends coded('feed_running') {
  constructor(supplierName: string) {
    super(`The feed of "${supplierName}" is running`);
  }
}

export class PayloadTooLargeError extends coded('payload_too_large') {}

export class UnsupportedMediaTypeError extends coded('unsupported_media_type') {}
