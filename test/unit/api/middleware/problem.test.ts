import express, { type Express } from 'express';
import request from 'supertest';
import { VerdictError } from '../../../../api/errors';
import { createLogger } from '../../../../api/logger';
import {
  negotiateProblem,
  notFoundHandler,
  problemHandler,
  type ProblemBody,
} from '../../../../api/middleware/problem';
import { Writable } from 'node:stream';

function appWithRoutes(): { app: Express; logged: () => string } {
  const chunks: string[] = [];
  const logger = createLogger({
    level: 'error',
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString('utf8'));
        callback();
      },
    }),
  });
  const app = express();
  app.use(express.json({ limit: '1kb' }));
  app.get('/conflict', () => {
    throw new VerdictError('conflict', 'Bundle 1.2.0 already exists; bump the version.', {
      extensions: { version: '1.2.0' },
    });
  });
  app.get('/async-fault', async () => {
    await Promise.resolve();
    throw new Error('secret internal detail at /srv/app.ts:42');
  });
  app.get('/unavailable', () => {
    throw new VerdictError('database_unavailable', 'Postgres is unreachable.', {
      cause: new Error('ECONNREFUSED'),
    });
  });
  app.post('/echo', (req, res) => {
    res.json(req.body);
  });
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return { app, logged: () => chunks.join('') };
}

describe('problem+json responses', () => {
  it('maps a VerdictError to its status with code, title, detail and extensions', async () => {
    const { app } = appWithRoutes();
    const res = await request(app).get('/conflict').expect(409);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toEqual({
      type: 'urn:verdict:problem:conflict',
      title: 'Conflict',
      status: 409,
      detail: 'Bundle 1.2.0 already exists; bump the version.',
      instance: '/conflict',
      code: 'conflict',
      version: '1.2.0',
    });
  });

  it('answers unknown routes with a not_found problem', async () => {
    const { app } = appWithRoutes();
    const res = await request(app).delete('/nothing/here?x=1').expect(404);
    expect(res.body).toMatchObject({
      code: 'not_found',
      detail: 'No route for DELETE /nothing/here; see docs/ for the API reference.',
      instance: '/nothing/here?x=1',
    });
  });

  it('hides unexpected errors behind a generic internal problem and logs them', async () => {
    const { app, logged } = appWithRoutes();
    const res = await request(app).get('/async-fault').expect(500);
    expect(res.body).toEqual({
      type: 'urn:verdict:problem:internal',
      title: 'Internal error',
      status: 500,
      detail: 'An internal error occurred; the server log has details.',
      instance: '/async-fault',
      code: 'internal',
    });
    expect(res.text).not.toContain('secret internal detail');
    expect(res.text).not.toContain('app.ts');
    expect(logged()).toContain('secret internal detail');
  });

  it('logs server-side VerdictErrors with their cause', async () => {
    const { app, logged } = appWithRoutes();
    await request(app).get('/unavailable').expect(503);
    expect(logged()).toContain('ECONNREFUSED');
  });

  it('turns malformed JSON into invalid_json', async () => {
    const { app } = appWithRoutes();
    const res = await request(app)
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send('{"input": ')
      .expect(400);
    expect(res.body).toMatchObject({ code: 'invalid_json', status: 400 });
  });

  it('turns an oversized body into payload_too_large', async () => {
    const { app } = appWithRoutes();
    const res = await request(app)
      .post('/echo')
      .send({ input: 'x'.repeat(2048) })
      .expect(413);
    expect(res.body).toMatchObject({ code: 'payload_too_large' });
  });

  it('turns an unsupported charset into unsupported_media_type', async () => {
    const { app } = appWithRoutes();
    const res = await request(app)
      .post('/echo')
      .set('Content-Type', 'application/json; charset=klingon')
      .send('{}')
      .expect(415);
    expect(res.body).toMatchObject({ code: 'unsupported_media_type' });
  });
});

describe('the media type of a problem', () => {
  const body: ProblemBody = {
    type: 'urn:verdict:problem:conflict',
    title: 'Conflict',
    status: 409,
    detail: 'Bundle 1.2.0 already exists.',
    instance: '/x',
    code: 'conflict',
  };

  it.each([
    [undefined],
    ['*/*'],
    ['application/*'],
    ['application/problem+json'],
    ['application/json, application/problem+json'],
    ['application/problem+json;q=0.5, application/json'],
    ['text/html'],
    ['application/json;q=0'],
  ])('stays application/problem+json for Accept %p', (accept) => {
    expect(negotiateProblem(body, accept)).toEqual({
      contentType: 'application/problem+json',
      body,
    });
  });

  it.each([
    ['application/json'],
    ['Application/JSON; charset=utf-8'],
    ['text/html, application/json;q=0.9'],
    ['application/json, application/problem+json;q=0'],
  ])("is application/json with OPA's message for Accept %p", (accept) => {
    expect(negotiateProblem(body, accept)).toEqual({
      contentType: 'application/json',
      body: { ...body, message: body.detail },
    });
  });

  it('goes out as the client asked through the problem handler', async () => {
    const { app } = appWithRoutes();
    const res = await request(app).get('/conflict').set('Accept', 'application/json').expect(409);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = res.body as { detail: string };
    expect(body).toMatchObject({ code: 'conflict', message: body.detail });
  });
});
