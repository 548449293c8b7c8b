import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PlatformPolicy, platformPolicyDir } from '../../../../api/auth/platform-policy';
import { bootstrapPrincipal, type Principal } from '../../../../api/auth/principal';

jest.setTimeout(60_000);

const acme = '0a000000-0000-4000-8000-00000000000a';
const globex = '0b000000-0000-4000-8000-00000000000b';

function user(roles: Principal['roles'], mfa = true): Principal {
  return { kind: 'user', id: 'u1', tenantId: acme, roles, scopes: [], mfa };
}

function key(scopes: string[]): Principal {
  return { kind: 'api-key', id: 'k1', tenantId: acme, roles: ['app'], scopes };
}

let policy: PlatformPolicy;

beforeAll(async () => {
  policy = await PlatformPolicy.load();
});

describe('the platform policy', () => {
  it('is compiled once per process and knows its actions', async () => {
    expect(await PlatformPolicy.load()).toBe(policy);
    expect(policy.actions).toContain('bundles.push');
    expect(policy.revision).toMatch(/^[0-9a-f]{16}$/u);
  });

  it('lets platform admins take every known action on any tenant, and nothing unknown', () => {
    for (const action of policy.actions) {
      expect(policy.decide({ principal: bootstrapPrincipal, action, tenantId: globex }).allow).toBe(
        true,
      );
    }
    expect(
      policy.decide({ principal: bootstrapPrincipal, action: 'tenants.delete', tenantId: null }),
    ).toEqual({ allow: false, reason: 'unknown action "tenants.delete"' });
  });

  it('says why it refuses', () => {
    const decide = (principal: Principal, action: string, tenantId: string | null = acme) =>
      policy.decide({ principal, action, tenantId });
    expect(decide(user(['tenant-admin']), 'tenants.create', null).reason).toBe(
      'only platform admins may do this',
    );
    expect(decide(user(['tenant-admin']), 'keys.list', globex).reason).toBe(
      'this principal belongs to another tenant',
    );
    expect(decide(user(['tenant-admin']), 'keys.list', null).reason).toBe(
      'this principal belongs to another tenant',
    );
    expect(decide(user(['tenant-admin'], false), 'keys.create').reason).toBe(
      'this action needs a second factor: log in again with MFA',
    );
    expect(decide(user(['auditor']), 'bundles.push').reason).toBe(
      'no role of this user grants "bundles.push"',
    );
    expect(decide(key(['decide']), 'bundles.push').reason).toBe(
      'this API key has no scope that grants "bundles.push" (it needs one of ["bundles:write"])',
    );
    expect(decide(key(['bundles:write']), 'keys.create').reason).toBe(
      'API keys may not "keys.create": it takes a user whose role grants it, or the admin token',
    );
    expect(decide(key(['bundles:write']), 'bundles.push')).toEqual({
      allow: true,
      reason: 'allowed',
    });
  });

  it('ignores roles and scopes a principal kind cannot hold', () => {
    // A key claiming a human role, or a user claiming scopes, gains nothing by it.
    const forged: Principal = { ...key([]), roles: ['app', 'tenant-admin'] };
    expect(policy.decide({ principal: forged, action: 'keys.list', tenantId: acme }).allow).toBe(
      false,
    );
    const scoped: Principal = { ...user([]), scopes: ['bundles:write'] };
    expect(policy.decide({ principal: scoped, action: 'bundles.push', tenantId: acme }).allow).toBe(
      false,
    );
  });

  it('refuses to start on a policy that does not compile, naming the problem', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-platform-'));
    try {
      fs.writeFileSync(path.join(dir, 'platform.rego'), 'package verdict.platform\n\nallow if {\n');
      await expect(PlatformPolicy.compile(dir)).rejects.toThrow(
        /does not compile: .*platform\.rego:/u,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ships its policy and data inside the installation', () => {
    expect(fs.existsSync(path.join(platformPolicyDir(), 'platform.rego'))).toBe(true);
    expect(fs.existsSync(path.join(platformPolicyDir(), 'data.json'))).toBe(true);
  });
});
