/**
 * The Grafana dashboard (deploy/grafana/verdict-dashboard.json) against the metrics Verdict
 * exposes: every metric name its PromQL reads must be one the registry renders, and every
 * Verdict metric must be on the dashboard, so neither can drift from the other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exposedNames, metricNames, promqlProblems } from '../../helpers/promql';

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
  readonly panels?: readonly Panel[];
}

interface Dashboard {
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly query?: unknown }[] };
}

const file = path.resolve(__dirname, '../../../deploy/grafana/verdict-dashboard.json');
const dashboard = JSON.parse(fs.readFileSync(file, 'utf8')) as Dashboard;

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

const graphs = allPanels(dashboard.panels).filter((panel) => panel.type !== 'row');
const expressions = graphs.flatMap((panel) => (panel.targets ?? []).map((t) => t.expr));

/** Metrics the variables list values of: `label_values(metric{...}, label)`. */
const variableMetrics = dashboard.templating.list.flatMap((variable) => {
  const query = variable.query as { query?: unknown } | string | undefined;
  const text = typeof query === 'string' ? query : query?.query;
  if (typeof text !== 'string') return [];
  const match = /^label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)/.exec(text);
  return match === null ? [] : [match[1] as string];
});

describe('the Grafana dashboard', () => {
  it('reads metric names out of PromQL', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(a_bucket{job=~"$job", x="b(c)"}[$__rate_interval]))) / on (job) b_total',
      ),
    ).toEqual(['a_bucket', 'b_total']);
  });

  it('has only well-formed queries', () => {
    expect(expressions.flatMap((expr) => promqlProblems(expr).map((p) => `${expr}: ${p}`))).toEqual(
      [],
    );
  });

  it('has a query in every panel', () => {
    expect(graphs.length).toBeGreaterThan(10);
    const empty = graphs.filter((panel) => (panel.targets ?? []).length === 0);
    expect(empty.map((panel) => panel.title)).toEqual([]);
  });

  it('reads only metrics the registry exposes', async () => {
    const exposed = await exposedNames();
    const read = new Set([...expressions.flatMap(metricNames), ...variableMetrics]);
    expect(read.size).toBeGreaterThan(20);
    expect([...read].filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('shows every Verdict metric', async () => {
    const exposed = await exposedNames();
    const read = new Set(expressions.flatMap(metricNames));
    const family = (name: string): string => name.replace(/_(bucket|sum|count)$/, '');
    const shown = new Set([...read].map(family));
    const missing = [...exposed]
      .filter((name) => name.startsWith('verdict_'))
      .map(family)
      .filter((name) => !shown.has(name));
    expect([...new Set(missing)]).toEqual([]);
  });
});
