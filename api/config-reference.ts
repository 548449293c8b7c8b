/**
 * The settings reference of docs/operations.md, rendered from the configuration schema so the
 * page cannot drift from what `loadConfig` accepts. `npm run docs:config` rewrites the page;
 * a unit test fails while it is out of date.
 */
import { settingsReference, type SettingReference } from './config';

// Prettier leaves the table as rendered, so the page and the renderer agree byte for byte.
export const referenceStart =
  '<!-- config-reference:start (npm run docs:config) -->\n<!-- prettier-ignore-start -->';
export const referenceEnd = '<!-- prettier-ignore-end -->\n<!-- config-reference:end -->';

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function row(setting: SettingReference): string {
  const fallback =
    setting.defaultValue === undefined ? 'unset' : `\`${String(setting.defaultValue)}\``;
  const expected = setting.secret ? `${setting.expected}. Secret: never logged` : setting.expected;
  return `| \`${setting.name}\` | ${fallback} | ${cell(expected)} |`;
}

/** The Markdown table, one row per setting. */
export function configReferenceTable(): string {
  return [
    '| variable | default | value |',
    '| --- | --- | --- |',
    ...settingsReference().map(row),
  ].join('\n');
}

/**
 * `page` with the text between the reference markers replaced by `table`. Throws when the
 * markers are missing, so a moved section is noticed rather than duplicated.
 */
export function withConfigReference(page: string, table: string): string {
  const start = page.indexOf(referenceStart);
  const end = page.indexOf(referenceEnd);
  if (start < 0 || end < start) {
    throw new Error(`the page has no ${referenceStart} ... ${referenceEnd} section`);
  }
  return `${page.slice(0, start + referenceStart.length)}\n\n${table}\n\n${page.slice(end)}`;
}
