/** Which database errors open the database's circuit breaker. */
import { databaseBreaker, isDatabaseOutage } from '../../../../api/db/breaker';

/** An error shaped as the pg driver reports what Postgres answered. */
function pgError(code: string): Error {
  return Object.assign(new Error(`postgres said ${code}`), { code, severity: 'ERROR' });
}

describe('isDatabaseOutage', () => {
  it('counts unreachable, overloaded or stopping servers', () => {
    expect(isDatabaseOutage(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    expect(isDatabaseOutage(Object.assign(new Error('pipe'), { code: 'EPIPE' }))).toBe(true);
    expect(isDatabaseOutage(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseOutage(new Error('Knex: Timeout acquiring a connection.'))).toBe(true);
    expect(isDatabaseOutage(pgError('08006'))).toBe(true); // connection failure
    expect(isDatabaseOutage(pgError('53300'))).toBe(true); // too many connections
    expect(isDatabaseOutage(pgError('57P01'))).toBe(true); // admin shutdown
    expect(isDatabaseOutage('a string')).toBe(true);
  });

  it('does not count answers of a working server', () => {
    expect(isDatabaseOutage(pgError('23505'))).toBe(false); // unique violation
    expect(isDatabaseOutage(pgError('42P01'))).toBe(false); // undefined table
    expect(isDatabaseOutage(pgError('57014'))).toBe(false); // statement cancelled
  });

  it('makes a breaker named database that ignores constraint violations', async () => {
    const breaker = databaseBreaker({ failureThreshold: 1, openMs: 1000 });
    expect(breaker.name).toBe('database');
    await expect(breaker.run(() => Promise.reject(pgError('23505')))).rejects.toThrow();
    expect(breaker.state).toBe('closed');
    await expect(breaker.run(() => Promise.reject(pgError('57P01')))).rejects.toThrow();
    expect(breaker.state).toBe('open');
  });
});
