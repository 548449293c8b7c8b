/**
 * The alert rules (deploy/prometheus/verdict-alerts.yaml) against the metrics Verdict exposes
 * and the runbooks in docs/operations.md: the file is a Prometheus rule file, every
 * expression is well formed and reads only metrics, labels and label values that exist,
 * every alert has a severity, a summary and a runbook link to its own heading, and every
 * runbook heading has its alert. promtool is not needed: the YAML is read as data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { VerdictMetrics, decisionOutcomes } from '../../../api/services/metrics';
import { statusClasses } from '../../../api/services/metrics/http';
import { securityEventTypes } from '../../../api/services/security/events';
import { exposedNames, metricNames, promqlProblems } from '../../helpers/promql';

interface Rule {
  readonly alert?: unknown;
  readonly expr?: unknown;
  readonly for?: unknown;
  readonly labels?: Readonly<Record<string, unknown>>;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Rule[] }[];
}

const root = path.resolve(__dirname, '..', '..', '..');
const ruleFile = parse(
  fs.readFileSync(path.join(root, 'deploy', 'prometheus', 'verdict-alerts.yaml'), 'utf8'),
) as RuleFile;
const operations = fs.readFileSync(path.join(root, 'docs', 'operations.md'), 'utf8');

const rules = ruleFile.groups.flatMap((group) => group.rules);
const alertName = (rule: Rule): string => String(rule.alert);
const exprOf = (rule: Rule): string => String(rule.expr);

/** Series Prometheus makes itself, with the labels its scrape gives them. */
const prometheusSeries: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>(
  [['up', ['job', 'instance']]],
);

/** Label values that can only be one of a fixed list. */
const labelValues: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['verdict_security_events_total.type', securityEventTypes],
  ['verdict_decisions_total.outcome', decisionOutcomes],
  ['verdict_http_requests_total.status_class', statusClasses],
  ['verdict_bundle_activations_total.outcome', ['reloaded', 'deferred', 'failed']],
  ['verdict_breaker_state.dependency', ['database', 'redis']],
]);

/** Each `metric{label op "value", ...}` selector of an expression. */
function selectors(expr: string): { metric: string; label: string; value: string }[] {
  const found: { metric: string; label: string; value: string }[] = [];
  for (const match of expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}/g)) {
    for (const matcher of (match[2] as string).matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"([^"]*)"/g)) {
      found.push({
        metric: match[1] as string,
        label: matcher[1] as string,
        value: matcher[2] as string,
      });
    }
  }
  return found;
}

/** The label names of a metric family (histogram series add `le`). */
function labelNamesOf(metrics: VerdictMetrics, sample: string): readonly string[] | undefined {
  const own = prometheusSeries.get(sample);
  if (own !== undefined) return own;
  const family = sample.replace(/_(bucket|sum|count)$/, '');
  const metric = (metrics.registry.getSingleMetric(sample) ??
    metrics.registry.getSingleMetric(family)) as { labelNames?: readonly string[] } | undefined;
  if (metric === undefined) return undefined;
  return [...(metric.labelNames ?? []), ...(sample.endsWith('_bucket') ? ['le'] : [])];
}

