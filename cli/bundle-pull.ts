/**
 * `verdict bundles pull <url>`: fetches a bundle from an OPA-style bundle server (bearer token,
 * ETag), checks the archive (size, paths, tar and gzip), compiles its Rego with Verdict's own
 * compiler into a Verdict bundle file, and with `--push --tenant t` publishes it as
 * `verdict push` does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { maxBundleFiles, maxUnpackedBytes } from '../api/services/bundles/prepare';
import { rebuildBundle, RebuildError, type Rebuilt } from '../policies/bundle/rebuild';
import { readTarGz, TarError, type TarEntry } from '../policies/bundle/tar';
import {
  AdminClient,
  AdminCommandError,
  printJson,
  processIO,
  withAdminOptions,
  type CliIO,
} from './admin-client';
import { bundleUrl, downloadBundle, shown } from './bundle-download';
import { pushBundle, type VersionView } from './bundles';

/** Largest download accepted unless --max-bytes says otherwise (the server's unpacked limit). */
export const defaultMaxBytes = maxUnpackedBytes;
const downloadTimeoutMs = 60_000;

export interface PullOptions {
  out?: string;
  bundleToken?: string;
  etag?: string;
  entrypoint: readonly string[];
  name?: string;
  version?: string;
  maxBytes?: string;
  push?: boolean;
  tenant?: string;
  server?: string;
  token?: string;
  json?: boolean;
}

export class BundlePullError extends Error {
  override readonly name = 'BundlePullError';
}

function maxBytesOf(text: string | undefined): number {
  if (text === undefined) return defaultMaxBytes;
  const bytes = /^[0-9]{1,12}$/u.test(text) ? Number(text) : Number.NaN;
  if (!(bytes >= 1)) {
    throw new BundlePullError(
      `--max-bytes must be a whole number of bytes, like 10485760 (got ${JSON.stringify(text)})`,
    );
  }
  return bytes;
}

function entriesOf(bytes: Uint8Array, url: string): TarEntry[] {
  try {
    return readTarGz(bytes, { maxBytes: maxUnpackedBytes, maxEntries: maxBundleFiles });
  } catch (err) {
    const reason = err instanceof TarError ? err.message : String(err);
    throw new BundlePullError(`${url} is not a usable bundle archive: ${reason}`);
  }
}

/** What the summary line says beyond the build. */
function notes(rebuilt: Rebuilt): string {
  const said: string[] = [];
  if (rebuilt.sourceRevision !== undefined) said.push(`source revision ${rebuilt.sourceRevision}`);
  if (rebuilt.droppedWasm) said.push("the server's policy.wasm left out, compiled from the Rego");
  if (rebuilt.droppedSignatures) said.push('its signatures dropped (sign with `verdict sign`)');
  return said.length === 0 ? '' : `; ${said.join('; ')}`;
}

/** The tenant to push to; undefined without --push. */
function pushTenant(options: PullOptions): string | undefined {
  if (options.push === true && options.tenant === undefined) {
    throw new BundlePullError('--push needs --tenant: the tenant to publish the bundle to');
  }
  if (options.push !== true && options.tenant !== undefined) {
    throw new BundlePullError('--tenant is for --push: add --push to publish the bundle');
  }
  return options.tenant;
}

/** The downloaded archive rebuilt; its problems printed, one line each, when it cannot be. */
async function rebuild(
  bytes: Uint8Array,
  where: string,
  options: PullOptions,
  io: CliIO,
): Promise<Rebuilt> {
  try {
    return await rebuildBundle({
      files: entriesOf(bytes, where),
      entrypoints: options.entrypoint,
      name: options.name,
      version: options.version,
    });
  } catch (err) {
    if (!(err instanceof RebuildError)) throw err;
    for (const problem of err.problems) io.stderr(`${problem}\n`);
    const [first = 'it is not a valid bundle'] = err.problems;
    const more = err.problems.length > 1 ? ` (and ${err.problems.length - 1} more)` : '';
    throw new BundlePullError(`the bundle from ${where} was not rebuilt: ${first}${more}`);
  }
}

/** Publishes the rebuilt bundle as `verdict push` does; it must carry a name and a version. */
async function push(client: AdminClient, tenant: string, rebuilt: Rebuilt): Promise<VersionView> {
  const { manifest, tarGz } = rebuilt.bundle;
  const missing = (['name', 'version'] as const).filter((f) => manifest[f] === undefined);
  if (missing.length > 0) {
    throw new AdminCommandError(
      `the bundle's .manifest has no ${missing.join(' or ')}: pass ${missing.map((f) => `--${f}`).join(' and ')} to push it`,
    );
  }
  return pushBundle(client, tarGz, { tenant });
}

