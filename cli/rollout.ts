/**
 * `verdict rollout start|status|promote|rollback|abort`: canary and shadow rollouts of a
 * tenant's bundle through the rollouts API (see cli/admin-client.ts for --server, --token
 * and --json). The token may be the admin token or a tenant API key with `bundles:write`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import {
  AdminClient,
  AdminCommandError,
  formatTable,
  pathSegment,
  printJson,
  processIO,
  withAdminOptions,
  type AdminOptions,
  type CliIO,
} from './admin-client';

interface RolloutView {
  id: string;
  bundle: string;
  mode: 'canary' | 'shadow';
  status: string;
  candidate_version: string;
  stable_version: string;
  percent: number | null;
  sticky: string | null;
  started_by: string;
  started_at: string;
  ended_by: string | null;
  ended_at: string | null;
}

interface Side {
  arm: string;
  version: string | null;
  result?: unknown;
}

interface RolloutReport extends RolloutView {
  stats: {
    served: Record<string, number>;
    canary_share: number;
    comparisons: number;
    disagreements: number;
    disagreement_rate: number | null;
    samples: { decision_id: string; path: string; input?: unknown; served: Side; compared: Side }[];
  };
}

export interface RolloutTarget extends AdminOptions {
  tenant: string;
  bundle: string;
}

export interface StartOptions extends RolloutTarget {
  version: string;
  canary?: number;
  shadow?: boolean;
  sticky?: string;
}

export interface StatusOptions extends AdminOptions {
  tenant: string;
  bundle?: string;
}

function percentage(text: string): number {
  const value = Number(text.endsWith('%') ? text.slice(0, -1) : text);
  if (!Number.isFinite(value) || value <= 0 || value > 100) {
    throw new InvalidArgumentError('give a percentage of traffic above 0 and at most 100, e.g. 20');
  }
  return value;
}

function rolloutsPath(options: RolloutTarget): string {
  return `/v1/tenants/${pathSegment(options.tenant)}/bundles/${pathSegment(options.bundle)}/rollouts`;
}

function describe(rollout: RolloutView): string {
  const split =
    rollout.mode === 'canary'
      ? `canary ${rollout.candidate_version} at ${String(rollout.percent)}% (sticky by ${rollout.sticky ?? 'caller'})`
      : `shadow ${rollout.candidate_version}`;
  return `${rollout.bundle}: ${split} beside stable ${rollout.stable_version}`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function reportText(report: RolloutReport): string {
  const { stats } = report;
  const lines = [`${describe(report)} — ${report.status.replace('_', ' ')}`];
  const served = Object.entries(stats.served)
    .map(([arm, count]) => `${arm} ${count}`)
    .join(', ');
  lines.push(`  served:        ${served === '' ? 'no decisions yet' : served}`);
  if (report.mode === 'canary') lines.push(`  canary share:  ${percent(stats.canary_share)}`);
  lines.push(
    `  disagreement:  ${
      stats.disagreement_rate === null
        ? 'no comparisons yet'
        : `${percent(stats.disagreement_rate)} (${stats.disagreements} of ${stats.comparisons} compared)`
    }`,
  );
  for (const sample of stats.samples) {
    lines.push(
      `  - ${sample.decision_id} ${sample.path} input ${JSON.stringify(sample.input ?? null)}`,
      `      ${sample.served.arm} ${sample.served.version ?? '?'} answered ${JSON.stringify(sample.served.result ?? null)}; ${sample.compared.arm} ${sample.compared.version ?? '?'} would answer ${JSON.stringify(sample.compared.result ?? null)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function runRolloutStart(
  options: StartOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if ((options.canary === undefined) === (options.shadow !== true)) {
    throw new AdminCommandError('give exactly one of --canary <percent> and --shadow');
  }
  if (options.sticky !== undefined && options.canary === undefined) {
    throw new AdminCommandError('--sticky applies to a canary (--canary <percent>) only');
  }
  const client = new AdminClient(options, env);
  const body =
    options.canary === undefined
      ? { version: options.version, mode: 'shadow' }
      : {
          version: options.version,
          mode: 'canary',
          percent: options.canary,
          ...(options.sticky === undefined ? {} : { sticky: options.sticky }),
        };
  const rollout = (await client.request('POST', rolloutsPath(options), body)) as RolloutView;
  if (options.json === true) {
    printJson(io, rollout);
    return;
  }
  io.stdout(
    `started ${describe(rollout)} for tenant ${options.tenant}; watch it with \`verdict rollout status --tenant ${options.tenant} --bundle ${rollout.bundle}\`\n`,
  );
}

export async function runRolloutStatus(
  options: StatusOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const tenant = pathSegment(options.tenant);
  if (options.bundle !== undefined) {
    const answer = (await client.request(
      'GET',
      rolloutsPath({ ...options, bundle: options.bundle }),
    )) as { latest: RolloutReport | null; history: RolloutView[] };
    if (options.json === true) {
      printJson(io, answer);
      return;
    }
    if (answer.latest === null) {
      io.stdout(`bundle ${options.bundle} has had no rollouts\n`);
      return;
    }
    io.stdout(reportText(answer.latest));
    if (answer.history.length > 1) {
      io.stdout(
        `\n${formatTable(
          ['STARTED', 'MODE', 'CANDIDATE', 'STABLE', 'STATUS', 'ENDED'],
          answer.history.map((r) => [
            r.started_at,
            r.mode === 'canary' ? `canary ${String(r.percent)}%` : 'shadow',
            r.candidate_version,
            r.stable_version,
            r.status,
            r.ended_at ?? '-',
          ]),
        )}`,
      );
    }
    return;
  }
  const answer = (await client.request('GET', `/v1/tenants/${tenant}/rollouts`)) as {
    rollouts: RolloutReport[];
  };
  if (options.json === true) {
    printJson(io, answer);
    return;
  }
  if (answer.rollouts.length === 0) {
    io.stdout(`tenant ${options.tenant} has no active rollouts\n`);
    return;
  }
  io.stdout(answer.rollouts.map(reportText).join('\n'));
}

export type RolloutEnding = 'promote' | 'rollback' | 'abort';

const endingWords: Record<RolloutEnding, string> = {
  promote: 'promoted',
  rollback: 'rolled back',
  abort: 'aborted',
};

export async function runRolloutEnd(
  action: RolloutEnding,
  options: RolloutTarget,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const rollout = (await client.request(
    'POST',
    `${rolloutsPath(options)}/${action}`,
  )) as RolloutView;
  if (options.json === true) {
    printJson(io, rollout);
    return;
  }
  const stable = action === 'promote' ? rollout.candidate_version : rollout.stable_version;
  io.stdout(
    `${endingWords[action]} the ${rollout.mode} of ${rollout.bundle} ${rollout.candidate_version}: ${rollout.bundle} ${stable} now serves all traffic for tenant ${options.tenant}\n`,
  );
}

const tokenHelp =
  '\n--token may be the admin token or a tenant API key with the bundles:write scope.\n';

function targetCommand(parent: Command, name: string, description: string): Command {
  return withAdminOptions(
    parent
      .command(name)
      .description(description)
      .requiredOption('--tenant <tenant>', 'tenant slug or id')
      .requiredOption('--bundle <name>', 'bundle name'),
  );
}

export function register(program: Command): void {
  const rollout = program
    .command('rollout')
    .description(
      'Roll out a bundle version safely: canary (a share of traffic) or shadow (evaluated, never served).',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict rollout start --tenant acme --bundle rbac --version 1.1.0 --canary 20 --sticky input.user.id\n  $ verdict rollout status --tenant acme --bundle rbac\n  $ verdict rollout promote --tenant acme --bundle rbac\n',
    );

  targetCommand(rollout, 'start', 'Start a canary or a shadow of a pushed version.')
    .requiredOption('--version <version>', 'the candidate version, e.g. 1.1.0')
    .option('--canary <percent>', 'serve the candidate to this share of traffic', percentage)
    .option('--shadow', 'evaluate the candidate beside every decision; never serve it')
    .option(
      '--sticky <path>',
      'canary: keep each value of this input path on one version (default: the caller)',
    )
    .addHelpText(
      'after',
      `\nExamples:\n  $ verdict rollout start --tenant acme --bundle rbac --version 1.1.0 --canary 20 --sticky input.user.id\n  $ verdict rollout start --tenant acme --bundle rbac --version 1.1.0 --shadow\n${tokenHelp}`,
    )
    .action(async (options: StartOptions) => {
      await runRolloutStart(options);
    });

  withAdminOptions(
    rollout
      .command('status')
      .description(
        'Traffic split, decision counts and disagreement rate of active rollouts, with sample disagreements.',
      )
      .requiredOption('--tenant <tenant>', 'tenant slug or id')
      .option('--bundle <name>', "this bundle's latest rollout and its history"),
  )
    .addHelpText(
      'after',
      `\nExamples:\n  $ verdict rollout status --tenant acme\n  $ verdict rollout status --tenant acme --bundle rbac --json\n${tokenHelp}`,
    )
    .action(async (options: StatusOptions) => {
      await runRolloutStatus(options);
    });

  const endings: [RolloutEnding, string][] = [
    ['promote', 'Make the candidate the stable version and end the rollout.'],
    ['rollback', 'Serve 100% stable again: end the active rollout, or undo the last promotion.'],
    ['abort', 'End the active rollout without a verdict; stable keeps serving.'],
  ];
  for (const [action, description] of endings) {
    targetCommand(rollout, action, description)
      .addHelpText(
        'after',
        `\nExample:\n  $ verdict rollout ${action} --tenant acme --bundle rbac\n${tokenHelp}`,
      )
      .action(async (options: RolloutTarget) => {
        await runRolloutEnd(action, options);
      });
  }
}