/** GitHub's anchor of a heading. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The `### ` headings under `## Alerts and runbooks`, and the text under each. */
function runbooks(): Map<string, string> {
  const section = /^## Alerts and runbooks$([\s\S]*?)(?=^## )/m.exec(`${operations}\n## `);
  const found = new Map<string, string>();
  const parts = (section?.[1] ?? '').split(/^### /m).slice(1);
  for (const part of parts) {
    const [heading = '', ...body] = part.split('\n');
    found.set(heading.trim(), body.join('\n'));
  }
  return found;
}

describe('the Prometheus alert rules', () => {
  it('is a rule file of named groups of alerts with unique names', () => {
    expect(ruleFile.groups.length).toBeGreaterThan(2);
    for (const group of ruleFile.groups) {
      expect(group.name).toMatch(/^verdict-[a-z-]+$/);
      expect(group.rules.length).toBeGreaterThan(0);
    }
    const names = rules.map(alertName);
    expect(names.every((name) => /^Verdict[A-Z][A-Za-z0-9]+$/.test(name))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of rules) {
      expect(
        Object.keys(rule).filter(
          (key) => !['alert', 'expr', 'for', 'labels', 'annotations'].includes(key),
        ),
      ).toEqual([]);
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smhd]$/);
    }
  });

  it('covers what the operations guide promises to alert on', () => {
    const exprs = rules.map(exprOf).join('\n');
    for (const needle of [
      'up{job="verdict"} == 0',
      'status_class="5xx"',
      'verdict_decision_duration_seconds_bucket',
      'verdict_audit_queue_rows',
      'verdict_audit_spool_rows',
      'verdict_audit_rows_spooled_total',
      'verdict_audit_rows_failed_total',
      'verdict_audit_rows_dropped_total',
      'verdict_bundle_activations_total{outcome="failed"}',
      'verdict_engine_pool_load_failures_total',
      'type="login_failed"',
      'type="account_locked"',
      'type="cross_tenant_denied"',
    ]) {
      expect(exprs).toContain(needle);
    }
  });

  it('has only well-formed expressions', () => {
    const problems = rules.flatMap((rule) =>
      promqlProblems(exprOf(rule)).map((problem) => `${alertName(rule)}: ${problem}`),
    );
    expect(problems).toEqual([]);
  });

  it('finds shape problems in PromQL', () => {
    expect(promqlProblems('sum(rate(a[5m])')).toEqual(['( not closed']);
    expect(promqlProblems('rate(a[5m)]')).toEqual(['")" closes nothing open']);
    expect(promqlProblems('a{x="b}')).toContain('a string is not closed');
    expect(promqlProblems('rates(a[5m])')).toEqual(['unknown function rates']);
    expect(promqlProblems('sum by (job) (rate(a{x="f(y"}[5m])) > 0')).toEqual([]);
  });

  it('reads only metrics the registry exposes (and `up`)', async () => {
    const exposed = await exposedNames();
    const read = new Set(rules.flatMap((rule) => metricNames(exprOf(rule))));
    expect(read.size).toBeGreaterThan(10);
    expect([...read].filter((name) => !exposed.has(name) && !prometheusSeries.has(name))).toEqual(
      [],
    );
  });

  it('selects only labels the metrics have, and only values they can take', () => {
    const metrics = new VerdictMetrics();
    const wrong: string[] = [];
    for (const rule of rules) {
      for (const { metric, label, value } of selectors(exprOf(rule))) {
        const names = labelNamesOf(metrics, metric);
        if (names?.includes(label) !== true) wrong.push(`${alertName(rule)}: ${metric}.${label}`);
        const values = labelValues.get(`${metric}.${label}`);
        if (values !== undefined && !values.includes(value)) {
          wrong.push(`${alertName(rule)}: ${metric}{${label}="${value}"}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('gives every alert a severity, a summary, a description and a runbook heading of its own', () => {
    const headings = runbooks();
    for (const rule of rules) {
      const name = alertName(rule);
      expect([name, rule.labels?.severity]).toEqual([
        name,
        expect.stringMatching(/^(critical|warning)$/),
      ]);
      expect(rule.annotations?.summary).toEqual(expect.stringMatching(/\S/));
      expect(rule.annotations?.description).toEqual(expect.stringMatching(/\S/));
      expect(rule.annotations?.runbook_url).toBe(`docs/operations.md#${anchorOf(name)}`);
      expect([name, headings.has(name)]).toEqual([name, true]);
    }
  });

  it('has an alert for every runbook, and every runbook says what, what to check, why and what to do', () => {
    const names = new Set(rules.map(alertName));
    const headings = runbooks();
    expect(headings.size).toBeGreaterThan(10);
    for (const [heading, body] of headings) {
      expect([heading, names.has(heading)]).toEqual([heading, true]);
      for (const part of [
        '**What it means.**',
        '**First checks.**',
        '**Likely causes.**',
        '**What to do.**',
      ]) {
        expect([heading, body.includes(part)]).toEqual([heading, true]);
      }
    }
  });
});
