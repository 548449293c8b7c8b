/**
 * Requests Node's HTTP parser refuses before Express sees them (a method it does not know,
 * a malformed request line or header, headers over the size limit, a request that took too
 * long to arrive) still get a problem+json answer, not Node's bare status line; then the
 * connection closes, since the rest of what the client sent cannot be trusted.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { VerdictError } from '../errors';
import { problemContentType, problemType } from './problem';

function refusalOf(err: NodeJS.ErrnoException): VerdictError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new VerdictError(
        'headers_too_large',
        'The request headers are larger than this server accepts.',
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new VerdictError(
        'request_timeout',
        'The request did not arrive in time; send it again.',
      );
    case 'HPE_INVALID_METHOD':
      return new VerdictError('bad_request', 'The request method is not one HTTP defines.');
    default:
      return new VerdictError('bad_request', 'The request is not well-formed HTTP/1.1.');
  }
}

/** The raw HTTP response for a request the parser refused. */
export function clientErrorResponse(err: NodeJS.ErrnoException): string {
  const error = refusalOf(err);
  const body = JSON.stringify({
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
  });
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    `Content-Type: ${problemContentType}; charset=utf-8`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** The `clientError` listener of the HTTP server. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A peer that reset the connection, or a socket already closing, takes no answer.
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorResponse(err));
}
