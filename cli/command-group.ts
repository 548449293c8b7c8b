/**
 * Command groups that several files add subcommands to (`verdict keys gen` comes from
 * sign.ts, `verdict keys create` from keys.ts): the first caller creates the group, later
 * callers get the same one, whatever the registration order.
 */
import type { Command } from 'commander';

const groupDescriptions = {
  keys: 'Manage tenant API keys (create, list, revoke), bundle signing keys (gen), and the keys behind user logins (rotate-signing-key, rotate-data-key).',
} as const;

const groupExamples: Record<keyof typeof groupDescriptions, string> = {
  keys: '\nExamples:\n  $ verdict keys create --tenant acme --name backend --scope decide\n  $ verdict keys gen -o keys/release.pem\n',
};

export type CommandGroupName = keyof typeof groupDescriptions;

export function commandGroup(program: Command, name: CommandGroupName): Command {
  const existing = program.commands.find((command) => command.name() === name);
  if (existing !== undefined) return existing;
  return program
    .command(name)
    .description(groupDescriptions[name])
    .addHelpText('after', groupExamples[name]);
}
