/**
 * The circuit breaker on work the test settles, with a clock it moves: opening at the
 * threshold, refusing while open, one probe when the open period is over, closing on its
 * success and reopening on its failure, errors that do not count, timeouts, transitions.
 */
import {
  BreakerOpenError,
  CircuitBreaker,
  type BreakerState,
} from '../../../../api/services/breaker';

function setup(options: { failureThreshold?: number; isFailure?: (err: unknown) => boolean } = {}) {
  let now = 1_000_000;
  const transitions: string[] = [];
  const breaker = new CircuitBreaker({
    name: 'redis',
    failureThreshold: options.failureThreshold ?? 3,
    openMs: 5000,
    isFailure: options.isFailure,
    clock: () => now,
  });
  breaker.onTransition((from: BreakerState, to: BreakerState) => transitions.push(`${from}>${to}`));
  const advance = (ms: number): void => {
    now += ms;
  };
  return { breaker, transitions, advance };
}

const ok = (): Promise<string> => Promise.resolve('ok');
const down = (): Promise<string> => Promise.reject(new Error('ECONNREFUSED'));

describe('CircuitBreaker', () => {
  it('stays closed below the threshold, and a success resets the count', async () => {
    const { breaker } = setup();
    await expect(breaker.run(down)).rejects.toThrow('ECONNREFUSED');
    await expect(breaker.run(down)).rejects.toThrow('ECONNREFUSED');
    await expect(breaker.run(ok)).resolves.toBe('ok');
    await expect(breaker.run(down)).rejects.toThrow('ECONNREFUSED');
    await expect(breaker.run(down)).rejects.toThrow('ECONNREFUSED');
    expect(breaker.state).toBe('closed');
    expect(breaker.allowsCall).toBe(true);
  });

  it('opens at the threshold and refuses calls without running them', async () => {
    const { breaker, transitions } = setup();
    for (let i = 0; i < 3; i++) await expect(breaker.run(down)).rejects.toThrow('ECONNREFUSED');
    expect(breaker.state).toBe('open');
    expect(breaker.allowsCall).toBe(false);
    let ran = false;
    const refused = breaker.run(() => {
      ran = true;
      return ok();
    });
    await expect(refused).rejects.toBeInstanceOf(BreakerOpenError);
    await expect(refused).rejects.toThrow('redis is unavailable (circuit breaker open)');
    expect(ran).toBe(false);
    expect(transitions).toEqual(['closed>open']);
  });

  it('lets one probe through after the open period; its success closes the breaker', async () => {
    const { breaker, transitions, advance } = setup();
    for (let i = 0; i < 3; i++) await expect(breaker.run(down)).rejects.toThrow();
    advance(4999);
    expect(breaker.allowsCall).toBe(false);
    advance(1);
    expect(breaker.allowsCall).toBe(true);
    let finish: (value: string) => void = () => undefined;
    const probe = breaker.run(() => new Promise<string>((resolve) => (finish = resolve)));
    expect(breaker.state).toBe('half-open');
    // Calls during the probe are refused.
    expect(breaker.allowsCall).toBe(false);
    await expect(breaker.run(ok)).rejects.toBeInstanceOf(BreakerOpenError);
    finish('back');
    await expect(probe).resolves.toBe('back');
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
  });

  it('opens again for a full period when the probe fails', async () => {
    const { breaker, transitions, advance } = setup();
    for (let i = 0; i < 3; i++) await expect(breaker.run(down)).rejects.toThrow();
    advance(5000);
    await expect(breaker.run(down)).rejects.toThrow('ECONNREFUSED');
    expect(breaker.state).toBe('open');
    advance(4999);
    await expect(breaker.run(ok)).rejects.toBeInstanceOf(BreakerOpenError);
    advance(1);
    await expect(breaker.run(ok)).resolves.toBe('ok');
    expect(transitions).toEqual([
      'closed>open',
      'open>half-open',
      'half-open>open',
      'open>half-open',
      'half-open>closed',
    ]);
  });

  it('does not count errors that are answers of a working dependency', async () => {
    const { breaker } = setup({
      failureThreshold: 1,
      isFailure: (err) => !(err instanceof Error && err.message === 'duplicate key'),
    });
    await expect(breaker.run(() => Promise.reject(new Error('duplicate key')))).rejects.toThrow();
    expect(breaker.state).toBe('closed');
    await expect(breaker.run(down)).rejects.toThrow();
    expect(breaker.state).toBe('open');
  });

  it('counts work that outlasts its timeout as a failure', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const hanging = breaker.run(() => new Promise<string>(() => undefined), 10);
    await expect(hanging).rejects.toThrow('redis did not answer within 10 ms');
    expect(breaker.state).toBe('open');
  });

  it('stops telling a listener once it unsubscribed', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const seen: BreakerState[] = [];
    const stop = breaker.onTransition((_from, to) => seen.push(to));
    stop();
    await expect(breaker.run(down)).rejects.toThrow();
    expect(seen).toEqual([]);
  });
});
