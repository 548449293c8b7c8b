// Charts as SVG text: grouped bars and lines in panels, with axes, ticks, labels and legends.
// Each panel function draws into a box ({ x, y, width, height }) and returns an SVG fragment;
// `svgDocument` wraps fragments into a whole picture.

export const font = 'DejaVu Sans, Verdana, sans-serif';
export const palette = {
  Verdict: '#2f6fdf',
  Cerbos: '#e0812b',
  grey: '#6b7280',
  grid: '#e5e7eb',
  text: '#111827',
};

const escape = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );
const round = (n) => Math.round(n * 100) / 100;

/** Text at (x, y); `anchor` start | middle | end. */
export function text(x, y, content, { size = 12, anchor = 'start', weight, fill, rotate } = {}) {
  const attributes = [
    `x="${round(x)}"`,
    `y="${round(y)}"`,
    `font-family="${font}"`,
    `font-size="${size}"`,
    `text-anchor="${anchor}"`,
    `fill="${fill ?? palette.text}"`,
    weight ? `font-weight="${weight}"` : '',
    rotate ? `transform="rotate(${rotate} ${round(x)} ${round(y)})"` : '',
  ].filter(Boolean);
  return `<text ${attributes.join(' ')}>${escape(content)}</text>`;
}

export function svgDocument(width, height, fragments) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...fragments,
    '</svg>',
  ].join('\n');
}

/** Round tick steps (1, 2, 2.5, 5 times a power of ten) covering 0..max in about `count` steps. */
export function ticks(max, count = 5) {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
  // A maximum a hair above a round value (600.02 s) does not earn a whole further step.
  const top = Math.ceil(max / step - 1e-3) * step;
  const values = [];
  for (let v = 0; v <= top + step / 2; v += step) values.push(Math.round(v / step) * step);
  return values;
}

/** Short numbers for axes and labels: 1,234 · 12.5k · 3.4M; small values keep decimals. */
export function compact(n) {
  const size = Math.abs(n);
  if (size >= 1e6) return `${+(n / 1e6).toFixed(size >= 1e7 ? 0 : 1)}M`;
  if (size >= 1e4) return `${+(n / 1e3).toFixed(size >= 1e5 ? 0 : 1)}k`;
  if (size >= 100) return Math.round(n).toLocaleString('en-US');
  if (size >= 10) return `${+n.toFixed(1)}`;
  if (size === 0) return '0';
  return `${+n.toFixed(2)}`;
}

/** Legend entries side by side from (x, y); `shape` bar or line. */
export function legend(x, y, items, { shape = 'bar' } = {}) {
  const parts = [];
  let at = x;
  for (const item of items) {
    if (shape === 'bar')
      parts.push(`<rect x="${at}" y="${y - 9}" width="12" height="12" fill="${item.color}"/>`);
    else
      parts.push(
        `<line x1="${at}" y1="${y - 3}" x2="${at + 18}" y2="${y - 3}" stroke="${item.color}" stroke-width="2.5"${item.dash ? ` stroke-dasharray="${item.dash}"` : ''}/>`,
      );
    const offset = shape === 'bar' ? 17 : 23;
    parts.push(text(at + offset, y + 2, item.name, { size: 12 }));
    at += offset + item.name.length * 7 + 20;
  }
  return parts.join('\n');
}

/** Axes, horizontal grid and y ticks for a plot area; returns the fragment and the y scale. */
function frame(area, maxValue, { yLabel, format = compact, tickCount = 5 }) {
  const values = ticks(maxValue, tickCount);
  const top = values[values.length - 1];
  const y = (v) => area.y + area.height - (v / top) * area.height;
  const parts = [];
  for (const v of values) {
    parts.push(
      `<line x1="${area.x}" y1="${round(y(v))}" x2="${area.x + area.width}" y2="${round(y(v))}" stroke="${v === 0 ? palette.grey : palette.grid}" stroke-width="1"/>`,
    );
    parts.push(
      text(area.x - 6, y(v) + 4, format(v), { size: 11, anchor: 'end', fill: palette.grey }),
    );
  }
  parts.push(
    `<line x1="${area.x}" y1="${area.y}" x2="${area.x}" y2="${area.y + area.height}" stroke="${palette.grey}" stroke-width="1"/>`,
  );
  if (yLabel)
    parts.push(
      text(area.x - 48, area.y + area.height / 2, yLabel, {
        size: 12,
        anchor: 'middle',
        rotate: -90,
        fill: palette.grey,
      }),
    );
  return { fragment: parts.join('\n'), y };
}

/** The plot area inside a panel's box, leaving room for title, axes and legend. */
const plotArea = (box, { legendRows = 1 } = {}) => ({
  x: box.x + 64,
  y: box.y + 34 + legendRows * 20,
  width: box.width - 80,
  height: box.height - 34 - legendRows * 20 - 44,
});

