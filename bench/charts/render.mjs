// Charts of the benchmark figures: reads docs/bench-data/*.json (written by the bench scripts'
// --write) and renders PNGs into docs/.
// Usage: npm run bench:charts [-- --data DIR --out DIR]   (defaults: docs/bench-data, docs)
//   http.json -> bench-http-throughput.png, bench-http-latency.png (Verdict beside Cerbos; the
//                median of the rounds at each connection count)
//   soak.json -> bench-soak.png (memory, event-loop delay and request latency over time)
// The SVG comes from bench/charts/svg.mjs; @resvg/resvg-js rasterizes it with the system's
// fonts (DejaVu Sans on Debian).
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { barPanel, compact, linePanel, palette, svgDocument, text } from './svg.mjs';

const require = createRequire(import.meta.url);
const { Resvg } = require('@resvg/resvg-js');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] ? path.resolve(argv[at + 1]) : fallback;
};
const dataDir = option('data', path.join(root, 'docs/bench-data'));
const outDir = option('out', path.join(root, 'docs'));

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = (sorted.length - 1) / 2;
  return (sorted[Math.floor(middle)] + sorted[Math.ceil(middle)]) / 2;
};
const ms = (v) => `${compact(v)}`;
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function png(name, svg) {
  const file = path.join(outDir, name);
  const rendered = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    fitTo: { mode: 'width', value: 2 * Number(/width="(\d+)"/.exec(svg)[1]) },
  }).render();
  fs.writeFileSync(file, rendered.asPng());
  console.log(`wrote ${path.relative(process.cwd(), file)} (${rendered.width}×${rendered.height})`);
}

/** A footer line naming where the figures come from. */
const source = (data, height) =>
  text(
    12,
    height - 10,
    `${data.command} · ${data.measuredAt.slice(0, 10)} · Node ${data.node} · ${data.cores} cores`,
    { size: 10, fill: palette.grey },
  );

function httpCharts(data) {
  const levels = [...new Set(data.results.map((r) => r.connections))].sort((a, b) => a - b);
  const servers = ['Verdict', 'Cerbos'];
  const of = (label, connections) =>
    data.results.filter((r) => r.label === label && r.connections === connections);
  const medianOf = (label, key) => levels.map((c) => median(of(label, c).map((r) => r[key])));
  // A paced level runs at a fixed total rate (bench/http --paced-from): its requests/s is that
  // rate, not a maximum, and the chart says so under its name.
  const pacedAt = (c) => data.results.find((r) => r.connections === c && r.paced)?.paced;
  const categories = levels.map(
    (c) =>
      `${c.toLocaleString('en-US')} conns${pacedAt(c) ? `\npaced at ${compact(pacedAt(c))}/s` : ''}`,
  );
  const roundsText = plural(data.rounds ?? 1, 'round');
  const failures = levels
    .map((c) => {
      const counts = servers.map((label) => {
        const runs = of(label, c);
        const errors = runs.reduce((s, r) => s + (r.errors ?? 0), 0);
        const non2xx = runs.reduce((s, r) => s + (r.non2xx ?? 0), 0);
        return errors + non2xx > 0 ? `${label} ${errors} errors, ${non2xx} non-2xx` : '';
      });
      const said = counts.filter(Boolean);
      return said.length > 0 ? `${c.toLocaleString('en-US')} conns: ${said.join('; ')}` : '';
    })
    .filter(Boolean);
  const notes = [
    `Median of ${roundsText} of ${data.durationSeconds} s per server and level; ${data.peer}, ${data.loadGenerator}, load generator on the same cores.`,
    `Cerbos checks ${data.cerbosActions} actions per request, Verdict answers one decision per request` +
      (data.verdictWorkers ? ` with ${plural(data.verdictWorkers, 'HTTP worker')}.` : '.'),
    ...(levels.some(pacedAt)
      ? [
          'Paced levels: every connection open at once, a fixed total rate; their requests/s is that rate, not a maximum.',
        ]
      : []),
    ...(failures.length > 0 ? [`Failed requests (all rounds): ${failures.join(' · ')}`] : []),
    ...(data.skipped ?? []).map((s) => `${s.connections} conns not run: ${s.reason}`),
  ];

  // Throughput: requests/s and decisions/s, side by side.
  {
    const width = 1000;
    const panelHeight = 380;
    const height = panelHeight + 30 + notes.length * 16 + 24;
    const series = (key) =>
      servers.map((label) => ({
        name: label,
        color: palette[label],
        values: medianOf(label, key),
      }));
    const fragments = [
      barPanel(
        { x: 0, y: 8, width: width / 2, height: panelHeight },
        {
          title: 'Requests / s (higher is better)',
          categories,
          series: series('perSecond'),
          yLabel: 'requests / s',
        },
      ),
      barPanel(
        { x: width / 2, y: 8, width: width / 2, height: panelHeight },
        {
          title: 'Decisions / s (higher is better)',
          categories,
          series: series('decisionsPerSecond'),
          yLabel: 'decisions / s',
        },
      ),
      ...notes.map((note, i) => text(12, panelHeight + 30 + i * 16, note, { size: 11 })),
      source(data, height),
    ];
    png('bench-http-throughput.png', svgDocument(width, height, fragments));
  }

  // Latency: one panel per connection count (their scales differ by orders of magnitude).
  {
    const width = Math.max(1000, 400 * levels.length);
    const panelHeight = 360;
    const height = panelHeight + 30 + notes.length * 16 + 24;
    const percentiles = ['p50', 'p95', 'p99'];
    const fragments = levels.map((connections, i) =>
      barPanel(
        { x: i * (width / levels.length), y: 8, width: width / levels.length, height: panelHeight },
        {
          title: `${connections.toLocaleString('en-US')} connections: latency`,
          categories: percentiles,
          series: servers.map((label) => ({
            name: label,
            color: palette[label],
            values: percentiles.map((p) => median(of(label, connections).map((r) => r[p]))),
          })),
          yLabel: 'ms (lower is better)',
          format: ms,
        },
      ),
    );
    fragments.push(
      ...notes.map((note, i) => text(12, panelHeight + 30 + i * 16, note, { size: 11 })),
    );
    fragments.push(source(data, height));
    png('bench-http-latency.png', svgDocument(width, height, fragments));
  }
}

