import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTestCommand } from '../../../cli/test';
import { capture } from '../../helpers/cli-io';

const root = path.resolve(__dirname, '..', '..', '..');

describe('verdict test', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-test-'));
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(['wasm', 'interp'])('passes the example bundle through the %s engine', async (engine) => {
    const c = capture();
    const code = await runTestCommand([path.join(root, 'examples/rbac')], { engine }, c.io);
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    expect(c.out()).toBe(`8 passed, 0 failed (engine: ${engine})\n`);
  });

  it('reports a failing test with its position and exits 1', async () => {
    fs.writeFileSync(
      path.join(dir, 'p_test.rego'),
      'package p_test\n\ntest_ok if 1 == 1\n\ntest_wrong if {\n\t2 == 3\n}\n\ntest_value := 7\n',
    );
    const c = capture();
    const code = await runTestCommand([dir], { engine: 'interp' }, c.io);
    expect(code).toBe(1);
    expect(c.out()).toContain('FAIL ');
    expect(c.out()).toMatch(/p_test\.rego:5:1: data\.p_test\.test_wrong — undefined/);
    expect(c.out()).toMatch(/data\.p_test\.test_value — evaluated to 7/);
    expect(c.out()).toContain('1 passed, 2 failed (engine: interp)');
  });

  it('writes JSON for machines', async () => {
    const c = capture();
    await runTestCommand(
      [path.join(root, 'examples/rbac')],
      { format: 'json', run: 'tenant' },
      c.io,
    );
    const report = JSON.parse(c.out()) as {
      passed: number;
      failed: number;
      results: { name: string }[];
    };
    expect(report.failed).toBe(0);
    expect(report.passed).toBeGreaterThan(0);
    expect(report.results.every((r) => r.name.includes('tenant'))).toBe(true);
  });

  it('reports rule and line coverage and fails below the threshold', async () => {
    const src = path.join(dir, 'cov');
    fs.mkdirSync(src);
    fs.writeFileSync(
      path.join(src, 'cov.rego'),
      'package cov\n\nused := 1\n\nunused if {\n\tinput.never\n}\n\ntest_used if used == 1\n',
    );
    const c = capture();
    expect(await runTestCommand([src], { threshold: '90' }, c.io)).toBe(1);
    expect(c.out()).toContain('cov.rego: rules 2/3, lines 2/5 (40.0%)');
    expect(c.out()).toMatch(/not covered: .*cov\.rego:5: unused/);
    expect(c.out()).toContain('coverage 40.0% is below the threshold 90%');
    const full = capture();
    expect(
      await runTestCommand(
        [path.join(root, 'examples/rbac')],
        { coverage: true, threshold: '100' },
        full.io,
      ),
    ).toBe(0);
    expect(full.out()).toContain('coverage: 100.0% of lines');
    const bad = capture();
    expect(await runTestCommand([src], { threshold: 'most' }, bad.io)).toBe(1);
    expect(bad.err()).toContain('--threshold takes a percentage from 0 to 100');
  });

  it.each(['wasm', 'interp'])(
    'reports a test whose evaluation fails as ERROR with its code (%s)',
    async (engine) => {
      const src = path.join(dir, `conflict-${engine}`);
      fs.mkdirSync(src);
      fs.writeFileSync(
        path.join(src, 'conflict.rego'),
        'package conflict\n\nlimit := 1\n\nlimit := 2\n\ntest_limit if limit == 1\n\ntest_fine if true\n',
      );
      const c = capture();
      const io = { ...c.io, color: true };
      expect(await runTestCommand([src], { engine, verbose: true }, io)).toBe(1);
      const lines = c.out().trimEnd().split('\n');
      const [green, magenta, reset] = ['\u001b[32m', '\u001b[35m', '\u001b[0m'];
      expect(lines[0]?.startsWith(`${green}PASS${reset} `)).toBe(true);
      expect(lines[0]).toMatch(/conflict\.rego:9:1: data\.conflict\.test_fine \(/);
      expect(lines[1]?.startsWith(`${magenta}ERROR${reset} `)).toBe(true);
      expect(lines[1]).toMatch(
        /conflict\.rego:7:1: data\.conflict\.test_limit — eval_conflict_error: /,
      );
      expect(lines[2]).toBe(`1 passed, 1 failed (engine: ${engine})`);
    },
  );

  it('reports policies that do not compile, and runs nothing', async () => {
    const src = path.join(dir, 'unsafe');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'unsafe.rego'), 'package unsafe\n\ntest_x if x == 1\n');
    const c = capture();
    expect(await runTestCommand([src], {}, c.io)).toBe(1);
    expect(c.err()).toMatch(/unsafe\.rego:3:\d+: rego_unsafe_var_error: .*\bx\b/);
    expect(c.out()).toBe('');
  });

  it('fails when --run matches no test', async () => {
    const c = capture();
    expect(
      await runTestCommand([path.join(root, 'examples/rbac')], { run: 'no-such-test' }, c.io),
    ).toBe(1);
    expect(c.out()).toBe('no tests found (Rego rules named test_*, CASL cases in cases.yaml)\n');
  });

  it('refuses an unknown engine', async () => {
    const c = capture();
    expect(await runTestCommand([dir], { engine: 'opa' }, c.io)).toBe(1);
    expect(c.err()).toContain('unknown engine "opa": use wasm or interp');
  });

  it('refuses an unknown format and a path that does not exist, running nothing', async () => {
    const c = capture();
    expect(await runTestCommand([dir], { format: 'junit' }, c.io)).toBe(1);
    expect(c.err()).toBe('verdict test: unknown format "junit": use pretty or json\n');
    const missing = path.join(dir, 'no-such-folder');
    const m = capture();
    expect(await runTestCommand([missing], {}, m.io)).toBe(1);
    expect(m.err()).toBe(`verdict test: ${missing}: no such file or directory\n`);
    expect(m.out()).toBe('');
  });
});
