#!/usr/bin/env node
// The dependency check of CI (.ci/run): the production dependency tree must match the lockfile
// (`npm ls --omit=dev --all`), and `npm audit --omit=dev` must report no high or critical
// advisory. When the registry cannot answer the audit (unreachable, or it refuses the audit
// endpoint), the check says so in a line of its own: `dependency audit: NOT RUN (...)`. That
// fails the check only with VERDICT_REQUIRE_AUDIT=1, since an outage of the advisory service
// is no finding about the code; set it where the registry is known to serve audits.
//
// Exit status: 0 clean (or audit not run without VERDICT_REQUIRE_AUDIT=1), 1 otherwise.
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import process from 'node:process';

const failingLevels = ['high', 'critical'];

function run(args) {
  const result = spawnSync('npm', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return result;
}

/** What `npm audit --json` printed: advisories by level, or why there are none. */
function readAudit(stdout) {
  let report;
  try {
    report = JSON.parse(stdout);
  } catch {
    return { ran: false, reason: 'npm audit printed no JSON report' };
  }
  const counts = report?.metadata?.vulnerabilities;
  if (counts === undefined || counts === null) {
    const reason =
      report?.message || report?.error?.summary || report?.error?.code || 'no report in the answer';
    return { ran: false, reason };
  }
  const names = Object.entries(report.vulnerabilities ?? {})
    .filter(([, v]) => failingLevels.includes(v.severity))
    .map(([name, v]) => `${name} (${v.severity})`);
  return { ran: true, counts, failing: names };
}

function main() {
  let ok = true;
  const tree = run(['ls', '--omit=dev', '--all']);
  if (tree.status === 0) {
    console.log('dependency tree: matches the lockfile');
  } else {
    ok = false;
    console.log('dependency tree: DOES NOT match the lockfile (npm ls --omit=dev --all):');
    console.log(tree.stderr.trim() || tree.stdout.trim());
  }

  const audit = readAudit(
    run(['audit', '--omit=dev', '--json', '--fetch-timeout=30000', '--fetch-retries=1']).stdout,
  );
  if (!audit.ran) {
    const required = process.env.VERDICT_REQUIRE_AUDIT === '1';
    console.log(
      `dependency audit: NOT RUN (${audit.reason})${required ? '' : ' - not required here'}`,
    );
    if (required) ok = false;
  } else {
    const { counts, failing } = audit;
    const summary = ['critical', 'high', 'moderate', 'low'].map((l) => `${counts[l] ?? 0} ${l}`);
    console.log(`dependency audit: ${summary.join(', ')} (production dependencies)`);
    if (failing.length > 0) {
      ok = false;
      console.log(`dependency audit: FAILED: ${failing.join(', ')}; run npm audit --omit=dev`);
    }
  }
  process.exitCode = ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
