/**
 * Downloads a bundle from an OPA-style bundle server: one GET with an optional bearer token and
 * `If-None-Match` (a 304 answer means the bundle is unchanged), the body read up to a size
 * limit so a server cannot fill the disk or memory. Every failure is a `BundleDownloadError`
 * whose message is one line saying what went wrong and what to do.
 */
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { messageOf } from '../api/errors';

/** The one error type of a download; its message is a single line fit to print as is. */
export class BundleDownloadError extends Error {
  override readonly name = 'BundleDownloadError';
}

/** One GET of a bundle: where from, the credential and cached ETag to send, and the limits. */
export interface DownloadRequest {
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** Sent as `If-None-Match`: the ETag of the copy the caller has. */
  readonly etag?: string | undefined;
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** How long the whole download may take. */
  readonly timeoutMs: number;
}

/** What the server answered: unchanged since `etag` (HTTP 304), or a fresh bundle. */
export type Download =
  | { readonly kind: 'not-modified'; readonly etag: string | undefined }
  | { readonly kind: 'bundle'; readonly bytes: Buffer; readonly etag: string | undefined };

/** The URL, checked: http or https only, with no credentials in it. */
export function bundleUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BundleDownloadError(
      `${JSON.stringify(text)} is not a URL: expected e.g. https://bundles.example.com/authz/bundle.tar.gz`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BundleDownloadError(`${url.href} must be an http:// or https:// URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new BundleDownloadError(
      'the bundle URL holds a user name or password: pass a token with --bundle-token instead',
    );
  }
  return url;
}

/** A URL fit for messages: no query string, which may hold a signed token. */
export function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function refusal(url: URL, status: number): BundleDownloadError {
  const where = shown(url);
  if (status === 401 || status === 403) {
    return new BundleDownloadError(
      `the bundle server refused the download of ${where} (HTTP ${status}): pass its bearer token with --bundle-token (or $VERDICT_BUNDLE_TOKEN)`,
    );
  }
  if (status === 404) {
    return new BundleDownloadError(`no bundle at ${where} (HTTP 404): check the URL`);
  }
  return new BundleDownloadError(
    `the bundle server answered HTTP ${status} for ${where}; try again later or ask its operator`,
  );
}

function tooLarge(url: URL, maxBytes: number): BundleDownloadError {
  return new BundleDownloadError(
    `the bundle at ${shown(url)} is larger than ${maxBytes} bytes: raise --max-bytes if it should be accepted`,
  );
}

/** The cause of a failed fetch, e.g. ECONNREFUSED, when Node gives one. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : messageOf(cause ?? err);
}

async function readLimited(response: Response, url: URL, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(url, maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (response.body === null) return Buffer.alloc(0);
  const reader = (response.body as NodeReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(url, maxBytes);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/**
 * Fetches the bundle at `request.url`; throws `BundleDownloadError` for a bad URL, a
 * refusal, a timeout, a body over `maxBytes` or an unreachable server.
 */
export async function downloadBundle(request: DownloadRequest): Promise<Download> {
  const url = bundleUrl(request.url);
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const response = await fetch(url, {
      headers: {
        accept: 'application/gzip, application/octet-stream, */*',
        ...(request.token === undefined ? {} : { authorization: `Bearer ${request.token}` }),
        ...(request.etag === undefined ? {} : { 'if-none-match': request.etag }),
      },
      signal,
    });
    const etag = response.headers.get('etag') ?? undefined;
    if (response.status === 304) {
      await response.body?.cancel();
      return { kind: 'not-modified', etag: etag ?? request.etag };
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw refusal(url, response.status);
    }
    return { kind: 'bundle', bytes: await readLimited(response, url, request.maxBytes), etag };
  } catch (err) {
    if (err instanceof BundleDownloadError) throw err;
    if ((err as { name?: unknown }).name === 'TimeoutError') {
      throw new BundleDownloadError(
        `the download of ${shown(url)} did not finish within ${request.timeoutMs / 1000} s`,
      );
    }
    throw new BundleDownloadError(
      `cannot download ${shown(url)} (${networkReason(err)}): check the URL and that the bundle server is up`,
    );
  }
}
