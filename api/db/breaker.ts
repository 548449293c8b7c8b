/**
 * The database's circuit breaker (api/services/breaker.ts). Only errors that say Postgres is
 * unreachable, overloaded or shutting down count as failures: a constraint violation or a
 * syntax error is an answer from a working database.
 */
import { CircuitBreaker } from '../services/breaker';

/** SQLSTATE classes of an unavailable server: connection exception, resources, shutdown. */
const outageClasses = ['08', '53', '57P'];

/** Whether `err` means the database could not be reached or could not serve the query. */
export function isDatabaseOutage(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return true;
  const { code, severity } = err as { code?: unknown; severity?: unknown };
  // An error Postgres sent has a severity and a SQLSTATE; anything else comes from the
  // driver, the pool (acquire timeouts) or the socket (ECONNREFUSED, ECONNRESET).
  if (typeof severity !== 'string' || typeof code !== 'string') return true;
  return outageClasses.some((prefix) => code.startsWith(prefix));
}

export function databaseBreaker(options: {
  failureThreshold: number;
  openMs: number;
}): CircuitBreaker {
  return new CircuitBreaker({ name: 'database', isFailure: isDatabaseOutage, ...options });
}
