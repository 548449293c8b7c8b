/**
 * The CLI's side of the admin API: where the server is (`--server`, else VERDICT_SERVER,
 * else http://127.0.0.1:8181), the credential (`--token`, else VERDICT_ADMIN_TOKEN, else the
 * login `verdict login` stored for that server, refreshed when its access token is about to
 * expire), and one JSON request at a time. Every failure becomes an `AdminCommandError` whose
 * message is one line saying what went wrong and what to do.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { Option, type Command } from 'commander';
import { messageOf } from '../api/errors';
import { loadLogin, saveLogin, type StoredLogin } from './credentials';

export const defaultServer = 'http://127.0.0.1:8181';

/** How long one request may take before the command gives up, unless told otherwise. */
const defaultTimeoutMs = 30_000;

/** The one error type admin commands throw; its message is a single line fit to print as is. */
export class AdminCommandError extends Error {
  override readonly name = 'AdminCommandError';
}

/** Options every admin command takes. */
export interface AdminOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

/** Where a command writes its output and errors: the process streams, or a capture in tests. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Adds `--server`, `--token` and `--json` to an admin command. */
export function withAdminOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--server <url>', `Verdict server (default: $VERDICT_SERVER or ${defaultServer})`),
    )
    .option(
      '--token <token>',
      'admin token or access token (default: $VERDICT_ADMIN_TOKEN, else your `verdict login`)',
    )
    .option('--json', "print the server's JSON answer instead of text");
}

interface Problem {
  detail?: unknown;
  title?: unknown;
}

function describeProblem(status: number, body: unknown): string {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Problem;
  const text =
    typeof problem.detail === 'string'
      ? problem.detail
      : typeof problem.title === 'string'
        ? problem.title
        : `the server answered HTTP ${status}`;
  return text.replace(/\s*\n\s*/g, ' ');
}

