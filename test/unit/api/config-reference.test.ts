import fs from 'node:fs';
import path from 'node:path';
import {
  configReferenceTable,
  referenceEnd,
  referenceStart,
  withConfigReference,
} from '../../../api/config-reference';
import { settingsReference } from '../../../api/config';

const operationsPage = path.join(__dirname, '../../../docs/operations.md');

describe('the settings reference', () => {
  it('in docs/operations.md is the one the schema renders (else run npm run docs:config)', () => {
    const page = fs.readFileSync(operationsPage, 'utf8');
    expect(withConfigReference(page, configReferenceTable())).toBe(page);
  });

  it('has a row for every setting, with its default, and marks secrets', () => {
    const table = configReferenceTable();
    const settings = settingsReference();
    expect(table.split('\n')).toHaveLength(settings.length + 2);
    expect(table).toContain('| `PORT` | `8181` | an integer from 0 to 65535');
    expect(table).toMatch(/\| `DATABASE_URL` \| unset \| .*Secret: never logged \|/);
    expect(table).not.toMatch(/\| `PORT` .*Secret/);
  });

  it('escapes pipes inside a cell', () => {
    expect(configReferenceTable()).not.toMatch(/[^\\]\|[^ \n]/);
  });

  it('replaces only the text between the markers', () => {
    const page = `intro\n${referenceStart}\nold\n${referenceEnd}\noutro\n`;
    expect(withConfigReference(page, 'new')).toBe(
      `intro\n${referenceStart}\n\nnew\n\n${referenceEnd}\noutro\n`,
    );
  });

  it('refuses a page without the markers', () => {
    expect(() => withConfigReference('no section here', 'table')).toThrow(/config-reference:start/);
  });
});
