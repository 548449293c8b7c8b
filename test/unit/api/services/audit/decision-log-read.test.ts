/**
 * The pure parts of reading the decision log: the `input=` filter syntax, the opaque page
 * cursor, and the JSON and CSV forms of a row.
 */
import { chainRow, type AuditRow } from '../../../../../api/services/audit/chain';
import {
  maxInputFilterDepth,
  parseInputFilter,
} from '../../../../../api/services/audit/input-filter';
import { decodeCursor, encodeCursor } from '../../../../../api/services/audit/search';
import {
  csvField,
  csvHeader,
  csvLine,
  spreadsheetSafe,
  decisionView,
  ndjsonLine,
} from '../../../../../api/services/audit/views';

describe('parseInputFilter', () => {
  it.each([
    ['input.subject.id=bob', ['subject', 'id'], 'bob'],
    ['input.age=42', ['age'], 42],
    ['input.age=-1.5e3', ['age'], -1500],
    ['input.age="42"', ['age'], '42'],
    ['input.ok=true', ['ok'], true],
    ['input.ok=false', ['ok'], false],
    ['input.gone=null', ['gone'], null],
    ['input.roles.0=admin', ['roles', '0'], 'admin'],
    ['input.a=x=y', ['a'], 'x=y'],
    ['input.a=', ['a'], ''],
    ['input.urn:x@y_z-1=v', ['urn:x@y_z-1'], 'v'],
    ['input.a=01', ['a'], '01'],
  ])('%s', (text, path, value) => {
    expect(parseInputFilter(text)).toEqual({ path, value });
  });

  it.each([
    ['input.subject', /path=value/],
    ['subject.id=bob', /must start with input\./],
    ['input=bob', /must start with input\./],
    ['input..a=1', /path member ""/],
    ["input.a'b=1", /path member "a'b"/],
    ['input.a="open', /not a JSON string/],
    ['input.a="x"y"', /not a JSON string/],
    [`input.${Array.from({ length: maxInputFilterDepth + 1 }, () => 'a').join('.')}=1`, /deeper/],
  ])('refuses %s', (text, reason) => {
    const parsed = parseInputFilter(text);
    expect(typeof parsed).toBe('string');
    expect(parsed).toMatch(reason);
  });
});

describe('page cursor', () => {
  it('round-trips and stays URL-safe', () => {
    const cursor = { ts: '2026-11-27T10:00:00.123456Z', seq: 42 };
    const token = encodeCursor(cursor);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(token)).toEqual(cursor);
  });

  it.each([
    ['not base64url', '!!'],
    ['no separator', Buffer.from('x').toString('base64url')],
    ['a bad time', Buffer.from('2026-11-27|1').toString('base64url')],
    ['a zero seq', Buffer.from('2026-11-27T10:00:00.000000Z|0').toString('base64url')],
    ['no seq', Buffer.from('2026-11-27T10:00:00.000000Z').toString('base64url')],
    ['extra parts', Buffer.from('2026-11-27T10:00:00.000000Z|1|2').toString('base64url')],
    ['too long', 'a'.repeat(201)],
  ])('refuses %s', (_what, token) => {
    expect(decodeCursor(token)).toBeUndefined();
  });
});

describe('views', () => {
  const row: AuditRow = chainRow(
    {
      tenantId: '0a000000-0000-4000-8000-00000000000a',
      decisionId: '0b000000-0000-4000-8000-00000000000b',
      ts: new Date('2026-11-27T10:00:00.000Z'),
      path: 'a,b',
      bundleName: 'rbac',
      bundleVersion: '1.0.0',
      bundleRevision: 'r1',
      input: { note: 'say "hi"\nthen go' },
      result: { allow: false },
      caller: null,
      cache: 'hit',
      durationUs: 3,
    },
    undefined,
  );

  it('gives the record with snake_case members and leaves absent input out', () => {
    expect(decisionView(row)).toEqual({
      decision_id: row.decisionId,
      seq: 1,
      ts: '2026-11-27T10:00:00.000Z',
      path: 'a,b',
      bundle_name: 'rbac',
      bundle_version: '1.0.0',
      bundle_revision: 'r1',
      input: { note: 'say "hi"\nthen go' },
      result: { allow: false },
      allowed: false,
      caller: null,
      cache: 'hit',
      duration_us: 3,
      kind: 'decision',
      prev_hash: row.prevHash,
      hash: row.hash,
    });
    const bare = decisionView({ ...row, input: undefined, result: undefined });
    expect(bare).not.toHaveProperty('input');
    expect(bare).not.toHaveProperty('result');
    expect(JSON.parse(ndjsonLine(row))).toEqual(decisionView(row));
    expect(ndjsonLine(row).endsWith('}\n')).toBe(true);
  });

  it('quotes CSV fields that need it and keeps JSON null apart from absent', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvHeader().split(',')).toHaveLength(18);
    const line = csvLine(row);
    expect(line).toBe(
      `${row.decisionId},1,2026-11-27T10:00:00.000Z,"a,b",rbac,1.0.0,r1,false,,hit,3,decision,,` +
        `"{""note"":""say \\""hi\\""\\nthen go""}","{""allow"":false}",${row.prevHash},${row.hash},\r\n`,
    );
    const nulls = csvLine({ ...row, input: null, result: undefined, allowed: null });
    expect(nulls).toContain(',,hit,3,decision,,null,,');
  });

  it('shows the trace id of a traced row, last in CSV, and leaves it out of others', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(decisionView({ ...row, traceId }).trace_id).toBe(traceId);
    expect(decisionView(row)).not.toHaveProperty('trace_id');
    expect(csvHeader().endsWith(',hash,trace_id\r\n')).toBe(true);
    expect(csvLine({ ...row, traceId }).endsWith(`,${row.hash},${traceId}\r\n`)).toBe(true);
  });

  it('keeps caller text from running as a spreadsheet formula', () => {
    expect(spreadsheetSafe('=HYPERLINK("http://x")')).toBe(`'=HYPERLINK("http://x")`);
    for (const lead of ['+', '-', '@', '\t', '\r'])
      expect(spreadsheetSafe(`${lead}x`)).toBe(`'${lead}x`);
    expect(spreadsheetSafe('rbac/allow')).toBe('rbac/allow');
    const line = csvLine({ ...row, path: '=1+1', caller: '@SUM(A1)', result: -1 });
    expect(line).toContain(`,'=1+1,`);
    expect(line).toContain(`,'@SUM(A1),`);
    // JSON cells and numbers are left as they are.
    expect(line).toContain(',-1,');
  });

  it('marks rollout rows: a comparison row is of kind shadow and names the served decision', () => {
    const rolloutId = '0c000000-0000-4000-8000-00000000000c';
    const served = decisionView({ ...row, rollout: { rolloutId, arm: 'canary' } });
    expect(served.kind).toBe('decision');
    expect(served.rollout).toEqual({ id: rolloutId, arm: 'canary' });
    const comparison = { rolloutId, arm: 'stable' as const, comparedWith: row.decisionId };
    const compared = decisionView({ ...row, rollout: { ...comparison, agrees: false } });
    expect(compared.kind).toBe('shadow');
    expect(compared.rollout).toEqual({
      id: rolloutId,
      arm: 'stable',
      compared_with: row.decisionId,
      agrees: false,
    });
    expect(csvLine({ ...row, rollout: { ...comparison, agrees: true } })).toContain(
      `,shadow,"{""id"":""${rolloutId}"",""arm"":""stable"",""compared_with"":""${row.decisionId}"",""agrees"":true}",`,
    );
  });
});
