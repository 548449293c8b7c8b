import { VerdictError, errorCatalogue, isVerdictError, messageOf } from '../../../api/errors';

describe('VerdictError', () => {
  it('takes status and title from the catalogue entry of its code', () => {
    const cause = new Error('socket closed');
    const error = new VerdictError('database_unavailable', 'Postgres is down; start it.', {
      cause,
      extensions: { retryAfter: 5 },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('VerdictError');
    expect(error.code).toBe('database_unavailable');
    expect(error.status).toBe(503);
    expect(error.title).toBe('Database unavailable');
    expect(error.detail).toBe('Postgres is down; start it.');
    expect(error.message).toBe('Postgres is down; start it.');
    expect(error.cause).toBe(cause);
    expect(error.extensions).toEqual({ retryAfter: 5 });
    expect(isVerdictError(error)).toBe(true);
    expect(isVerdictError(cause)).toBe(false);
  });

  it('has an HTTP error status and a title for every code', () => {
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      expect(code).toMatch(/^[a-z][a-z_]*$/);
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      expect(entry.title.length).toBeGreaterThan(0);
    }
  });
});

describe('messageOf', () => {
  it('reads messages from errors and anything else thrown', () => {
    expect(messageOf(new Error('boom'))).toBe('boom');
    expect(messageOf(new TypeError(''))).toBe('TypeError');
    expect(messageOf('plain')).toBe('plain');
    expect(messageOf(42)).toBe('42');
  });
});
