/**
 * Liveness and readiness probes. `/health/live` answers whenever the process can serve
 * HTTP. `/health/ready` runs every dependency check (database; Redis when configured) and
 * answers 200, or 503 problem+json naming each failing dependency and why, so a load
 * balancer stops routing here and an operator sees the cause in one request.
 *
 * A check may be tolerated: its failure is reported (status `degraded`, 200) without taking
 * the instance out of the balancer, because decisions still work without that dependency
 * (Redis always; Postgres once tenants are loaded: docs/operations.md "Failure modes and
 * circuit breakers"). Each check also shows its dependency's circuit breaker state.
 */
import { Router } from 'express';
import { VerdictError, messageOf } from '../errors';
import { sendProblem } from '../middleware/problem';
import type { BreakerState } from '../services/breaker';

export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
  /** The dependency's circuit breaker state, shown with the outcome. */
  breaker?: () => BreakerState;
  /** True when a failure of this check should leave the instance ready (degraded). */
  tolerated?: () => boolean;
}

export interface HealthOptions {
  checks: readonly ReadinessCheck[];
  /** True once shutdown has begun: the instance must leave the load balancer. */
  isShuttingDown: () => boolean;
  /** A check slower than this counts as failed. */
  checkTimeoutMs?: number;
}

type CheckOutcome = ({ status: 'ok' } | { status: 'failed'; reason: string }) & {
  breaker?: BreakerState;
};

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckOutcome> {
  let outcome: CheckOutcome;
  try {
    await withTimeout(check.check(), timeoutMs);
    outcome = { status: 'ok' };
  } catch (err) {
    outcome = { status: 'failed', reason: messageOf(err) };
  }
  return check.breaker === undefined ? outcome : { ...outcome, breaker: check.breaker() };
}

export function healthRouter(options: HealthOptions): Router {
  const router = Router();
  const timeoutMs = options.checkTimeoutMs ?? 3000;

  router.get('/health/live', (_req, res) => {
    res.json({ status: 'live' });
  });

  router.get('/health/ready', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (options.isShuttingDown()) {
      sendProblem(res, req, new VerdictError('not_ready', 'The server is shutting down.'));
      return;
    }
    const outcomes = await Promise.all(options.checks.map((check) => runCheck(check, timeoutMs)));
    const checks = Object.fromEntries(
      options.checks.map((check, i) => [check.name, outcomes[i] ?? { status: 'failed' }]),
    );
    const failed = options.checks.flatMap((check, i) => {
      const outcome = outcomes[i];
      return outcome?.status === 'failed' ? [{ check, reason: outcome.reason }] : [];
    });
    const failures = failed
      .filter(({ check }) => check.tolerated?.() !== true)
      .map(({ check, reason }) => `${check.name}: ${reason}`);
    if (failures.length > 0) {
      sendProblem(
        res,
        req,
        new VerdictError('not_ready', `Not ready: ${failures.join('; ')}`, {
          extensions: { checks },
        }),
      );
      return;
    }
    res.json({ status: failed.length > 0 ? 'degraded' : 'ready', checks });
  });

  return router;
}
