import { STATUS_CODES } from 'node:http';
import type { HeaderObject, OpenAPIObject, OperationObject, ResponseObject } from '@nestjs/swagger';

/** Where the error body of docs/api.md §1 lives in the document. */
const ERROR_BODY_REF = '#/components/schemas/ErrorBody';

export const RETRY_AFTER_HEADER: Record<string, HeaderObject> = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;

/** Body limits of docs/api.md §1 where they differ from the default (uploads document their own). */
const BODY_LIMITS: Record<string, string> = { '/api/v1/search': '64 MiB' };

/**
 * Completes the document with what the request pipeline, not a handler, answers, so no
 * controller has to repeat it. Under /api the middleware of AppModule answers 406 (Accept
 * excludes JSON) and 429 (server busy) to every request, and to a request with a body 400
 * (malformed JSON), 413 (above the body limit) and 415 (not a type the route reads); health
 * and metrics are outside that pipeline. A response a handler left without a description
 * gets one here.
 */
export function documentPipelineResponses(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      if (path.startsWith('/api/')) addPipelineResponses(path, operation);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!response || '$ref' in response) continue;
        if (!response.description)
          response.description = defaultDescription(path, status, operation);
        if (Number(status) >= 400) errorsAreJson(response);
      }
      // Ascending status codes, as readers (and Swagger UI) expect them.
      operation.responses = Object.fromEntries(
        Object.entries(operation.responses).sort(([a], [b]) => a.localeCompare(b)),
      );
    }
  }
}

/**
 * The exception filter always answers JSON, even where the success response is not
 * (`@ApiProduces('text/plain')` on /metrics puts every response under that type).
 */
function errorsAreJson(response: ResponseObject): void {
  const content = response.content;
  if (!content || content['application/json']) return;
  const [first] = Object.values(content);
  response.content = { 'application/json': first };
}

function addPipelineResponses(path: string, operation: OperationObject): void {
  const add = (status: string, headers?: Record<string, HeaderObject>): void => {
    operation.responses[status] ??= {
      description: defaultDescription(path, status, operation),
      ...(headers ? { headers } : {}),
      content: { 'application/json': { schema: { $ref: ERROR_BODY_REF } } },
    } satisfies ResponseObject;
  };
  if (operation.requestBody) {
    add('400');
    add('413');
    add('415');
  }
  add('406');
  add('429', RETRY_AFTER_HEADER);
}

function defaultDescription(path: string, status: string, operation: OperationObject): string {
  switch (status) {
    case '400':
      return 'Invalid request: malformed JSON, or a field or parameter that fails validation (named in `message`)';
    case '404':
      return 'Not found';
    case '406':
      return 'The Accept header excludes application/json';
    case '409':
      return 'Conflicts with the current state';
    case '413':
      return `Request body larger than ${BODY_LIMITS[path] ?? '1 MiB'}; nothing applied`;
    case '415': {
      const content = (operation.requestBody as { content?: object } | undefined)?.content;
      const types = Object.keys(content ?? {});
      return `Unsupported Content-Type; send ${types.length > 0 ? types.join(' or ') : 'application/json'}`;
    }
    case '429':
      return 'Too many requests: the server is busy, or repeated failed logins locked the caller out';
    default:
      return STATUS_CODES[Number(status)] ?? `HTTP ${status}`;
  }
}
