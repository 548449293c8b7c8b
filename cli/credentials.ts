/**
 * Logins the CLI remembers, per server: `$XDG_CONFIG_HOME/verdict/credentials.json` (else
 * `~/.config/verdict/...`), a folder of mode 0700 and a file of mode 0600, since the file
 * holds refresh tokens. Writes go to a temporary file renamed into place, so a crash never
 * leaves half a file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A login as `verdict login` stores it: the tokens the server issued, and for whom. */
export interface StoredLogin {
  readonly access_token: string;
  readonly refresh_token: string;
  /** When the access token expires, milliseconds since the epoch. */
  readonly access_expires_at: number;
  readonly session_id: string;
  readonly tenant?: string | undefined;
  readonly email?: string | undefined;
}

type CredentialsFile = Record<string, StoredLogin>;

/** Where logins are kept; undefined when the environment names no home folder. */
export function credentialsPath(env: NodeJS.ProcessEnv): string | undefined {
  const configHome = env.XDG_CONFIG_HOME?.trim();
  if (configHome !== undefined && configHome !== '') {
    return path.join(configHome, 'verdict', 'credentials.json');
  }
  const home = env.HOME?.trim();
  return home === undefined || home === ''
    ? undefined
    : path.join(home, '.config', 'verdict', 'credentials.json');
}

function readAll(file: string): CredentialsFile {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as CredentialsFile) : {};
  } catch {
    return {};
  }
}

function writeAll(file: string, all: CredentialsFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
  // A file made by an older version, or by hand, may have had a wider mode.
  fs.chmodSync(file, 0o600);
}

/** The login stored for `server`; undefined when there is none or the file is unreadable. */
export function loadLogin(env: NodeJS.ProcessEnv, server: string): StoredLogin | undefined {
  const file = credentialsPath(env);
  return file === undefined ? undefined : readAll(file)[server];
}

/** Stores the login for `server`; returns the file it went to. */
export function saveLogin(env: NodeJS.ProcessEnv, server: string, login: StoredLogin): string {
  const file = credentialsPath(env);
  if (file === undefined) {
    throw new Error(
      'cannot store the login: neither XDG_CONFIG_HOME nor HOME is set (use --print)',
    );
  }
  writeAll(file, { ...readAll(file), [server]: login });
  return file;
}

/** Forgets the login for `server`; false when there was none. */
export function forgetLogin(env: NodeJS.ProcessEnv, server: string): boolean {
  const file = credentialsPath(env);
  if (file === undefined) return false;
  const all = readAll(file);
  if (!(server in all)) return false;
  const { [server]: _removed, ...rest } = all;
  writeAll(file, rest);
  return true;
}

/** The folder part of `~` shown to users instead of the full home path. */
export function displayPath(file: string): string {
  const home = os.homedir();
  return file.startsWith(`${home}${path.sep}`) ? `~${file.slice(home.length)}` : file;
}
