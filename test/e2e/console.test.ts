/**
 * The auditor console in a real browser (the Debian chromium, driven by playwright-core)
 * against a real server on the real Postgres and Redis, with decisions written by the
 * server's own audit writer: a wrong token and another tenant's key are refused with the
 * API's words; sign-in with an audit:read key gives an HttpOnly, Secure, SameSite=Strict
 * `__Host-` session cookie (Chromium keeps Secure cookies from http://127.0.0.1, a secure
 * context) and leaves the key nowhere in the page or its storage; searches with filters show
 * exactly the seeded rows that match, newest first; pages follow the cursor; a row opens its
 * full record; the chart's bars carry the counts of the seed; data that looks like markup
 * stays text; the session survives a reload and sign-out ends it on the server; nothing
 * breaks the CSP or leaves the server's origin; the layout fits 1280x800.
 *
 * With VERDICT_CONSOLE_SCREENSHOT=1 it also writes docs/console-search.png. Without
 * /usr/bin/chromium it skips, except in CI (CI=true), where .ci/run installs it and a missing
 * browser is a failure.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { start, type RunningServer } from '../../api/server';
import { deriveAllowed, type AuditEntry, type JsonValue } from '../../api/services/audit';
import {
  createTestDatabase,
  redisUrl,
  testConfig,
  uniqueName,
  type TestDatabase,
} from '../integration/helpers/services';
import { call } from './http';

const chromiumPath = process.env.VERDICT_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(chromiumPath);
const inCi = process.env.CI === 'true';
const screenshotFile = path.resolve(__dirname, '../../docs/console-search.png');

if (!haveChromium && !inCi) {
  console.warn(
    `Skipping the console browser test: ${chromiumPath} is missing. ` +
      'Install Debian chromium (apt-get install -y chromium) to run it.',
  );
}

const ADMIN = 'console-e2e-admin-token-0123456789';
const base = Date.parse('2026-11-27T08:00:00.000Z');
const hostilePath = '<img src=x onerror="window.__xss=1">';
const rolloutId = '2d0c6a8e-5f41-4b1a-9a3e-7c52e0d4b913';

jest.setTimeout(180_000);

interface Seeded extends AuditEntry {
  decisionId: string;
  ts: Date;
  path: string;
}

/** A morning of decisions, denser towards noon, with every outcome, path, bundle and caller. */
function seedEntries(tenantId: string): Seeded[] {
  const count = 180;
  const entries: Seeded[] = [];
  for (let i = 0; i < count; i++) {
    let result: unknown = { allow: !(i % 7 === 0 || i % 11 === 3) };
    if (i % 29 === 0) result = undefined;
    entries.push({
      tenantId,
      decisionId: randomUUID(),
      ts: new Date(base + Math.round(240 * Math.sqrt(i / count) * 60_000) + i * 7),
      path: ['rbac/allow', 'docs/read', 'billing/allow'][i % 3] as string,
      bundleName: 'rbac',
      bundleVersion: i < 100 ? '1.4.0' : '1.5.0',
      bundleRevision: i < 100 ? 'rev-a1' : 'rev-b2',
      caller: i % 4 === 0 ? 'svc-admin' : i % 2 === 0 ? 'svc-batch' : 'svc-web',
      input: {
        subject: { id: i % 5 === 0 ? 'bob' : `user${i}`, roles: ['reader'] },
        action: i % 2 === 0 ? 'read' : 'write',
        resource: { type: 'document', id: `doc-${i}` },
      },
      result,
      cache: i % 3 === 0 ? 'hit' : 'miss',
      durationUs: 40 + i,
    });
    if (i % 10 === 5) {
      // Served under a rollout, with the shadow version's answer logged beside it.
      const served = entries[entries.length - 1] as Seeded;
      served.rollout = { rolloutId, arm: 'stable' };
      entries.push({
        ...served,
        decisionId: randomUUID(),
        ts: new Date(served.ts.getTime() + 1),
        bundleVersion: '2.0.0-rc.1',
        result: { allow: false },
        rollout: { rolloutId, arm: 'shadow', comparedWith: served.decisionId, agrees: false },
      });
    }
  }
  // Markup in a path and an input: the page must show it as text.
  entries.push({
    tenantId,
    decisionId: randomUUID(),
    ts: new Date(base + 242 * 60_000),
    path: hostilePath,
    input: { subject: { id: '<script>window.__xss=2</script>' } },
    result: { allow: true },
    caller: 'svc-web',
    cache: 'miss',
    durationUs: 5,
  });
  return entries.sort((a, b) => a.ts.getTime() - b.ts.getTime());
}