/**
 * Grouped bars: one group per category, one bar per series.
 * series: [{ name, color, values: [one per category, or null when missing] }]
 */
export function barPanel(box, { title, categories, series, yLabel, xLabel, format = compact }) {
  const area = plotArea(box);
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const { fragment, y } = frame(area, Math.max(...all, 0) * 1.08, { yLabel, format });
  const parts = [
    text(box.x + box.width / 2, box.y + 18, title, { size: 14, anchor: 'middle', weight: 'bold' }),
  ];
  parts.push(legend(area.x, box.y + 40, series));
  parts.push(fragment);
  const group = area.width / categories.length;
  const barWidth = Math.min(56, (group * 0.7) / series.length);
  // A label wider than its bar (about 6.2 px a character at 10 px) gives thousands as "2.4k",
  // so neighbouring labels do not run together.
  const label = (v) => {
    const full = format(v);
    if (full.length * 6.2 <= barWidth - 2 || Math.abs(v) < 1000) return full;
    return `${+(v / 1000).toFixed(Math.abs(v) >= 1e4 ? 0 : 1)}k`;
  };
  categories.forEach((category, i) => {
    const left = area.x + group * i + (group - barWidth * series.length) / 2;
    series.forEach((s, k) => {
      const value = s.values[i];
      const x = left + k * barWidth;
      if (!Number.isFinite(value)) {
        parts.push(
          text(x + barWidth / 2, y(0) - 4, 'n/a', {
            size: 10,
            anchor: 'middle',
            fill: palette.grey,
          }),
        );
        return;
      }
      const top = y(value);
      parts.push(
        `<rect x="${round(x + 1)}" y="${round(top)}" width="${round(barWidth - 2)}" height="${round(y(0) - top)}" fill="${s.color}"/>`,
      );
      parts.push(text(x + barWidth / 2, top - 4, label(value), { size: 10, anchor: 'middle' }));
    });
    // A category name may hold a second line after "\n", in smaller grey type.
    category.split('\n').forEach((line, k) =>
      parts.push(
        text(area.x + group * (i + 0.5), area.y + area.height + 17 + k * 14, line, {
          size: k === 0 ? 12 : 10,
          anchor: 'middle',
          fill: k === 0 ? palette.text : palette.grey,
        }),
      ),
    );
  });
  if (xLabel)
    parts.push(
      text(area.x + area.width / 2, area.y + area.height + 36, xLabel, {
        size: 12,
        anchor: 'middle',
        fill: palette.grey,
      }),
    );
  return parts.join('\n');
}

/**
 * Lines over a numeric x axis.
 * series: [{ name, color, dash?, points: [[x, y], ...] }]; band: optional [x0, x1, label] shaded;
 * domain: the x axis runs from 0 to at least this (default: the largest x).
 */
export function linePanel(
  box,
  { title, series, yLabel, xLabel, format = compact, xFormat = compact, band, domain },
) {
  const area = plotArea(box);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => Number.isFinite(v));
  const xMax = Math.max(domain ?? 0, ...xs);
  const xTicks = ticks(xMax, 8);
  const xTop = xTicks[xTicks.length - 1];
  const x = (v) => area.x + (v / xTop) * area.width;
  const { fragment, y } = frame(area, Math.max(...ys, 0) * 1.08, { yLabel, format });
  const parts = [
    text(box.x + box.width / 2, box.y + 18, title, { size: 14, anchor: 'middle', weight: 'bold' }),
  ];
  if (band) {
    parts.push(
      `<rect x="${round(x(band[0]))}" y="${area.y}" width="${round(x(band[1]) - x(band[0]))}" height="${area.height}" fill="#f3f4f6"/>`,
    );
    parts.push(text(x(band[0]) + 4, area.y + 14, band[2], { size: 10, fill: palette.grey }));
  }
  parts.push(legend(area.x, box.y + 40, series, { shape: 'line' }));
  parts.push(fragment);
  for (const v of xTicks) {
    parts.push(
      `<line x1="${round(x(v))}" y1="${area.y + area.height}" x2="${round(x(v))}" y2="${area.y + area.height + 4}" stroke="${palette.grey}"/>`,
    );
    parts.push(
      text(x(v), area.y + area.height + 17, xFormat(v), {
        size: 11,
        anchor: 'middle',
        fill: palette.grey,
      }),
    );
  }
  for (const s of series) {
    const path = s.points
      .filter((p) => Number.isFinite(p[1]))
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${round(x(p[0]))},${round(y(p[1]))}`)
      .join(' ');
    parts.push(
      `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"/>`,
    );
  }
  if (xLabel)
    parts.push(
      text(area.x + area.width / 2, area.y + area.height + 36, xLabel, {
        size: 12,
        anchor: 'middle',
        fill: palette.grey,
      }),
    );
  return parts.join('\n');
}
