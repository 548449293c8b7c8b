/**
 * `verdict users`, `verdict login`/`logout`, `verdict mfa` and `verdict keys
 * rotate-signing-key|rotate-data-key` against a real server on the real Postgres: the stored
 * login (mode 0600) is what later commands authenticate with, an expiring access token is
 * refreshed on the way, and key rotation runs against the database like `verdict migrate`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { start, type RunningServer } from '../../api/server';
import { base32Decode, hotp, totpStep } from '../../api/services/identity/totp';
import { AdminCommandError } from '../../cli/admin-client';
import { credentialsPath, loadLogin, saveLogin } from '../../cli/credentials';
import { runKeyRotation } from '../../cli/identity-keys';
import { runLogin, runLogout } from '../../cli/login';
import { runMfaConfirm, runMfaDisable, runMfaEnrol, runMfaRecoveryCodes } from '../../cli/mfa';
import { buildProgram } from '../../cli/main';
import { runUsersCreate, runUsersDisable, runUsersList } from '../../cli/users';
import { capture } from '../helpers/cli-io';
import { randomDataKeys } from './helpers/identity';
import {
  capturingLogger,
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(60_000);

const adminToken = 'cli-identity-admin-token-0123456789';
const password = 'velvet orchid trombone 42';
const keys = randomDataKeys();
let database: TestDatabase;
let server: RunningServer;
let home: { path: string; remove: () => void };

function serverEnv(): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    VERDICT_DATA_KEYS: keys.json,
    VERDICT_DATA_KEY_ID: keys.kid,
    VERDICT_BLIND_INDEX_KEY: keys.index,
  };
}

beforeAll(async () => {
  database = await createTestDatabase('cli_identity');
  server = await start({
    config: testConfig({ ...serverEnv(), VERDICT_ADMIN_TOKEN: adminToken }),
    logger: silentLogger,
  });
  await server.db.knex('tenants').insert({ slug: 'acme', name: 'Acme' });
  home = tempDir('cli-identity-home');
});
afterAll(async () => {
  await server.stop();
  await database.drop();
  home.remove();
});

/** An admin's environment: the bootstrap token. */
const adminEnv = (): NodeJS.ProcessEnv => ({
  VERDICT_SERVER: server.url,
  VERDICT_ADMIN_TOKEN: adminToken,
});
/** A user's environment: no admin token, logins stored under the temporary home. */
const userEnv = (): NodeJS.ProcessEnv => ({
  VERDICT_SERVER: server.url,
  XDG_CONFIG_HOME: home.path,
});

function stdinOf(text: string): NodeJS.ReadableStream {
  const stream = new PassThrough();
  stream.end(text);
  return stream;
}

/** A prompter that answers from a list and records the questions. */
function answers(...replies: string[]) {
  const asked: [string, boolean][] = [];
  return {
    asked,
    ask: (question: string, hidden = false) => {
      asked.push([question, hidden]);
      return Promise.resolve(replies.shift() ?? '');
    },
  };
}

describe('verdict users', () => {
  it('creates, lists and disables users; invites print a set-up token alone on stdout', async () => {
    const created = capture();
    await runUsersCreate(
      {
        tenant: 'acme',
        email: 'ann@acme.test',
        role: 'policy-author',
        name: 'Ann',
        passwordStdin: true,
      },
      created.io,
      adminEnv(),
      stdinOf(`${password}\n`),
    );
    expect(created.out()).toMatch(
      /^created ann@acme\.test \(policy-author\) in tenant acme, id [0-9a-f-]{36}\n$/,
    );

    const invited = capture();
    await runUsersCreate(
      { tenant: 'acme', email: 'bo@acme.test', role: 'auditor' },
      invited.io,
      adminEnv(),
    );
    expect(invited.out()).toMatch(/^vst_[A-Za-z0-9_-]{43}\n$/);
    expect(invited.err()).toMatch(/verdict login --setup-token/);

    const list = capture();
    await runUsersList({ tenant: 'acme' }, list.io, adminEnv());
    expect(list.out()).toMatch(/^ID +EMAIL +ROLE +STATUS +MFA +LAST LOGIN\n/);
    expect(list.out()).toMatch(/ann@acme\.test +policy-author +active +off +never/);
    expect(list.out()).toMatch(/bo@acme\.test +auditor +invited/);

    const platform = capture();
    await runUsersList({ platform: true }, platform.io, adminEnv());
    expect(platform.out()).toBe(
      'the platform has no users: create one with `verdict users create`\n',
    );

    const bo = /id ([0-9a-f-]{36})/.exec(invited.err())?.[1] as string;
    const disabled = capture();
    await runUsersDisable(bo, { tenant: 'acme' }, disabled.io, adminEnv());
    expect(disabled.out()).toBe(
      'disabled bo@acme.test in tenant acme; their sessions have ended\n',
    );

    await expect(runUsersList({}, capture().io, adminEnv())).rejects.toThrow(
      /--tenant <tenant>, or --platform/,
    );
    await expect(
      runUsersList({ tenant: 'acme', platform: true }, capture().io, adminEnv()),
    ).rejects.toThrow(AdminCommandError);
  });
});

