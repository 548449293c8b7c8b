/**
 * The allow/deny chart: one stacked bar per time bucket (allowed at the bottom, denied above,
 * other on top), drawn as inline SVG. Each bar group has a title naming its counts, so the
 * numbers are there for screen readers and on hover, not only as heights.
 */
import { svg } from './dom.js';
import { formatBucketStart } from './format.js';

const width = 1200;
const height = 200;
const margin = { top: 10, right: 12, bottom: 26, left: 44 };
const kinds = ['allowed', 'denied', 'other'];

/**
 * The top of the count axis: 1, or the smallest of 2, 4, 6, 8 or 10 times a power of ten at or
 * above `value`, so the middle grid line falls on a whole count.
 */
export function niceCeiling(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [2, 4, 6, 8]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

function gridLines(plotWidth, plotHeight, yMax) {
  const lines = [];
  // Counts are whole: no middle line when the axis only goes up to 1.
  const fractions = yMax > 1 ? [0, 0.5, 1] : [0, 1];
  for (const fraction of fractions) {
    const y = margin.top + plotHeight * (1 - fraction);
    lines.push(
      svg('line', { class: 'grid', x1: margin.left, x2: margin.left + plotWidth, y1: y, y2: y }),
      svg(
        'text',
        { class: 'axis-label axis-count', x: margin.left - 6, y: y + 4, 'text-anchor': 'end' },
        String(yMax * fraction),
      ),
    );
  }
  return lines;
}

function timeLabels(buckets, bucket, band, plotHeight) {
  const count = Math.min(buckets.length, 6);
  const labels = [];
  const seen = new Set();
  for (let i = 0; i < count; i++) {
    const index = count === 1 ? 0 : Math.round((i * (buckets.length - 1)) / (count - 1));
    if (seen.has(index)) continue;
    seen.add(index);
    const x = margin.left + band * (index + 0.5);
    const anchor = i === 0 ? 'start' : i === count - 1 ? 'end' : 'middle';
    labels.push(
      svg(
        'text',
        {
          class: 'axis-label axis-time',
          x,
          y: margin.top + plotHeight + 18,
          'text-anchor': anchor,
        },
        formatBucketStart(buckets[index].start, bucket),
      ),
    );
  }
  return labels;
}

function bar(counts, bucket, x, barWidth, plotHeight, yMax) {
  const label =
    `${formatBucketStart(counts.start, bucket)} UTC: ` +
    `${counts.allowed} allowed, ${counts.denied} denied, ${counts.other} other`;
  const group = svg('g', { class: 'bucket', 'data-start': counts.start }, svg('title', {}, label));
  let base = margin.top + plotHeight;
  for (const kind of kinds) {
    const count = counts[kind];
    if (count === 0) continue;
    const barHeight = (count / yMax) * plotHeight;
    base -= barHeight;
    group.append(
      svg('rect', {
        class: `bar ${kind}`,
        'data-kind': kind,
        'data-count': count,
        x,
        y: base,
        width: barWidth,
        height: barHeight,
      }),
    );
  }
  return group;
}

/** An SVG chart of `stats` (the body of GET .../decisions/stats), labelled by `captionId`. */
export function drawChart(stats, captionId) {
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const buckets = stats.buckets;
  const yMax = niceCeiling(Math.max(0, ...buckets.map((b) => b.allowed + b.denied + b.other)));
  const band = plotWidth / Math.max(1, buckets.length);
  const barWidth = Math.max(1, band * 0.78);
  const chart = svg(
    'svg',
    {
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-labelledby': captionId,
      class: 'chart-svg',
    },
    ...gridLines(plotWidth, plotHeight, yMax),
  );
  buckets.forEach((counts, i) => {
    const x = margin.left + band * i + (band - barWidth) / 2;
    chart.append(bar(counts, stats.bucket, x, barWidth, plotHeight, yMax));
  });
  chart.append(...timeLabels(buckets, stats.bucket, band, plotHeight));
  const { allowed, denied, other } = stats.totals;
  if (allowed + denied + other === 0) {
    chart.append(
      svg(
        'text',
        { class: 'empty', x: width / 2, y: margin.top + plotHeight / 2, 'text-anchor': 'middle' },
        'No decisions in this range',
      ),
    );
  }
  return chart;
}
