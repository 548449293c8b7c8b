import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCheck, type CommandIO } from '../../../cli/check';
import { runFmt } from '../../../cli/fmt';

function capture(): CommandIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
}

let dir: string;

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-fmt-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const UGLY = 'package a\np   if {   input.x == 1 }\n';
const PRETTY = 'package a\n\np if {\n\tinput.x == 1\n}\n';

describe('verdict fmt', () => {
  it('--check lists files that would change and exits 1', () => {
    const ugly = write('x/ugly.rego', UGLY);
    write('x/pretty.rego', PRETTY);
    write('x/notes.txt', 'not rego');
    const io = capture();
    expect(runFmt([dir], { check: true }, io)).toBe(1);
    expect(io.out).toEqual([`${ugly}\n`]);
    expect(io.err.join('')).toContain('1 of 2 files need formatting');
    expect(fs.readFileSync(ugly, 'utf8')).toBe(UGLY);
  });

  it('--check exits 0 when everything is formatted', () => {
    write('pretty.rego', PRETTY);
    const io = capture();
    expect(runFmt([dir], { check: true }, io)).toBe(0);
    expect(io.out).toEqual([]);
  });

  it('--write rewrites files in place', () => {
    const ugly = write('ugly.rego', UGLY);
    const io = capture();
    expect(runFmt([ugly], { write: true }, io)).toBe(0);
    expect(fs.readFileSync(ugly, 'utf8')).toBe(PRETTY);
    expect(runFmt([ugly], { check: true }, capture())).toBe(0);
  });

  it('prints formatted source without flags', () => {
    const io = capture();
    expect(runFmt([write('u.rego', UGLY)], {}, io)).toBe(0);
    expect(io.out.join('')).toBe(PRETTY);
  });

  it('reports files that do not parse and leaves them alone', () => {
    const bad = write('bad.rego', 'package a\np if {\n');
    const io = capture();
    expect(runFmt([bad], { write: true }, io)).toBe(1);
    expect(io.err.join('')).toContain(`${bad}:3:1: rego_parse_error: unexpected end of file`);
    expect(fs.readFileSync(bad, 'utf8')).toBe('package a\np if {\n');
  });

  it('refuses --check with --write, and missing paths', () => {
    expect(runFmt([dir], { check: true, write: true }, capture())).toBe(1);
    const io = capture();
    expect(runFmt([path.join(dir, 'nope')], {}, io)).toBe(1);
    expect(io.err.join('')).toContain('no such file or directory');
  });
});

describe('verdict check', () => {
  it('prints every error as file:line:col and exits 1', () => {
    const a = write('a.rego', 'package a\np if { x := [1, 2 }\nq := 1\nr { true }\n');
    write('b.rego', PRETTY);
    const io = capture();
    expect(runCheck([dir], {}, io)).toBe(1);
    expect(io.out).toEqual([
      `${a}:2:19: rego_parse_error: unexpected token }: expected "," or "]"\n`,
      `${a}:4:3: rego_parse_error: \`if\` keyword is required before rule body: write \`p if { ... }\`\n`,
    ]);
    expect(io.err.join('')).toContain('2 errors in 2 files');
  });

  it('exits 0 on valid policies', () => {
    write('b.rego', PRETTY);
    const io = capture();
    expect(runCheck([dir], {}, io)).toBe(0);
    expect(io.err.join('')).toContain('1 file checked, no errors');
  });

  it('checks the example bundles', () => {
    const examples = path.resolve(__dirname, '../../../examples');
    const io = capture();
    expect(runCheck([examples], {}, io)).toBe(0);
    expect(runFmt([examples], { check: true }, capture())).toBe(0);
  });

  it('exits 1 when there is nothing to check', () => {
    const io = capture();
    expect(runCheck([dir], {}, io)).toBe(1);
    expect(io.err.join('')).toContain('no .rego files found');
  });
});