describe('verdict login, mfa and logout', () => {
  it('logs in with prompts and stores the tokens with mode 0600', async () => {
    const prompter = answers('ann@acme.test', password);
    const out = capture();
    await runLogin({ tenant: 'acme' }, { io: out.io, env: userEnv(), prompter });
    expect(prompter.asked).toEqual([
      ['E-mail: ', false],
      ['Password: ', true],
    ]);
    expect(out.err()).toMatch(
      /^logged in to http:\/\/127\.0\.0\.1:\d+ as ann@acme\.test \(tenant acme\); tokens stored in /,
    );
    const file = credentialsPath(userEnv()) as string;
    expect(file).toBe(path.join(home.path, 'verdict', 'credentials.json'));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const stored = loadLogin(userEnv(), server.url);
    expect(stored?.refresh_token).toMatch(/^vrt_/);
    await server.identity.verify(stored?.access_token as string);
  });

  it('refuses a wrong password with the server’s one-line reason', async () => {
    await expect(
      runLogin(
        { tenant: 'acme', email: 'ann@acme.test' },
        { io: capture().io, env: userEnv(), prompter: answers('not the password') },
      ),
    ).rejects.toThrow('Invalid credentials: check the tenant, e-mail address and password.');
  });

  it('enrols MFA with the stored login; the next login asks for a code', async () => {
    const enrol = capture();
    await runMfaEnrol({ json: true }, enrol.io, userEnv());
    expect((JSON.parse(enrol.out()) as { secret: string }).secret).toMatch(/^[A-Z2-7]{32}$/);
    // Enrolling again before confirming starts over with a new secret, shown as a QR code.
    const shown = capture();
    await expect(runMfaEnrol({}, shown.io, userEnv())).resolves.toBeUndefined();
    const qrSecret = /secret=([A-Z2-7]+)/.exec(shown.out())?.[1] as string;
    expect(shown.out()).toContain('otpauth://totp/Verdict:ann%40acme.test');
    expect(shown.out()).toMatch(/█/);
    const confirmed = capture();
    const qrCode = hotp(base32Decode(qrSecret) as Buffer, totpStep(Date.now()));
    await runMfaConfirm(qrCode, {}, confirmed.io, userEnv());
    const recovery = confirmed.out().trim().split('\n');
    expect(recovery).toHaveLength(10);

    const prompter = answers(recovery[0] as string);
    await runLogin(
      { tenant: 'acme', email: 'ann@acme.test', passwordStdin: true },
      { io: capture().io, env: userEnv(), prompter, stdin: stdinOf(password) },
    );
    expect(prompter.asked).toEqual([['Authentication code (or a recovery code): ', false]]);
    const fresh = capture();
    await runMfaRecoveryCodes({}, fresh.io, userEnv());
    expect(fresh.out().trim().split('\n')).toHaveLength(10);
    await runMfaDisable({}, capture().io, userEnv(), answers(password));
  });

  it('refreshes an expiring stored access token on the way', async () => {
    const before = loadLogin(userEnv(), server.url);
    if (before === undefined) throw new Error('no stored login');
    saveLogin(userEnv(), server.url, { ...before, access_expires_at: Date.now() - 1000 });
    const out = capture();
    await runMfaEnrol({ json: true }, out.io, userEnv());
    const after = loadLogin(userEnv(), server.url);
    expect(after?.refresh_token).not.toBe(before.refresh_token);
    expect(after?.access_token).not.toBe(before.access_token);
    expect(after?.access_expires_at).toBeGreaterThan(Date.now());
  });

  it('prints tokens with --print, sets a first password with --setup-token, and logs out', async () => {
    const invited = capture();
    await runUsersCreate(
      { tenant: 'acme', email: 'cy@acme.test', role: 'auditor' },
      invited.io,
      adminEnv(),
    );
    const token = invited.out().trim();
    const printed = capture();
    await runLogin(
      { tenant: 'acme', email: 'cy@acme.test', setupToken: token, print: true },
      { io: printed.io, env: userEnv(), prompter: answers(password) },
    );
    expect(JSON.parse(printed.out())).toMatchObject({ token_type: 'Bearer', mfa_required: false });

    const out = capture();
    const stored = loadLogin(userEnv(), server.url);
    await runLogout({}, out.io, userEnv());
    expect(out.err()).toMatch(/^logged out of /);
    expect(loadLogin(userEnv(), server.url)).toBeUndefined();
    await expect(server.identity.verify(stored?.access_token as string)).rejects.toThrow(/session/);
    await expect(runLogout({}, capture().io, userEnv())).rejects.toThrow(/not logged in/);
    await expect(runMfaEnrol({}, capture().io, userEnv())).rejects.toThrow(/verdict login/);
  });

  it('refuses an empty answer before asking the server anything', async () => {
    const prompter = answers('   ');
    await expect(
      runLogin({ tenant: 'acme' }, { io: capture().io, env: userEnv(), prompter }),
    ).rejects.toThrow('no answer to "E-mail:"');
    expect(prompter.asked).toEqual([['E-mail: ', false]]);
  });

  it('takes the code from --code, refuses a wrong typed code, and logs out of an ended session', async () => {
    const email = 'eve@acme.test';
    const created = capture();
    await runUsersCreate(
      { tenant: 'acme', email, role: 'auditor', passwordStdin: true },
      created.io,
      adminEnv(),
      stdinOf(password),
    );
    const id = /id ([0-9a-f-]{36})/.exec(created.out())?.[1] as string;
    const login = { tenant: 'acme', email, passwordStdin: true };
    await runLogin(login, { io: capture().io, env: userEnv(), stdin: stdinOf(password) });
    const enrol = capture();
    await runMfaEnrol({ json: true }, enrol.io, userEnv());
    const secret = base32Decode((JSON.parse(enrol.out()) as { secret: string }).secret) as Buffer;
    const step = totpStep(Date.now());
    await runMfaConfirm(hotp(secret, step), {}, capture().io, userEnv());

    // A code given on the command line: nothing is asked.
    const prompter = answers();
    const out = capture();
    await runLogin(
      { ...login, code: hotp(secret, step + 1) },
      { io: out.io, env: userEnv(), prompter, stdin: stdinOf(password) },
    );
    expect(prompter.asked).toEqual([]);
    expect(out.err()).toContain(`as ${email} (tenant acme)`);

    // Six digits typed at the prompt go to the server as a code, not as a recovery code.
    const valid = new Set([0, 1, 2, 3].map((d) => hotp(secret, step - 1 + d)));
    const wrong = ['000000', '111111', '222222', '333333', '444444'].find((c) => !valid.has(c));
    await expect(
      runLogin(login, {
        io: capture().io,
        env: userEnv(),
        prompter: answers(wrong as string),
        stdin: stdinOf(password),
      }),
    ).rejects.toThrow(/^The code is not valid: type the current code of your authenticator app/);

    // Disabling the user ends the session; logging out still forgets the stored login.
    await runUsersDisable(id, { tenant: 'acme' }, capture().io, adminEnv());
    const loggedOut = capture();
    await runLogout({}, loggedOut.io, userEnv());
    expect(loggedOut.err()).toBe(`logged out of ${server.url}\n`);
    expect(loadLogin(userEnv(), server.url)).toBeUndefined();
  });
});

