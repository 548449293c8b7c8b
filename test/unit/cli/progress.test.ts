import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { runBuild } from '../../../cli/build';
import { Progress } from '../../../cli/progress';
import { runTestCommand } from '../../../cli/test';

const root = path.resolve(__dirname, '..', '..', '..');

function terminal(
  isTTY = true,
  columns = 80,
): { writes: string[]; isTTY: boolean; columns: number; write: (t: string) => void } {
  const writes: string[] = [];
  return { writes, isTTY, columns, write: (t) => writes.push(t) };
}

describe('progress bar', () => {
  it('draws steps on a terminal, at most every 50 ms, and erases itself', () => {
    let now = 0;
    const term = terminal();
    const p = new Progress(term, 4, { now: () => now });
    p.update('compiling');
    expect(term.writes).toEqual(['\r\u001b[2K[======>                 ] 1/4 compiling']);
    now = 10;
    p.update('planning'); // too soon: not drawn
    expect(term.writes).toHaveLength(1);
    now = 100;
    p.update('generating WebAssembly');
    expect(term.writes[1]).toBe('\r\u001b[2K[==================>     ] 3/4 generating WebAssembly');
    now = 101;
    p.update('writing the bundle'); // the last step is always drawn
    expect(p.render()).toBe('[========================] 4/4 writing the bundle');
    p.finish();
    expect(term.writes.at(-1)).toBe('\r\u001b[2K');
    p.finish(); // once only
    expect(term.writes).toHaveLength(4);
  });

  it('stays silent when piped or quiet, and fits narrow terminals', () => {
    const piped = terminal(false);
    new Progress(piped, 2).update('x');
    const quiet = terminal();
    new Progress(quiet, 2, { quiet: true }).update('x');
    expect([...piped.writes, ...quiet.writes]).toEqual([]);
    const narrow = new Progress(terminal(true, 20), 0);
    narrow.update('a long label that does not fit', 0, 0);
    expect(narrow.render()).toBe('[==================');
  });

  it('shows through verdict build and verdict test on a terminal, never in their output', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-progress-'));
    try {
      const term = terminal();
      const out: string[] = [];
      const io = {
        stdout: (t: string) => out.push(t),
        stderr: (t: string) => out.push(t),
        progress: term,
      };
      expect(
        await runBuild(
          [path.join(root, 'examples/casl')],
          { output: path.join(dir, 'c.tar.gz'), entrypoint: [] },
          io,
        ),
      ).toBe(0);
      expect(term.writes.join('')).toContain('1/4 compiling');
      expect(term.writes.at(-1)).toBe('\r\u001b[2K');
      expect(out.join('')).not.toContain('compiling');
      term.writes.length = 0;
      expect(await runTestCommand([path.join(root, 'examples/casl')], {}, io)).toBe(0);
      expect(term.writes.join('')).toContain('0/17 building WebAssembly');
      expect(term.writes.at(-1)).toBe('\r\u001b[2K');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
