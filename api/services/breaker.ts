/**
 * A circuit breaker around one dependency (Redis, Postgres). Closed, calls go through and
 * consecutive failures are counted; at `failureThreshold` it opens and calls fail at once
 * (no socket, no timeout to wait for) for `openMs`. The first call after that is the probe
 * (half-open): its success closes the breaker, its failure opens it for another `openMs`.
 * Calls made while the probe runs fail at once too, so a dependency that just came back is
 * not flooded. Our own ~100 lines rather than a library: the state, the probe and the
 * transition hook are all the service needs.
 */
export type BreakerState = 'closed' | 'half-open' | 'open';

export interface BreakerOptions {
  /** The dependency, in messages and metrics (`redis`, `database`). */
  readonly name: string;
  /** Consecutive failures that open the breaker (default 5). */
  readonly failureThreshold?: number | undefined;
  /** How long the breaker stays open before it lets a probe through (default 5000 ms). */
  readonly openMs?: number | undefined;
  /** Whether an error means the dependency is failing (default: every error does). */
  readonly isFailure?: ((err: unknown) => boolean) | undefined;
  /** Milliseconds since the epoch; tests pass a clock they control. */
  readonly clock?: (() => number) | undefined;
}

export type TransitionListener = (from: BreakerState, to: BreakerState) => void;

/** Thrown instead of calling the dependency while the breaker is open. */
export class BreakerOpenError extends Error {
  constructor(readonly dependency: string) {
    super(`${dependency} is unavailable (circuit breaker open); not called`);
    this.name = 'BreakerOpenError';
  }
}

export class CircuitBreaker {
  readonly name: string;
  private readonly failureThreshold: number;
  private readonly openMs: number;
  private readonly isFailure: (err: unknown) => boolean;
  private readonly clock: () => number;
  private readonly listeners = new Set<TransitionListener>();
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;

  constructor(options: BreakerOptions) {
    this.name = options.name;
    this.failureThreshold = Math.max(1, options.failureThreshold ?? 5);
    this.openMs = Math.max(0, options.openMs ?? 5000);
    this.isFailure = options.isFailure ?? (() => true);
    this.clock = options.clock ?? Date.now;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a call made now would reach the dependency (closed, or a probe is due). */
  get allowsCall(): boolean {
    return (
      this.current === 'closed' ||
      (this.current === 'open' && this.clock() - this.openedAt >= this.openMs)
    );
  }

  /** Calls `listener` on every change of state; returns the function that stops it. */
  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Runs `work` through the breaker: its outcome counts, unless the breaker refuses it. With
   * `timeoutMs`, work still unsettled by then is a failure (the caller stops waiting for it).
   */
  async run<T>(work: () => Promise<T>, timeoutMs?: number): Promise<T> {
    if (!this.allowsCall) throw new BreakerOpenError(this.name);
    if (this.current === 'open') this.moveTo('half-open');
    let result: T;
    try {
      result = await (timeoutMs === undefined ? work() : withTimeout(work(), timeoutMs, this.name));
    } catch (err) {
      if (this.isFailure(err)) this.failed();
      else this.succeeded();
      throw err;
    }
    this.succeeded();
    return result;
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.current !== 'closed') this.moveTo('closed');
  }

  private failed(): void {
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.failureThreshold) {
      this.openedAt = this.clock();
      if (this.current !== 'open') this.moveTo('open');
    }
  }

  private moveTo(state: BreakerState): void {
    const from = this.current;
    this.current = state;
    for (const listener of [...this.listeners]) listener(from, state);
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, dependency: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${dependency} did not answer within ${String(ms)} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