describe('as commands', () => {
  it('runs users, mfa and keys subcommands through the program', async () => {
    const written: string[] = [];
    const record = (chunk: unknown): boolean => {
      written.push(String(chunk));
      return true;
    };
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(record);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(record);
    const saved = { ...process.env };
    const verdict = (...args: string[]): Promise<unknown> =>
      buildProgram().parseAsync(['node', 'verdict', ...args]);
    const admin = ['--server', server.url, '--token', adminToken];
    try {
      await verdict(
        'users',
        'create',
        '--tenant',
        'acme',
        '--email',
        'dee@acme.test',
        '--role',
        'auditor',
        ...admin,
      );
      const setupToken = (written.find((line) => line.startsWith('vst_')) ?? '').trim();
      await verdict('users', 'list', '--tenant', 'acme', '--json', ...admin);
      const printed = capture();
      await runLogin(
        { tenant: 'acme', email: 'dee@acme.test', setupToken, print: true },
        { io: printed.io, env: userEnv(), prompter: answers(password) },
      );
      const user = [
        '--server',
        server.url,
        '--token',
        (JSON.parse(printed.out()) as { access_token: string }).access_token,
      ];
      written.length = 0;
      await verdict('mfa', 'enrol', '--json', ...user);
      const secret = (JSON.parse(written.join('')) as { secret: string }).secret;
      await verdict(
        'mfa',
        'confirm',
        hotp(base32Decode(secret) as Buffer, totpStep(Date.now())),
        ...user,
      );
      await verdict('mfa', 'recovery-codes', '--json', ...user);
      const list = JSON.parse(
        await new Promise<string>((resolve) => {
          written.length = 0;
          void verdict('users', 'list', '--tenant', 'acme', '--json', ...admin).then(() => {
            resolve(written.join(''));
          });
        }),
      ) as { users: { id: string; email: string; mfa_enabled: boolean }[] };
      const dee = list.users.find((u) => u.email === 'dee@acme.test');
      expect(dee?.mfa_enabled).toBe(true);
      await verdict('users', 'disable', '--tenant', 'acme', dee?.id as string, ...admin);
      Object.assign(process.env, serverEnv());
      await verdict('keys', 'rotate-signing-key');
      await verdict('keys', 'rotate-data-key');
      const text = written.join('');
      expect(text).toContain('disabled dee@acme.test in tenant acme');
      expect(text).toMatch(/new signing key /);
      expect(text).toMatch(/users\.email: 0 of \d+ re-encrypted under k1/);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      process.env = saved;
    }
  });
});