function outcome(entry: AuditEntry): boolean | null {
  return deriveAllowed(entry.result as JsonValue | undefined);
}

/** Newest first, as the log is searched. */
function newestFirst(entries: Seeded[]): string[] {
  return [...entries].reverse().map((e) => e.decisionId);
}

/** A UTC time as an auditor may type it: `2026-11-27 08:30`, no seconds, no zone. */
function typedTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

(haveChromium || inCi ? describe : describe.skip)('auditor console in chromium', () => {
  let db: TestDatabase;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let seed: Seeded[] = [];
  const keys = { audit: '', decide: '', globex: '' };
  const requests: string[] = [];
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];

  async function createKey(tenant: string, scopes: string[]): Promise<string> {
    const res = await call(server.url, 'POST', `/v1/tenants/${tenant}/keys`, {
      token: ADMIN,
      json: { name: 'console', scopes },
    });
    expect(res.status).toBe(201);
    return res.body.key as string;
  }

  /** Runs an expression in the page; plain strings keep the DOM out of the test's types. */
  function inPage<T>(expression: string): Promise<T> {
    return page.evaluate<T>(expression);
  }

  async function settled(): Promise<void> {
    await page.waitForSelector('#workspace:not([hidden]):not([aria-busy])');
  }

  async function rowIds(): Promise<string[]> {
    return inPage<string[]>(
      `[...document.querySelectorAll('#results tbody tr')].map((tr) => tr.dataset.decisionId)`,
    );
  }

  interface Filters {
    from?: number;
    to?: number;
    path?: string;
    allowed?: '' | 'true' | 'false';
    bundleVersion?: string;
    caller?: string;
    input?: string;
    limit?: '25' | '50' | '100';
    bucket?: 'auto' | 'minute' | 'hour' | 'day';
    kind?: '' | 'decision' | 'shadow';
  }

  /** Clears the filter form, fills in `filters` and searches. */
  async function searchWith(filters: Filters): Promise<void> {
    await page.fill('#filter-from', filters.from === undefined ? '' : typedTime(filters.from));
    await page.fill('#filter-to', filters.to === undefined ? '' : typedTime(filters.to));
    await page.fill('#filter-path', filters.path ?? '');
    await page.selectOption('#filter-allowed', filters.allowed ?? '');
    await page.fill('#filter-bundle-version', filters.bundleVersion ?? '');
    await page.fill('#filter-caller', filters.caller ?? '');
    await page.fill('#filter-input', filters.input ?? '');
    await page.selectOption('#filter-kind', filters.kind ?? '');
    await page.selectOption('#filter-limit', filters.limit ?? '50');
    await page.selectOption('#filter-bucket', filters.bucket ?? 'auto');
    await page.click('#filters button[type="submit"]');
    await settled();
  }

  async function signIn(tenant: string, token: string): Promise<void> {
    await page.fill('#sign-in-tenant', tenant);
    await page.fill('#sign-in-token', token);
    await page.click('#sign-in-form button[type="submit"]');
    await page.waitForSelector('#sign-in-error:not([hidden]), #workspace:not([hidden])');
  }

  async function text(selector: string): Promise<string> {
    return (await page.textContent(selector)) ?? '';
  }

  interface Bar {
    start: string;
    kind: string;
    count: number;
  }

  async function bars(): Promise<Bar[]> {
    return inPage<Bar[]>(
      `[...document.querySelectorAll('#chart rect.bar')].map((r) => ({
         start: r.parentNode.dataset.start, kind: r.dataset.kind, count: Number(r.dataset.count),
       }))`,
    );
  }

  /** The bars the seed calls for between `from` and `to` in buckets of `size` ms. */
  function expectedBars(
    from: number,
    to: number,
    size: number,
    keep: (entry: Seeded) => boolean = () => true,
  ): Bar[] {
    const counts = new Map<string, Record<string, number>>();
    for (const entry of seed) {
      const ts = entry.ts.getTime();
      if (ts < from || ts >= to || !keep(entry)) continue;
      const start = new Date(Math.floor(ts / size) * size).toISOString().replace('.000Z', 'Z');
      const allowed = outcome(entry);
      const kind = allowed === true ? 'allowed' : allowed === false ? 'denied' : 'other';
      const bucket = counts.get(start) ?? {};
      bucket[kind] = (bucket[kind] ?? 0) + 1;
      counts.set(start, bucket);
    }
    return [...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([start, bucket]) =>
        ['allowed', 'denied', 'other']
          .filter((kind) => bucket[kind] !== undefined)
          .map((kind) => ({ start, kind, count: bucket[kind] as number })),
      );
  }

  beforeAll(async () => {
    if (!haveChromium) {
      throw new Error(
        `${chromiumPath} is missing: CI must have it (.ci/run installs the Debian chromium package).`,
      );
    }
    db = await createTestDatabase('console');
    server = await start({
      config: testConfig({
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        VERDICT_REDIS_PREFIX: `${uniqueName('console')}:`,
        VERDICT_ADMIN_TOKEN: ADMIN,
      }),
    });
    const acme = await call(server.url, 'POST', '/v1/tenants', {
      token: ADMIN,
      json: { slug: 'acme', name: 'Acme' },
    });
    expect(acme.status).toBe(201);
    const globex = await call(server.url, 'POST', '/v1/tenants', {
      token: ADMIN,
      json: { slug: 'globex', name: 'Globex' },
    });
    expect(globex.status).toBe(201);
    keys.audit = await createKey('acme', ['audit:read']);
    keys.decide = await createKey('acme', ['decide']);
    keys.globex = await createKey('globex', ['audit:read']);
    seed = seedEntries(acme.body.id as string);
    for (const entry of seed) server.audit.record(entry);
    await server.audit.flush();

    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('request', (req) => requests.push(req.url()));
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Every CSP violation is reported to the test; init scripts run outside the page's CSP.
    await page.exposeFunction('reportCspViolation', (violation: string) => {
      cspViolations.push(violation);
    });
    await page.addInitScript(
      `document.addEventListener('securitypolicyviolation', (e) => {
         window.reportCspViolation(e.violatedDirective + ' ' + e.blockedURI);
       });`,
    );
  });

  afterAll(async () => {
    // Whatever beforeAll got to open (it throws first when there is no browser).
    const opened = { browser, server, db } as Partial<{
      browser: Browser;
      server: RunningServer;
      db: TestDatabase;
    }>;
    await opened.browser?.close();
    await opened.server?.stop();
    await opened.db?.drop();
  });

  it('opens on the sign-in form', async () => {
    const res = await page.goto(`${server.url}/console`);
    expect(res?.status()).toBe(200);
    expect(page.url()).toBe(`${server.url}/console/`);
    expect(await page.isVisible('#sign-in-form')).toBe(true);
    expect(await page.isVisible('#workspace')).toBe(false);
    // The stylesheet applied: the page is not unstyled.
    expect(
      await inPage<string>(`getComputedStyle(document.querySelector('.topbar')).display`),
    ).toBe('flex');
  });

  it('shows the API’s own words for a wrong token, and keeps nothing', async () => {
    const api = await call(server.url, 'GET', '/v1/tenants/acme/decisions?limit=1', {
      token: 'not-the-admin-token',
    });
    expect(api.status).toBe(401);
    await signIn('acme', 'not-the-admin-token');
    expect(await page.isVisible('#sign-in-error')).toBe(true);
    expect(await text('#sign-in-error')).toBe(api.body.detail);
    expect(await text('#sign-in-error')).toContain('not valid');
    expect(await page.isVisible('#workspace')).toBe(false);
    expect(await inPage<number>('sessionStorage.length')).toBe(0);
    expect(await page.context().cookies()).toEqual([]);
  });

  it('refuses another tenant’s key and a key without audit:read', async () => {
    await signIn('acme', keys.globex);
    expect(await text('#sign-in-error')).toContain('belongs to another tenant');
    await signIn('acme', keys.decide);
    expect(await text('#sign-in-error')).toContain('audit:read');
    expect(await page.isVisible('#workspace')).toBe(false);
  });

  it('signs in with an audit:read key and lists the newest decisions', async () => {
    await signIn('acme', keys.audit);
    await settled();
    expect(await page.isVisible('#sign-in')).toBe(false);
    expect(await text('#who-tenant')).toBe('acme');
    expect(await rowIds()).toEqual(newestFirst(seed).slice(0, 50));
    expect(await text('#results-status')).toBe('Showing 1–50, newest first.');
    // The key is kept by the server; the browser holds a cookie no script can read.
    expect(await inPage<number>('sessionStorage.length')).toBe(0);
    expect(await inPage<number>('localStorage.length')).toBe(0);
    expect(await inPage<string>('document.cookie')).toBe('');
    const cookies = await page.context().cookies();
    expect(cookies).toEqual([
      expect.objectContaining({
        name: '__Host-verdict-console',
        path: '/',
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
      }),
    ]);
    const html = await page.content();
    expect(html).not.toContain(keys.audit);
  });

  it('shows markup in the data as text', async () => {
    const cells = await inPage<string[]>(
      `[...document.querySelectorAll('#results td.path')].map((td) => td.textContent)`,
    );
    expect(cells[0]).toBe(hostilePath);
    expect(await inPage<number>(`document.querySelectorAll('#results img').length`)).toBe(0);
    expect(await inPage<unknown>('window.__xss')).toBeUndefined();
  });

  it('searches with filters and shows exactly the matching rows', async () => {
    const from = base + 30 * 60_000;
    const to = base + 200 * 60_000;
    await searchWith({ from, to, path: 'rbac/allow', allowed: 'false' });
    const want = seed.filter(
      (e) =>
        e.ts.getTime() >= from &&
        e.ts.getTime() < to &&
        e.path === 'rbac/allow' &&
        outcome(e) === false,
    );
    expect(want.length).toBeGreaterThan(3);
    expect(await rowIds()).toEqual(newestFirst(want));
    const outcomes = await inPage<string[]>(
      `[...document.querySelectorAll('#results .badge')].map((b) => b.textContent)`,
    );
    expect(new Set(outcomes)).toEqual(new Set(['denied']));

    await searchWith({
      input: 'input.subject.id=bob',
      bundleVersion: '1.5.0',
      caller: 'svc-admin',
    });
    const bob = seed.filter(
      (e) =>
        (e.input as { subject: { id: string } }).subject.id === 'bob' &&
        e.bundleVersion === '1.5.0' &&
        e.caller === 'svc-admin',
    );
    expect(bob.length).toBeGreaterThan(0);
    expect(await rowIds()).toEqual(newestFirst(bob));
  });

  it('pages through the results by cursor, back and forth', async () => {
    await searchWith({ limit: '25', path: 'docs/read' });
    const want = newestFirst(seed.filter((e) => e.path === 'docs/read'));
    // Three pages, the last one short.
    expect(want.length).toBeGreaterThan(50);
    expect(want.length).toBeLessThan(75);
    const first = await rowIds();
    expect(first).toEqual(want.slice(0, 25));
    expect(await page.isDisabled('#previous-page')).toBe(true);
    await page.click('#next-page');
    await settled();
    expect(await rowIds()).toEqual(want.slice(25, 50));
    expect(await text('#results-status')).toBe('Showing 26–50, newest first.');
    await page.click('#next-page');
    await settled();
    expect(await rowIds()).toEqual(want.slice(50));
    expect(await page.isDisabled('#next-page')).toBe(true);
    expect(await text('#page-number')).toBe('Page 3');
    await page.click('#previous-page');
    await settled();
    expect(await rowIds()).toEqual(want.slice(25, 50));
  });

  it('opens a decision’s full record', async () => {
    await searchWith({});
    const entry = seed[seed.length - 3] as Seeded;
    await page.click(`button[aria-label="Show decision ${entry.decisionId}"]`);
    await page.waitForSelector('#record[open] dd[data-field="hash"]');
    const api = await call(server.url, 'GET', `/v1/tenants/acme/decisions/${entry.decisionId}`, {
      token: ADMIN,
    });
    const field = (name: string): Promise<string> => text(`#record dd[data-field="${name}"]`);
    expect(await text('#record-title')).toBe(`Decision ${entry.decisionId}`);
    expect(await field('decision_id')).toBe(entry.decisionId);
    expect(await field('hash')).toBe(api.body.hash);
    expect(await field('prev_hash')).toBe(api.body.prev_hash);
    expect(await field('bundle_version')).toBe(entry.bundleVersion);
    expect(await field('bundle_revision')).toBe(entry.bundleRevision);
    expect(await field('path')).toBe(entry.path);
    expect(await field('ts')).toBe(entry.ts.toISOString().replace('T', ' '));
    expect(JSON.parse(await text('#record-input'))).toEqual(entry.input);
    expect(JSON.parse(await text('#record-result'))).toEqual(entry.result);
    await page.click('#record-close');
    await page.waitForSelector('#record:not([open])', { state: 'attached' });
  });

  it('draws the counts of the seed as bars, per hour and per minute', async () => {
    const from = base;
    const to = base + 5 * 3_600_000;
    await searchWith({ from, to, bucket: 'hour' });
    const hourly = expectedBars(from, to, 3_600_000);
    expect(await bars()).toEqual(hourly);
    expect(new Set(hourly.map((b) => b.kind))).toEqual(new Set(['allowed', 'denied', 'other']));
    const total = (kind: string): number =>
      hourly.filter((b) => b.kind === kind).reduce((n, b) => n + b.count, 0);
    expect(await text('#chart-caption')).toBe(
      `2026-11-27 08:00:00.000Z to 2026-11-27 13:00:00.000Z by hour: ` +
        `${total('allowed')} allowed, ${total('denied')} denied, ${total('other')} other.`,
    );
    // The count axis reaches just past the busiest hour, its middle on a whole count.
    const busiest = Math.max(
      ...[...new Set(hourly.map((b) => b.start))].map((start) =>
        hourly.filter((b) => b.start === start).reduce((n, b) => n + b.count, 0),
      ),
    );
    const axis = await inPage<string[]>(
      `[...document.querySelectorAll('#chart text.axis-count')].map((t) => t.textContent)`,
    );
    const top = Number(axis[2]);
    expect(axis).toEqual(['0', String(top / 2), String(top)]);
    expect(Number.isInteger(top / 2)).toBe(true);
    expect(top).toBeGreaterThanOrEqual(busiest);
    expect(top).toBeLessThan(2 * busiest);
    // Taller bars for larger counts: the first hour's allowed bar against the last's.
    const heights = await inPage<number[]>(
      `[...document.querySelectorAll('#chart rect.bar.allowed')].map((r) => Number(r.getAttribute('height')))`,
    );
    const counts = hourly.filter((b) => b.kind === 'allowed').map((b) => b.count);
    for (let i = 1; i < counts.length; i++) {
      expect(Math.sign((heights[i] as number) - (heights[0] as number))).toBe(
        Math.sign((counts[i] as number) - (counts[0] as number)),
      );
    }
    // Two hours: the automatic bucket is a minute.
    const minuteFrom = base + 60 * 60_000;
    const minuteTo = base + 180 * 60_000;
    await searchWith({ from: minuteFrom, to: minuteTo });
    expect(await bars()).toEqual(expectedBars(minuteFrom, minuteTo, 60_000));
    expect(await inPage<number>(`document.querySelectorAll('#chart g.bucket').length`)).toBe(120);
  });

  it('tells served decisions from shadow evaluations, in the table, chart and record', async () => {
    const isShadow = (e: Seeded): boolean => e.rollout?.comparedWith !== undefined;
    const from = base;
    const to = base + 5 * 3_600_000;
    await searchWith({ from, to, bucket: 'hour', kind: 'shadow' });
    const shadows = seed.filter(isShadow);
    expect(shadows.length).toBeGreaterThan(5);
    expect(await rowIds()).toEqual(newestFirst(shadows));
    expect(await bars()).toEqual(expectedBars(from, to, 3_600_000, isShadow));
    await searchWith({ from, to, bucket: 'hour', kind: 'decision' });
    expect(await rowIds()).toEqual(newestFirst(seed.filter((e) => !isShadow(e))).slice(0, 50));
    expect(await bars()).toEqual(expectedBars(from, to, 3_600_000, (e) => !isShadow(e)));

    const shadow = shadows[0] as Seeded;
    await searchWith({ kind: 'shadow' });
    await page.click(`button[aria-label="Show decision ${shadow.decisionId}"]`);
    await page.waitForSelector('#record[open] dd[data-field="hash"]');
    expect(await text('#record dd[data-field="kind"]')).toBe('shadow');
    expect(await text('#record dd[data-field="rollout"]')).toBe(
      `shadow arm of rollout ${rolloutId}, beside decision ${shadow.rollout?.comparedWith ?? ''}, disagrees`,
    );
    await page.click('#record-close');
  });

  it('shows the API’s words for a filter it refuses', async () => {
    await searchWith({ input: 'subject.id' });
    expect(await page.isVisible('#search-error')).toBe(true);
    expect(await text('#search-error')).toContain('?input must be path=value');
    await page.fill('#filter-input', '');
    await page.fill('#filter-from', 'yesterday');
    await page.click('#filters button[type="submit"]');
    await settled();
    expect(await text('#search-error')).toContain('?from must be an ISO 8601 time');
  });

  it('keeps the session over a reload, fits 1280x800, and signs out', async () => {
    await page.reload();
    await settled();
    expect(await rowIds()).toHaveLength(50);
    expect(await inPage<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    if (process.env.VERDICT_CONSOLE_SCREENSHOT === '1') {
      await searchWith({ from: base, to: base + 4 * 3_600_000, bucket: 'minute', limit: '25' });
      await page.screenshot({ path: screenshotFile });
    }
    const [cookie] = await page.context().cookies();
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in-form:not([hidden])');
    expect(await page.isVisible('#workspace')).toBe(false);
    expect(await inPage<number>('sessionStorage.length')).toBe(0);
    expect(await inPage<number>(`document.querySelectorAll('#results tbody tr').length`)).toBe(0);
    expect(await page.context().cookies()).toEqual([]);
    // Ended on the server: the old cookie, sent again, opens nothing.
    const replayed = await fetch(`${server.url}/v1/tenants/acme/decisions`, {
      headers: { cookie: `${cookie?.name ?? ''}=${cookie?.value ?? ''}` },
    });
    expect(replayed.status).toBe(401);
    await page.reload();
    await page.waitForSelector('#sign-in-form');
    expect(await page.isVisible('#workspace')).toBe(false);
  });

  it('goes back to sign-in, saying why, when the session ends behind its back', async () => {
    await signIn('acme', keys.audit);
    await settled();
    const [cookie] = await page.context().cookies();
    const header = { cookie: `${cookie?.name ?? ''}=${cookie?.value ?? ''}` };
    const session = await fetch(`${server.url}/console/session`, { headers: header });
    const { csrf_token: csrf } = (await session.json()) as { csrf_token: string };
    // Another tab signs out: the session ends on the server.
    const out = await fetch(`${server.url}/console/session`, {
      method: 'DELETE',
      headers: { ...header, 'x-csrf-token': csrf },
    });
    expect(out.status).toBe(204);
    await page.click('#filters button[type="submit"]');
    await page.waitForSelector('#sign-in-form:not([hidden])');
    expect(await page.isVisible('#workspace')).toBe(false);
    expect(await text('#sign-in-error')).toBe(
      'The console session has ended or expired: sign in again.',
    );
  });

  it('broke no CSP rule, threw nothing and asked nothing of another origin', () => {
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(requests.length).toBeGreaterThan(10);
    const elsewhere = requests.filter(
      (url) => !url.startsWith(`${server.url}/`) && !url.startsWith('data:'),
    );
    expect(elsewhere).toEqual([]);
  });
});