/** A property of a thrown value; no `instanceof`, which fails for errors from another realm. */
function propertyOf(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && name in value
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** The cause of a failed fetch, e.g. ECONNREFUSED, when Node gives one. */
function networkReason(err: unknown): string {
  const cause = propertyOf(err, 'cause');
  const code = propertyOf(cause, 'code');
  if (typeof code === 'string') return code;
  const message = propertyOf(cause ?? err, 'message');
  return typeof message === 'string' && message !== '' ? message : messageOf(cause ?? err);
}

/** Refresh a stored access token this long before it expires. */
const refreshMarginMs = 30_000;

/**
 * Talks to one Verdict server's admin API with one credential, refreshing a stored login
 * as it nears expiry. The constructor throws `AdminCommandError` for a bad `--server` URL, or
 * when a credential is required and none is given or stored.
 */
export class AdminClient {
  readonly server: string;
  private token: string | undefined;
  /** The stored login the token came from, refreshed when it is about to expire. */
  private login: StoredLogin | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly timeoutMs: number;

  /** `auth: 'none'` for the requests that need no credential (logging in). */
  constructor(
    options: AdminOptions,
    env: NodeJS.ProcessEnv = process.env,
    timeoutMs = defaultTimeoutMs,
    auth: 'required' | 'none' = 'required',
  ) {
    const fromEnv = env.VERDICT_SERVER?.trim();
    const server =
      options.server ?? (fromEnv === undefined || fromEnv === '' ? defaultServer : fromEnv);
    let parsed: URL;
    try {
      parsed = new URL(server);
    } catch {
      throw new AdminCommandError(
        `--server ${JSON.stringify(server)} is not a URL: expected e.g. ${defaultServer}`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new AdminCommandError(
        `--server ${JSON.stringify(server)} must be an http:// or https:// URL`,
      );
    }
    this.server = server.replace(/\/+$/, '');
    this.env = env;
    this.timeoutMs = timeoutMs;
    const token = options.token ?? env.VERDICT_ADMIN_TOKEN?.trim();
    if (token !== undefined && token !== '') {
      this.token = token;
    } else if (auth === 'required') {
      this.login = loadLogin(env, this.server);
      if (this.login === undefined) {
        throw new AdminCommandError(
          'no admin token: pass --token or set VERDICT_ADMIN_TOKEN (the value the server runs with), or log in with `verdict login`',
        );
      }
      this.token = this.login.access_token;
    }
  }

  /** The bearer credential, after refreshing a stored login that is about to expire. */
  private async credential(): Promise<string | undefined> {
    const login = this.login;
    if (login !== undefined && login.access_expires_at - refreshMarginMs <= Date.now()) {
      const response = await this.fetch(
        'POST',
        '/v1/auth/refresh',
        {
          contentType: 'application/json',
          data: JSON.stringify({ refresh_token: login.refresh_token }),
        },
        AbortSignal.timeout(this.timeoutMs),
        false,
      );
      if (!response.ok) {
        throw new AdminCommandError(
          `your login to ${this.server} has ended (${describeProblem(response.status, await response.json().catch(() => undefined))}): run \`verdict login\` again`,
        );
      }
      const tokens = (await response.json()) as {
        access_token: string;
        refresh_token: string;
        expires_in: number;
      };
      this.login = {
        ...login,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        access_expires_at: Date.now() + tokens.expires_in * 1000,
      };
      saveLogin(this.env, this.server, this.login);
      this.token = tokens.access_token;
    }
    return this.token;
  }

  /** Sends one request; the parsed JSON answer of a 2xx, or an AdminCommandError. */
  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    return this.send(
      method,
      path,
      body === undefined
        ? undefined
        : { contentType: 'application/json', data: JSON.stringify(body) },
    );
  }

  /** Sends `data` as the body (a bundle, say) with its content type; the JSON answer. */
  async upload(
    method: string,
    path: string,
    data: Uint8Array,
    contentType: string,
  ): Promise<unknown> {
    return this.send(method, path, { contentType, data });
  }

  /**
   * GETs a body too long to hold (an export): a stream of it once the server answered 2xx.
   * The timeout covers waiting for the answer to begin, not reading the body.
   */
  async stream(path: string): Promise<Readable> {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new DOMException('timed out', 'TimeoutError'));
    }, this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetch('GET', path, undefined, controller.signal);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok || response.body === null) {
      await this.parse(response, `${this.server}${path}`);
      throw new AdminCommandError(`the server sent no body for ${path}`);
    }
    return Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
  }

  private async fetch(
    method: string,
    path: string,
    body: { contentType: string; data: string | Uint8Array } | undefined,
    signal: AbortSignal,
    authenticate = true,
  ): Promise<Response> {
    const token = authenticate ? await this.credential() : undefined;
    try {
      return await fetch(`${this.server}${path}`, {
        method,
        headers: {
          ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
          Accept: 'application/json, application/problem+json',
          ...(body === undefined ? {} : { 'Content-Type': body.contentType }),
        },
        ...(body === undefined ? {} : { body: body.data }),
        signal,
      });
    } catch (err) {
      if (propertyOf(err, 'name') === 'TimeoutError') {
        throw new AdminCommandError(
          `no answer from the Verdict server at ${this.server} within ${this.timeoutMs / 1000} s`,
        );
      }
      throw new AdminCommandError(
        `cannot reach the Verdict server at ${this.server} (${networkReason(err)}): start it with \`verdict serve\` or pass --server`,
      );
    }
  }

  private async send(
    method: string,
    path: string,
    body: { contentType: string; data: string | Uint8Array } | undefined,
  ): Promise<unknown> {
    const response = await this.fetch(method, path, body, AbortSignal.timeout(this.timeoutMs));
    return this.parse(response, `${this.server}${path}`);
  }

  /** The JSON answer of a 2xx; an AdminCommandError with the problem's detail otherwise. */
  private async parse(response: Response, url: string): Promise<unknown> {
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw new AdminCommandError(describeProblem(response.status, parsed));
    // No Content: done, nothing to say (logout, revocations).
    if (response.status === 204) return null;
    if (parsed === undefined) {
      throw new AdminCommandError(
        `unexpected answer from ${url}: HTTP ${response.status} without a JSON body; is --server a Verdict server?`,
      );
    }
    return parsed;
  }
}

/** `segment` escaped for use in a URL path. */
export function pathSegment(segment: string): string {
  return encodeURIComponent(segment);
}

/** Rows as left-aligned columns separated by two spaces, headers first. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].map((l) => `${l}\n`).join('');
}

/** Writes `value` as indented JSON, the output of `--json`. */
export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
