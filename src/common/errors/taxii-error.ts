/** The TAXII 2.1 media type, of every response on the TAXII routes (errors included). */
export const TAXII_ERROR_MEDIA_TYPE = 'application/taxii+json;version=2.1';

/** URLs of the TAXII 2.1 server (docs/api.md §10), whose errors take the TAXII shape. */
export function isTaxiiPath(path: string): boolean {
  return /^\/taxii2([/?]|$)/i.test(path);
}

/** A §1 error body as a TAXII 2.1 error message (TAXII 2.1 §3.6.1). */
export function taxiiErrorOf(e: {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  details?: readonly unknown[];
  requestId: string;
}): Record<string, unknown> {
  return {
    title: e.error,
    description: e.message,
    error_id: e.requestId,
    error_code: e.code,
    http_status: String(e.statusCode),
    ...(e.details ? { details: { messages: e.details } } : {}),
  };
}
