/**
 * The console's static route: the page and every file it loads are served, under a CSP that
 * allows only this origin's files and API and replaces the service's default; the page holds
 * no inline script or style; an unknown file is a 404 problem; missing files are logged; and
 * the build puts the same files where the compiled router looks for them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { notFoundHandler, problemHandler } from '../../../../api/middleware/problem';
import { consoleAssetsDir, consoleRouter } from '../../../../api/routes/console';
import { capturingLogger, silentLogger, tempDir } from '../../../integration/helpers/services';

const root = path.resolve(__dirname, '../../../..');

function app(assetsDir?: string, logger = silentLogger): express.Express {
  const result = express();
  // As in createApp: the service-wide headers first, the console's own CSP over them.
  result.use(helmet());
  result.use(consoleRouter({ logger, ...(assetsDir === undefined ? {} : { assetsDir }) }));
  result.use(notFoundHandler);
  result.use(problemHandler(silentLogger));
  return result;
}

const indexHtml = fs.readFileSync(path.join(consoleAssetsDir, 'index.html'), 'utf8');

/** Every relative file a console file names: `src`/`href` in HTML, `import ... from` in JS. */
function referencedFiles(): string[] {
  const names = new Set<string>();
  for (const match of indexHtml.matchAll(/(?:src|href)="([^"]+)"/gu)) {
    const target = match[1] as string;
    if (!target.startsWith('data:')) names.add(target);
  }
  for (const file of fs.readdirSync(consoleAssetsDir).filter((f) => f.endsWith('.js'))) {
    const text = fs.readFileSync(path.join(consoleAssetsDir, file), 'utf8');
    for (const match of text.matchAll(/from '\.\/([^']+)'/gu)) names.add(match[1] as string);
  }
  return [...names].sort();
}

describe('console route', () => {
  it('redirects /console to /console/, where the page is', async () => {
    const res = await request(app()).get('/console').expect(301);
    expect(res.headers.location).toBe('/console/');
    const page = await request(app()).get('/console/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<title>Verdict · Decision log</title>');
  });

  it('serves every file the page and its modules load, with the right types', async () => {
    const files = referencedFiles();
    expect(files).toEqual([
      'api.js',
      'chart.js',
      'console.css',
      'console.js',
      'dom.js',
      'format.js',
      'session.js',
    ]);
    for (const file of files) {
      const res = await request(app()).get(`/console/${file}`).expect(200);
      expect(res.headers['content-type']).toMatch(
        file.endsWith('.css') ? /^text\/css/ : /^(text|application)\/javascript/,
      );
    }
  });

  it('replaces the default CSP with one for this origin only, inline code refused', async () => {
    const res = await request(app()).get('/console/').expect(200);
    const csp = res.headers['content-security-policy'] as string;
    const directives = Object.fromEntries(
      csp.split(';').map((part): [string, string] => {
        const [name = '', ...values] = part.trim().split(/\s+/u);
        return [name, values.join(' ')];
      }),
    );
    expect(directives).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self' data:",
      'connect-src': "'self'",
      'form-action': "'self'",
      'base-uri': "'none'",
      'frame-ancestors': "'none'",
    });
    // Helmet's other headers stay.
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('holds no inline script, style or event handler, and no URL off this server', () => {
    for (const file of fs.readdirSync(consoleAssetsDir)) {
      const text = fs.readFileSync(path.join(consoleAssetsDir, file), 'utf8');
      // The SVG namespace is a name, not a place anything is fetched from.
      expect(text.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//u);
      if (file.endsWith('.js')) {
        // Data reaches the page as text only.
        expect(text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/u);
      }
    }
    expect(indexHtml).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/u);
    expect(indexHtml).not.toMatch(/<style|\sstyle=|\son[a-z]+=/u);
  });

  it('answers a problem for a file that is not there', async () => {
    const res = await request(app()).get('/console/missing.js').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    await request(app()).get('/console/.hidden').expect(404);
  });

  it('warns when its files are missing, and answers 404', async () => {
    const empty = tempDir('console-empty');
    try {
      const { logger, lines } = capturingLogger();
      await request(app(empty.path, logger)).get('/console/').expect(404);
      expect(lines()).toContainEqual(
        expect.objectContaining({
          level: 40,
          dir: empty.path,
          msg: expect.stringContaining('npm run build') as unknown,
        }),
      );
    } finally {
      empty.remove();
    }
  });

  it('finds the files the build copied when it runs from dist/', () => {
    // `npm test` builds dist/ first; the compiled router is asked where it looks.
    const compiled = path.join(root, 'dist', 'api', 'routes', 'console.js');
    const dir = execFileSync(
      process.execPath,
      ['-e', `process.stdout.write(require(${JSON.stringify(compiled)}).consoleAssetsDir)`],
      { encoding: 'utf8' },
    );
    expect(dir).toBe(path.join(root, 'dist', 'api', 'console'));
    for (const file of fs.readdirSync(consoleAssetsDir)) {
      expect(fs.readFileSync(path.join(dir, file), 'utf8')).toBe(
        fs.readFileSync(path.join(consoleAssetsDir, file), 'utf8'),
      );
    }
  });
});
