import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runInit, TEMPLATES } from '../../../cli/init';
import { runTestCommand } from '../../../cli/test';

describe('verdict init', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-init-'));
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(TEMPLATES)('scaffolds a %s bundle whose tests pass at once', async (template) => {
    const target = path.join(dir, `My ${template}`);
    const err: string[] = [];
    expect(runInit(target, template, { stderr: (t) => err.push(t) })).toBe(0);
    expect(fs.readdirSync(target).sort()).toEqual(
      template === 'casl'
        ? ['.manifest', 'cases.yaml', 'rules.json']
        : ['.manifest', 'data.json', 'policy.rego', 'policy_test.rego'],
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(target, '.manifest'), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(manifest).toMatchObject({ name: `my-${template}`, version: '0.1.0' });
    const out: string[] = [];
    const code = await runTestCommand(
      [target],
      { engine: 'interp', coverage: true },
      { stdout: (t) => out.push(t), stderr: (t) => out.push(t) },
    );
    expect(out.join('')).toMatch(/coverage: 100\.0% of lines\n\d+ passed, 0 failed/);
    expect(code).toBe(0);
  });

  it('refuses an unknown template and a folder that is not empty', () => {
    const err: string[] = [];
    expect(runInit(path.join(dir, 'x'), 'acl', { stderr: (t) => err.push(t) })).toBe(1);
    expect(err.join('')).toContain('unknown template "acl": use one of rbac, abac, casl');
    fs.mkdirSync(path.join(dir, 'full'));
    fs.writeFileSync(path.join(dir, 'full', 'keep.txt'), 'mine');
    expect(runInit(path.join(dir, 'full'), 'rbac', { stderr: (t) => err.push(t) })).toBe(1);
    expect(err.join('')).toContain('exists and is not empty; nothing written');
    expect(fs.readdirSync(path.join(dir, 'full'))).toEqual(['keep.txt']);
  });
});