export async function runPull(
  url: string,
  options: PullOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const where = shown(bundleUrl(url));
  const tenant = pushTenant(options);
  // With --push, a missing credential is told before anything is downloaded.
  const client = tenant === undefined ? undefined : new AdminClient(options, env);
  const fromEnv = env.VERDICT_BUNDLE_TOKEN?.trim();
  const download = await downloadBundle({
    url,
    token: options.bundleToken ?? (fromEnv === '' ? undefined : fromEnv),
    etag: options.etag,
    maxBytes: maxBytesOf(options.maxBytes),
    timeoutMs: downloadTimeoutMs,
  });
  if (download.kind === 'not-modified') {
    if (options.json === true) {
      printJson(io, { url: where, not_modified: true, etag: download.etag ?? null });
    } else {
      io.stdout(`${where} has not changed (ETag ${download.etag ?? '?'}): nothing written\n`);
    }
    return;
  }
  const rebuilt = await rebuild(download.bytes, where, options, io);
  const { manifest, tarGz } = rebuilt.bundle;
  const out = options.out ?? (tenant === undefined ? 'bundle.tar.gz' : undefined);
  if (out !== undefined) {
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.writeFileSync(out, tarGz);
  }
  const pushed =
    client === undefined || tenant === undefined
      ? undefined
      : { tenant, version: await push(client, tenant, rebuilt) };
  if (options.json === true) {
    printJson(io, {
      url: where,
      etag: download.etag ?? null,
      out: out ?? null,
      revision: manifest.revision,
      source_revision: rebuilt.sourceRevision ?? null,
      entrypoints: manifest.entrypoints,
      dropped_wasm: rebuilt.droppedWasm,
      ...(pushed === undefined ? {} : { pushed: pushed.version }),
    });
    return;
  }
  const etag = download.etag === undefined ? '' : ` (ETag ${download.etag})`;
  io.stdout(
    `pulled ${where}${etag}: ${out === undefined ? 'built' : `wrote ${out}`}, revision ${manifest.revision}, entrypoints ${manifest.entrypoints.join(', ')}${notes(rebuilt)}\n`,
  );
  if (pushed !== undefined) {
    const { bundle, version, revision } = pushed.version;
    io.stdout(
      `pushed ${bundle} ${version} (revision ${revision}) to tenant ${pushed.tenant}; activate it with \`verdict activate --tenant ${pushed.tenant} --bundle ${bundle} --version ${version}\`\n`,
    );
  }
}

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

/** Adds `pull` to the `bundles` command group. */
export function registerPull(bundles: Command): void {
  withAdminOptions(
    bundles
      .command('pull')
      .description(
        'Download a bundle from an OPA-style bundle server, compile its Rego with Verdict, and write (or push) a Verdict bundle.',
      )
      .argument('<url>', 'bundle URL, e.g. https://bundles.example.com/authz/bundle.tar.gz')
      .option('-o, --out <file>', 'bundle file to write (default bundle.tar.gz; none with --push)')
      .option(
        '--bundle-token <token>',
        'bearer token of the bundle server (default: $VERDICT_BUNDLE_TOKEN)',
      )
      .option('--etag <etag>', 'ETag of the copy you have: an unchanged bundle is not downloaded')
      .option(
        '-e, --entrypoint <path>',
        "rule to serve, as pkg/rule (repeatable; adds to the manifest's)",
        collect,
        [],
      )
      .option('--name <name>', "bundle name, when the bundle's .manifest has none (OPA bundles)")
      .option('--version <version>', "semantic version, when the bundle's .manifest has none")
      .option('--max-bytes <bytes>', `largest download accepted (default ${defaultMaxBytes})`)
      .option('--push', 'publish the rebuilt bundle to a tenant, as `verdict push` does')
      .option('--tenant <tenant>', 'tenant to push to (with --push)'),
  )
    .addHelpText(
      'after',
      "\nExamples:\n  $ verdict bundles pull https://bundles.example.com/authz/bundle.tar.gz -e authz/allow -o authz.tar.gz\n  $ verdict bundles pull $URL --bundle-token $TOKEN --etag '\"3f2a\"' -e authz/allow -o authz.tar.gz\n  $ verdict bundles pull $URL -e authz/allow --name authz --version 1.4.0 --push --tenant acme\n\n--token, --server and --json are those of `verdict push` (the Verdict server); --bundle-token is the bundle server's.\n",
    )
    .action(async (url: string, options: PullOptions) => {
      await runPull(url, options);
    });
}
