import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_CODES, type ErrorCode } from './error-codes';

/** What Node's HTTP parser refused, as the code and message of the §1 error body. */
function classify(code: string | undefined): { code: ErrorCode; message: string } {
  if (code === 'HPE_HEADER_OVERFLOW')
    return {
      code: 'headers_too_large',
      message: 'The request line or headers exceed the 16 KiB limit',
    };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { code: 'request_timeout', message: 'The request was not received in time' };
  return { code: 'malformed_request', message: 'Malformed HTTP request' };
}

/**
 * Requests Node's HTTP parser refuses never reach the application (an over-long URL, broken
 * framing): without this they get a bare status line. They get the §1 error body instead.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { code, message } = classify(err.code);
    const { status } = ERROR_CODES[code];
    const requestId = randomUUID();
    const error = STATUS_CODES[status] ?? 'Error';
    const body = JSON.stringify({ statusCode: status, error, code, message, requestId });
    socket.end(
      `HTTP/1.1 ${status} ${error}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}
