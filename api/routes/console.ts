/**
 * The auditor console: static files (HTML, CSS, JavaScript modules) under `/console/`, a
 * read-only page over the decision-log API. The files sit in `api/console/`; the build copies
 * them to `dist/api/console/`, so the same `../console` beside this module finds them whether
 * it runs from the sources or from dist/.
 *
 * The page loads nothing but its own files and calls only this origin's API, so it gets a CSP
 * of its own: no inline script or style, no other origin. It does not ask to upgrade requests
 * to https: its URLs are all relative, so they follow the scheme the page came over. Signing
 * in (api/routes/console-session.ts) needs https or a loopback address, where browsers keep
 * the session's Secure cookie.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import helmet from 'helmet';
import type { Logger } from '../logger';

export const consoleAssetsDir = path.join(__dirname, '..', 'console');

export interface ConsoleRouterOptions {
  readonly logger: Logger;
  /** Where the page's files are (default: `consoleAssetsDir`). */
  readonly assetsDir?: string;
}

export const consoleContentSecurityPolicy = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    baseUri: ["'none'"],
    frameAncestors: ["'none'"],
  },
});

export function consoleRouter(options: ConsoleRouterOptions): Router {
  const dir = options.assetsDir ?? consoleAssetsDir;
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    options.logger.warn(
      { dir },
      'auditor console files are missing, /console answers 404: run npm run build',
    );
  }
  const router = Router();
  // `/console` redirects to `/console/`, where the page's relative URLs resolve.
  router.use('/console', consoleContentSecurityPolicy, express.static(dir, { dotfiles: 'ignore' }));
  return router;
}