function soakChart(data) {
  const width = 1000;
  const panelHeight = 300;
  const minutesOf = (t) => t / 60;
  const mb = (bytes) => bytes / 1024 / 1024;
  const band = [0, minutesOf(data.warmupSeconds), 'warm-up'];
  const line = (name, color, pick, dash) => ({
    name,
    color,
    dash,
    points: data.series.map((p) => [minutesOf(p.t), pick(p)]),
  });
  const growth = `${data.memory.rssGrowth >= 0 ? '+' : ''}${(data.memory.rssGrowth * 100).toFixed(1)}%`;
  const panels = [
    {
      title: `Server memory (RSS ${growth} after the warm-up)`,
      yLabel: 'MB',
      series: [
        line('RSS', palette.Verdict, (p) => mb(p.rss)),
        line('heap total', palette.grey, (p) => mb(p.heapTotal), '5 4'),
        line('heap used', palette.Cerbos, (p) => mb(p.heapUsed)),
      ],
    },
    {
      title: 'Server event-loop delay per sample',
      yLabel: 'ms',
      series: [
        line('p50', '#16a34a', (p) => p.loopDelay.p50),
        line('p99', palette.Verdict, (p) => p.loopDelay.p99),
        line('max', palette.Cerbos, (p) => p.loopDelay.max, '5 4'),
      ],
    },
    {
      title: `Request latency per sample (${compact(data.rate)} requests / s asked)`,
      yLabel: 'ms',
      series: [
        line('p50', '#16a34a', (p) => p.requests.p50),
        line('p99', palette.Verdict, (p) => p.requests.p99),
      ],
    },
  ];
  const height = panels.length * panelHeight + 40;
  const fragments = panels.map((panel, i) =>
    linePanel(
      { x: 0, y: 8 + i * panelHeight, width, height: panelHeight },
      { ...panel, xLabel: 'minutes', band, domain: data.minutes },
    ),
  );
  const audit = data.audit.equal
    ? `audit rows = answered decisions (${data.audit.rows.toLocaleString('en-US')})`
    : `audit rows ${data.audit.rows} ≠ answered ${data.audit.answered}`;
  fragments.push(
    text(
      12,
      height - 24,
      `${data.requests.answered.toLocaleString('en-US')} requests answered, ${data.requests.errors} errors; ${audit}.`,
      {
        size: 11,
      },
    ),
  );
  fragments.push(source(data, height));
  png('bench-soak.png', svgDocument(width, height, fragments));
}

const renderers = { 'http.json': httpCharts, 'soak.json': soakChart };
fs.mkdirSync(outDir, { recursive: true });
const files = fs.existsSync(dataDir)
  ? fs
      .readdirSync(dataDir)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];
if (files.length === 0)
  console.log(`no figures in ${path.relative(root, dataDir)}: run a bench with --write first`);
for (const file of files) {
  const render = renderers[file];
  if (!render) {
    console.log(`no chart for docs/bench-data/${file}`);
    continue;
  }
  render(JSON.parse(fs.readFileSync(path.join(dataDir, file), 'utf8')));
}