describe('verdict keys rotate-signing-key and rotate-data-key', () => {
  it('rotates the signing key and re-encrypts under a new data key, against the database', async () => {
    const lines: string[] = [];
    const captured = capturingLogger();
    const logger = captured.logger;
    await runKeyRotation('signing', { env: serverEnv(), write: (l) => lines.push(l), logger });
    expect(lines[0]).toMatch(
      /^new signing key \d{8}-[0-9a-f]{12}; earlier keys verify the tokens they signed for 600 s more$/,
    );
    const security = () => captured.lines().filter((line) => line.event === 'security');
    expect(security()).toEqual([
      expect.objectContaining({
        type: 'signing_key_rotated',
        actor: 'cli',
        trigger: 'command',
        kid: /^new signing key (\S+);/.exec(lines[0] as string)?.[1],
      }),
    ]);

    const k1 = (JSON.parse(keys.json) as Record<string, string>)[keys.kid] as string;
    const rotatedEnv = {
      ...serverEnv(),
      VERDICT_DATA_KEYS: JSON.stringify({
        [keys.kid]: k1,
        k2: Buffer.alloc(32, 7).toString('base64'),
      }),
      VERDICT_DATA_KEY_ID: 'k2',
    };
    const out: string[] = [];
    await runKeyRotation('data', { env: rotatedEnv, write: (l) => out.push(l), logger });
    expect(out).toHaveLength(3);
    const rewritten = out
      .map((line) => Number(/: (\d+) of/.exec(line)?.[1]))
      .reduce((sum, n) => sum + n, 0);
    expect(security()[1]).toMatchObject({
      type: 'data_key_rotated',
      actor: 'cli',
      keyId: 'k2',
      rewritten,
    });
    expect(out[0]).toMatch(/^users\.email: (\d+) of \1 re-encrypted under k2$/);
    expect(out[2]).toMatch(/^signing_keys\.private_key: (\d+) of \1 re-encrypted under k2$/);
    const emails = (await server.db.knex('users').pluck('email')) as string[];
    for (const email of emails) expect(email).toMatch(/^v1:k2:/);
  });
});
