import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../../cli/main';

const cliDoc = fs.readFileSync(path.join(__dirname, '../../../docs/cli.md'), 'utf8');

/** Every command that does something (no subcommands of its own), as `a b`. */
function leafCommands(cmd: Command, prefix: readonly string[] = []): string[] {
  return cmd.commands.flatMap((c) => {
    const words = [...prefix, c.name()];
    return c.commands.length === 0 ? [words.join(' ')] : leafCommands(c, words);
  });
}

/**
 * The commands docs/cli.md names as `verdict ...`, in backquotes or at the start of an example
 * line; `keys create|list|revoke` stands for each of the three.
 */
function documentedCommands(doc: string): Set<string> {
  const named = new Set<string>();
  for (const match of doc.matchAll(/(?:^|`)verdict ([a-z][a-z-]*(?: [a-z][a-z|-]*)*)/gm)) {
    const words = (match[1] ?? '').split(' ');
    let expanded: string[][] = [[]];
    for (const word of words) {
      expanded = expanded.flatMap((prefix) => word.split('|').map((alt) => [...prefix, alt]));
    }
    for (const phrase of expanded) {
      // A phrase names its command and every shorter command it starts with.
      for (let n = 1; n <= phrase.length; n += 1) named.add(phrase.slice(0, n).join(' '));
    }
  }
  return named;
}

describe('docs/cli.md', () => {
  const documented = documentedCommands(cliDoc);

  it.each(leafCommands(buildProgram()))('documents `verdict %s`', (command) => {
    expect(documented.has(command)).toBe(true);
  });

  it('reads alternatives in a heading as separate commands', () => {
    const names = documentedCommands('## `verdict keys create|list` and `verdict serve`');
    expect([...names].sort()).toEqual(['keys', 'keys create', 'keys list', 'serve']);
  });
});
