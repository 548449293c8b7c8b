/**
 * prepareBundle on its own (no database): the refusals the HTTP tests do not reach, and how
 * an OPA-style bundle without declared entrypoints is read.
 */
import { VerdictError } from '../../../../../api/errors';
import { prepareBundle, type SigningPolicy } from '../../../../../api/services/bundles/prepare';
import { generateKeys, signBundle } from '../../../../../policies/bundle/sign';
import { readTarGz, writeTarGz, type TarEntry } from '../../../../../policies/bundle/tar';
import { rbacBundle } from '../../../../integration/bundles/fixtures';

const open: SigningPolicy = { publicKey: null, required: false };
const text = (path: string, content: string): TarEntry => ({
  path,
  data: new TextEncoder().encode(content),
});

async function refusal(
  tarGz: Uint8Array,
  signing: SigningPolicy = open,
  overrides = {},
): Promise<VerdictError> {
  try {
    await prepareBundle(tarGz, { overrides, signing });
  } catch (err) {
    if (err instanceof VerdictError) return err;
    throw err;
  }
  throw new Error('expected the bundle to be refused');
}

describe('prepareBundle', () => {
  it('refuses an archive with no files', async () => {
    const err = await refusal(writeTarGz([]));
    expect(err.code).toBe('invalid_bundle');
    expect(err.extensions.problems).toEqual(['the archive holds no files']);
  });

  it('refuses a CASL manifest without a rule set, and Rego without sources', async () => {
    const casl = await refusal(
      writeTarGz([text('.manifest', '{"name": "c", "version": "1.0.0", "engine": "casl"}')]),
    );
    expect(casl.detail).toContain('no rule set (rules.json or rules.yaml');
    const rego = await refusal(
      writeTarGz([text('.manifest', '{"name": "r", "version": "1.0.0"}'), text('data.json', '{}')]),
    );
    expect(rego.detail).toContain('no Rego sources');
  });

  it('lists every problem and says how many more there are', async () => {
    const err = await refusal(
      writeTarGz([
        text('.manifest', '{"name": "Bad", "version": "x"}'),
        text('a.rego', 'package a'),
      ]),
    );
    expect(err.extensions.problems).toHaveLength(2);
    expect(err.detail).toMatch(/\(and 1 more problems\)\.$/);
  });

  it('keeps a signature it has no key for as unsigned', async () => {
    const built = await rbacBundle();
    const signed = signBundle(built.tarGz, generateKeys().privateKey);
    const prepared = await prepareBundle(signed, { overrides: {}, signing: open });
    expect(prepared.signatureStatus).toBe('unsigned');
    expect(prepared.compiled).toBe(false);
  });

  it('says so when the tenant key cannot verify anything', async () => {
    const built = await rbacBundle();
    const signed = signBundle(built.tarGz, generateKeys().privateKey);
    const err = await refusal(signed, { publicKey: 'not a key', required: true });
    expect(err.detail).toContain("the tenant's signing key cannot verify bundles");
  });

  it('takes the entrypoints of a carried policy.wasm when none are declared', async () => {
    const built = await rbacBundle();
    const entries = readTarGz(built.tarGz).filter((e) => e.path !== '.manifest');
    const prepared = await prepareBundle(writeTarGz(entries), {
      overrides: { name: 'opa', version: '3.0.0' },
      signing: open,
    });
    expect(prepared.manifest).toMatchObject({
      name: 'opa',
      version: '3.0.0',
      engine: 'rego',
      roots: [''],
    });
    expect([...prepared.manifest.entrypoints].sort()).toEqual(['rbac/allow', 'rbac/reasons']);
    expect(prepared.manifest.revision).toMatch(/^[0-9a-f]{16}$/);
    expect(prepared.data).toHaveProperty('tenants');
  });

  it('drops the keys OPA writes that Verdict has no use for', async () => {
    const built = await rbacBundle();
    const manifest = { ...built.manifest, rego_version: 1, file_rego_versions: {} };
    const entries = [
      ...readTarGz(built.tarGz).filter((e) => e.path !== '.manifest'),
      text('.manifest', JSON.stringify(manifest)),
    ];
    const prepared = await prepareBundle(writeTarGz(entries), { overrides: {}, signing: open });
    expect(prepared.manifest).not.toHaveProperty('rego_version');
    expect(prepared.manifest.revision).toBe(built.manifest.revision);
  });
});
