/**
 * `verdict push`, `verdict activate` and `verdict bundles list`: a tenant's bundles through
 * the bundle registry API (see cli/admin-client.ts for --server, --token and --json). The
 * token may be the admin token or a tenant API key with the `bundles:write` scope.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
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
import { registerPull } from './bundle-pull';

export interface VersionView {
  bundle: string;
  version: string;
  revision: string;
  engine: string;
  signature_status: string;
  size_bytes: number | null;
  uploaded_by: string;
  created_at: string;
  stable: boolean;
}

interface BundleView {
  name: string;
  versions: number;
  latest_version: string | null;
  stable_version: string | null;
  created_at: string;
}

export interface PushOptions extends AdminOptions {
  tenant: string;
  name?: string;
  version?: string;
}

export interface ActivateOptions extends AdminOptions {
  tenant: string;
  bundle: string;
  version: string;
}

export interface ListOptions extends AdminOptions {
  tenant: string;
  bundle?: string;
}

function readBundleFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder' : code;
    throw new AdminCommandError(
      `cannot read ${file} (${String(reason)}): push a bundle file built with \`verdict build\``,
    );
  }
}

/** Uploads a bundle's bytes to a tenant's registry; the stored version. */
export async function pushBundle(
  client: AdminClient,
  bytes: Uint8Array,
  options: Pick<PushOptions, 'tenant' | 'name' | 'version'>,
): Promise<VersionView> {
  const query = new URLSearchParams();
  if (options.name !== undefined) query.set('name', options.name);
  if (options.version !== undefined) query.set('version', options.version);
  const suffix = query.size > 0 ? `?${query.toString()}` : '';
  return (await client.upload(
    'POST',
    `/v1/tenants/${pathSegment(options.tenant)}/bundles${suffix}`,
    bytes,
    'application/gzip',
  )) as VersionView;
}

export async function runPush(
  file: string,
  options: PushOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const version = await pushBundle(client, readBundleFile(file), options);
  if (options.json === true) {
    printJson(io, version);
    return;
  }
  io.stdout(
    `pushed ${version.bundle} ${version.version} (revision ${version.revision}, ${version.engine}, ${version.signature_status}) to tenant ${options.tenant}; activate it with \`verdict activate --tenant ${options.tenant} --bundle ${version.bundle} --version ${version.version}\`\n`,
  );
}

export async function runActivate(
  options: ActivateOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const version = (await client.request(
    'POST',
    `/v1/tenants/${pathSegment(options.tenant)}/bundles/${pathSegment(options.bundle)}/activate`,
    { version: options.version },
  )) as VersionView;
  if (options.json === true) {
    printJson(io, version);
    return;
  }
  io.stdout(
    `activated ${version.bundle} ${version.version} (revision ${version.revision}) for tenant ${options.tenant}\n`,
  );
}

export async function runBundlesList(
  options: ListOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const tenant = pathSegment(options.tenant);
  if (options.bundle !== undefined) {
    const answer = (await client.request(
      'GET',
      `/v1/tenants/${tenant}/bundles/${pathSegment(options.bundle)}/versions`,
    )) as { versions: VersionView[] };
    if (options.json === true) {
      printJson(io, answer);
      return;
    }
    io.stdout(
      formatTable(
        ['VERSION', 'REVISION', 'ENGINE', 'SIGNATURE', 'STABLE', 'CREATED'],
        answer.versions.map((v) => [
          v.version,
          v.revision,
          v.engine,
          v.signature_status,
          v.stable ? 'yes' : '',
          v.created_at,
        ]),
      ),
    );
    return;
  }
  const answer = (await client.request('GET', `/v1/tenants/${tenant}/bundles`)) as {
    bundles: BundleView[];
  };
  if (options.json === true) {
    printJson(io, answer);
    return;
  }
  if (answer.bundles.length === 0) {
    io.stdout(
      `tenant ${options.tenant} has no bundles yet: push one with \`verdict push bundle.tar.gz --tenant ${options.tenant}\`\n`,
    );
    return;
  }
  io.stdout(
    formatTable(
      ['NAME', 'STABLE', 'LATEST', 'VERSIONS', 'CREATED'],
      answer.bundles.map((b) => [
        b.name,
        b.stable_version ?? '-',
        b.latest_version ?? '-',
        String(b.versions),
        b.created_at,
      ]),
    ),
  );
}

const tokenHelp =
  '\n--token may be the admin token or a tenant API key with the bundles:write scope.\n';

export function register(program: Command): void {
  withAdminOptions(
    program
      .command('push')
      .description("Upload a bundle (.tar.gz) to a tenant's bundle registry.")
      .argument('<bundle>', 'bundle file, e.g. rbac.tar.gz from `verdict build`')
      .requiredOption('--tenant <tenant>', 'tenant slug or id')
      .option('--name <name>', "bundle name, when the bundle's .manifest has none (OPA bundles)")
      .option('--version <version>', "semantic version, when the bundle's .manifest has none"),
  )
    .addHelpText(
      'after',
      `\nExamples:\n  $ verdict push rbac.tar.gz --tenant acme\n  $ verdict push opa-bundle.tar.gz --tenant acme --name authz --version 1.4.0\n${tokenHelp}`,
    )
    .action(async (file: string, options: PushOptions) => {
      await runPush(file, options);
    });

  withAdminOptions(
    program
      .command('activate')
      .description("Make a pushed version the stable version of a tenant's bundle.")
      .requiredOption('--tenant <tenant>', 'tenant slug or id')
      .requiredOption('--bundle <name>', 'bundle name')
      .requiredOption('--version <version>', 'version to make stable, e.g. 1.2.0'),
  )
    .addHelpText(
      'after',
      `\nExample:\n  $ verdict activate --tenant acme --bundle rbac --version 1.0.0\n${tokenHelp}`,
    )
    .action(async (options: ActivateOptions) => {
      await runActivate(options);
    });

  const bundles = program
    .command('bundles')
    .description(
      "List a tenant's bundles and their versions; pull a bundle from an OPA bundle server.",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict bundles list --tenant acme\n  $ verdict bundles list --tenant acme --bundle rbac\n  $ verdict bundles pull https://bundles.example.com/authz/bundle.tar.gz -e authz/allow\n',
    );
  withAdminOptions(
    bundles
      .command('list')
      .description("List a tenant's bundles, or one bundle's versions with --bundle.")
      .requiredOption('--tenant <tenant>', 'tenant slug or id')
      .option('--bundle <name>', 'list the versions of this bundle'),
  )
    .addHelpText(
      'after',
      `\nExamples:\n  $ verdict bundles list --tenant acme\n  $ verdict bundles list --tenant acme --bundle rbac --json\n${tokenHelp}`,
    )
    .action(async (options: ListOptions) => {
      await runBundlesList(options);
    });
  registerPull(bundles);
}
