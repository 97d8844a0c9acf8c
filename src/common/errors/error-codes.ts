/**
 * Every `code` an error body can carry, with its HTTP status: the one registry that the
 * filter maps by, the OpenAPI document enumerates and docs/api.md tabulates (a test holds the
 * three together). A code is a stable contract for clients; its message may be reworded.
 */
export const ERROR_CODES = {
  validation_failed: {
    status: 400,
    description: 'A field, parameter or value is invalid; `message` names it',
  },
  malformed_body: {
    status: 400,
    description: 'The body is not well-formed JSON or NDJSON, or ended early',
  },
  malformed_request: { status: 400, description: 'The HTTP request itself could not be parsed' },
  no_valid_entries: {
    status: 400,
    description: 'A batch had entries but none is valid; `details` lists the failures',
  },
  unknown_reference: {
    status: 400,
    description: 'The body or query names a role, supplier or tag that does not exist',
  },
  unauthorized: {
    status: 401,
    description: 'No credentials, wrong ones, or an inactive principal',
  },
  forbidden: {
    status: 403,
    description: 'The principal may not do this (privilege, IP allow-list, delegation)',
  },
  not_found: { status: 404, description: 'No such path, or no such resource' },
  supplier_not_found: { status: 404, description: 'No supplier has this name' },
  tag_not_found: { status: 404, description: 'No tag has this name' },
  role_not_found: { status: 404, description: 'No role has this name' },
  user_not_found: { status: 404, description: 'No user has this id' },
  api_client_not_found: { status: 404, description: 'No API client has this id' },
  feed_not_found: { status: 404, description: 'The supplier has no feed' },
  tenant_not_found: {
    status: 404,
    description: 'No tenant of this name that the principal may act in (whether it exists or not)',
  },
  collection_not_found: {
    status: 404,
    description: 'No TAXII collection has this id, or it holds no such object',
  },
  method_not_allowed: { status: 405, description: 'The path exists, the method does not' },
  not_acceptable: { status: 406, description: '`Accept` rules out what the endpoint produces' },
  request_timeout: { status: 408, description: 'The request was not received in time' },
  conflict: {
    status: 409,
    description: 'Conflicts with a stored resource (same identity, or still referenced)',
  },
  name_taken: { status: 409, description: 'Another resource of this kind has the name' },
  built_in_immutable: {
    status: 409,
    description: 'A built-in supplier or role cannot be changed this way',
  },
  role_in_use: { status: 409, description: 'The role is still assigned to principals' },
  last_administrator: {
    status: 409,
    description: 'The change would leave no active Administrator',
  },
  feed_running: { status: 409, description: 'The feed is running now' },
  tenant_has_children: { status: 409, description: 'The tenant still has child tenants' },
  payload_too_large: { status: 413, description: 'The body is larger than the endpoint takes' },
  unsupported_media_type: {
    status: 415,
    description: 'The body is in a media type or encoding the endpoint does not take',
  },
  rate_limited: {
    status: 429,
    description: 'Locked out after failed logins, or at the concurrency limit; see `Retry-After`',
  },
  headers_too_large: {
    status: 431,
    description: 'The request line or headers exceed the 16 KiB limit',
  },
  internal_error: { status: 500, description: 'A fault of the server, logged with the request id' },
  bad_gateway: { status: 502, description: 'A remote receiver refused or never took a message' },
  service_unavailable: { status: 503, description: 'The service is not ready' },
  database_unavailable: { status: 503, description: 'The database does not answer' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ALL_ERROR_CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/**
 * The code of an HTTP error raised outside the domain (guards, pipes, middleware, the
 * router) that says nothing more specific: one per status the API documents.
 */
export const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
};
