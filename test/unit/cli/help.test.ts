import type { Command } from 'commander';
import { buildProgram } from '../../../cli/main';

/** Every command and subcommand, as `verdict a b`. */
function commands(cmd: Command, prefix = 'verdict'): [string, Command][] {
  return cmd.commands.flatMap((c): [string, Command][] => {
    const name = `${prefix} ${c.name()}`;
    return [[name, c], ...commands(c, name)];
  });
}

describe('verdict --help', () => {
  it.each(commands(buildProgram()))('%s shows a description and an example', (name, command) => {
    let help = '';
    command.configureOutput({ writeOut: (t) => (help += t), writeErr: (t) => (help += t) });
    command.outputHelp();
    expect(command.description()).not.toBe('');
    expect(help).toMatch(/Examples?:\n {2}\$ verdict /);
    // The examples use the command they document.
    expect(help).toContain(`$ ${name}`);
  });
});
