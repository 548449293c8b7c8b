/**
 * The reference page: every operation and every schema of the document on it, text escaped,
 * no script, and the one inline stylesheet the hash in its content security policy allows.
 */
import { createHash } from 'node:crypto';
import { buildDocument, type OpenApiDocument } from '../../../../api/openapi/document';
import { referenceStyleHash, renderReferencePage } from '../../../../api/openapi/reference-page';

const document = buildDocument();
const page = renderReferencePage(document);

describe('the reference page', () => {
  it('shows every operation, under its tag, and every schema', () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const id = `op-${operation.operationId.toLowerCase()}`;
        expect(page).toContain(
          `<article id="${id}"><h3><span class="method ${method}">${method.toUpperCase()}</span><code>${path}</code>`,
        );
      }
    }
    for (const name of Object.keys(document.components.schemas)) {
      expect(page).toContain(`<article id="schema-${name.toLowerCase()}"><h3>${name}</h3>`);
    }
    const tags = document.tags as { name: string }[];
    const order = tags.map((tag) => page.indexOf(`<h2>${tag.name}</h2>`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('links references to their schema and shows members with what they hold', () => {
    expect(page).toContain('<a href="#schema-tenant">Tenant</a>');
    expect(page).toContain('<code>audit_retention_days</code>');
    expect(page).toContain('integer or null');
    expect(page).toContain('array of <a href="#schema-decisionrecord">DecisionRecord</a>');
  });

  it("holds no script, and one stylesheet whose hash is the policy's", () => {
    expect(page).not.toMatch(/<script/iu);
    const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/gu)];
    expect(styles).toHaveLength(1);
    const hash = createHash('sha256')
      .update((styles[0] as RegExpMatchArray)[1] as string)
      .digest('base64');
    expect(referenceStyleHash).toBe(`'sha256-${hash}'`);
    expect(page).not.toMatch(/ style=/u);
  });

  it('escapes the text of the document', () => {
    const hostile = JSON.parse(JSON.stringify(document)) as OpenApiDocument & {
      info: { title: string };
    };
    hostile.info.title = '<img src=x onerror=alert(1)>';
    const first = Object.values(hostile.paths)[0];
    const op = Object.values(first ?? {})[0] as { summary: string };
    op.summary = '</p><script>alert(1)</script>';
    const rendered = renderReferencePage(hostile);
    expect(rendered).not.toContain('<img src=x');
    expect(rendered).not.toContain('<script>');
    expect(rendered).toContain('&#60;script&#62;');
  });

  it('shows patterns as they are, dollar signs included', () => {
    expect(page).toContain('matches <code>&#34;^[a-z0-9][a-z0-9-]{0,62}$&#34;</code>');
  });

  it('renders code spans of descriptions', () => {
    expect(page).toContain('<code>VERDICT_METRICS_TOKEN</code>');
  });
});
