/**
 * `GET /openapi.json` and `GET /docs`: the document as built, cacheable with an ETag, and the
 * page under a content security policy of its own that allows its stylesheet and nothing else,
 * while every other response keeps the service's.
 */
import express from 'express';
import request from 'supertest';
import { openApiDocument } from '../../../../api/openapi/document';
import { referenceStyleHash } from '../../../../api/openapi/reference-page';
import { securityHeaders } from '../../../../api/middleware/security-headers';
import { notFoundHandler, problemHandler } from '../../../../api/middleware/problem';
import { openApiRouter } from '../../../../api/routes/openapi';
import { silentLogger } from '../../../integration/helpers/services';

function app(): express.Express {
  const result = express();
  result.use(securityHeaders());
  result.use(openApiRouter());
  result.use(notFoundHandler);
  result.use(problemHandler(silentLogger));
  return result;
}

describe('GET /openapi.json', () => {
  it('answers the document, cacheable, and 304 for the ETag it gave', async () => {
    const res = await request(app()).get('/openapi.json').expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    const etag = res.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/u);
    const again = await request(app()).get('/openapi.json').set('If-None-Match', etag).expect(304);
    expect(again.text).toBe('');
    await request(app()).get('/openapi.json').set('If-None-Match', '"other"').expect(200);
  });

  it('keeps the service-wide policy, which allows nothing', async () => {
    const res = await request(app()).get('/openapi.json');
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
    );
  });
});

describe('GET /docs', () => {
  it('answers the page under a policy that allows its stylesheet only', async () => {
    const res = await request(app()).get('/docs').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['content-security-policy']).toBe(
      `default-src 'none';style-src ${referenceStyleHash};base-uri 'none';form-action 'none';frame-ancestors 'none'`,
    );
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.text).toMatch(/^<!doctype html>/u);
    await request(app())
      .get('/docs')
      .set('If-None-Match', res.headers.etag as string)
      .expect(304);
  });

  it('does not answer other methods', async () => {
    const res = await request(app()).post('/docs').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/u);
  });
});
