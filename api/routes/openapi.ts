/**
 * The API describing itself: `GET /openapi.json`, the OpenAPI 3.1 document
 * (api/openapi/document.ts), and `GET /docs`, the same rendered as a page. Both are built once
 * per process, public, and cacheable: an ETag of their content answers `If-None-Match` with
 * 304, and shared caches may keep them for five minutes.
 *
 * The page runs no script and loads nothing; its only style is one inline stylesheet, which
 * its own content security policy allows by hash. Every other response keeps the service's
 * default policy, which allows nothing.
 */
import { createHash } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import helmet from 'helmet';
import { openApiDocument } from '../openapi/document';
import { referenceStyleHash, renderReferencePage } from '../openapi/reference-page';

export const openApiPath = '/openapi.json';
export const referencePath = '/docs';

const cacheControl = 'public, max-age=300';

export const referenceContentSecurityPolicy = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    styleSrc: [referenceStyleHash],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
});

function etagOf(text: string): string {
  return `"${createHash('sha256').update(text).digest('base64url')}"`;
}

/** Sends `text` as `type`, or 304 when the client holds it already. */
function cached(type: string, text: string): RequestHandler {
  const etag = etagOf(text);
  return (req, res) => {
    res.setHeader('Cache-Control', cacheControl);
    res.setHeader('ETag', etag);
    res.type(type);
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    res.send(text);
  };
}

export function openApiRouter(): Router {
  const router = Router();
  const document = openApiDocument();
  router.get(openApiPath, cached('application/json', JSON.stringify(document)));
  router.get(
    referencePath,
    referenceContentSecurityPolicy,
    cached('text/html', renderReferencePage(document)),
  );
  return router;
}
