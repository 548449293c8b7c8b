/**
 * Account lockout with a growing delay. Failures are counted per account name — an HMAC of
 * tenant and normalized e-mail, whether or not such an account exists — so an unknown
 * address locks exactly like a known one and lockout tells nobody which accounts exist.
 *
 * The first `freeFailures` failures cost nothing; each later one locks the name for a delay
 * that doubles from `baseDelayMs` up to `maxDelayMs`. While locked, logins are refused
 * without checking the password. A success clears the count; so does a quiet day.
 */
import type { Knex } from 'knex';

export interface LoginThrottleOptions {
  readonly knex: Knex;
  readonly clock?: () => number;
  /** Failures before the first lock (default 5). */
  readonly freeFailures?: number;
  /** Delay of the first lock (default 1 s). */
  readonly baseDelayMs?: number;
  /** Longest lock (default 15 min). */
  readonly maxDelayMs?: number;
  /** Failures older than this are forgotten (default one day). */
  readonly memoryMs?: number;
}

interface ThrottleRow {
  subject: string;
  failures: number;
  locked_until: Date | null;
  last_failure_at: Date;
}

export class LoginThrottle {
  private readonly knex: Knex;
  private readonly clock: () => number;
  private readonly freeFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly memoryMs: number;

  constructor(options: LoginThrottleOptions) {
    this.knex = options.knex;
    this.clock = options.clock ?? Date.now;
    this.freeFailures = options.freeFailures ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 15 * 60_000;
    this.memoryMs = options.memoryMs ?? 24 * 60 * 60_000;
  }

  /** Milliseconds until `subject` may try again; 0 when it may now. */
  async lockedFor(subject: string): Promise<number> {
    const row = await this.knex<ThrottleRow>('login_throttles').where({ subject }).first();
    if (row?.locked_until === null || row?.locked_until === undefined) return 0;
    return Math.max(0, row.locked_until.getTime() - this.clock());
  }

  /** Counts a failure; returns the lock it caused in milliseconds (0 for none). */
  async recordFailure(subject: string): Promise<number> {
    const now = this.clock();
    const forgetBefore = new Date(now - this.memoryMs);
    // One statement, so concurrent failures each count.
    const [row] = await this.knex
      .raw<{ rows: { failures: number }[] }>(
        `insert into login_throttles (subject, failures, last_failure_at) values (?, 1, ?)
         on conflict (subject) do update set
           failures = case when login_throttles.last_failure_at < ? then 1
                           else login_throttles.failures + 1 end,
           last_failure_at = excluded.last_failure_at
         returning failures`,
        [subject, new Date(now), forgetBefore],
      )
      .then((result) => result.rows);
    const failures = row?.failures ?? 1;
    const delay = this.delayAfter(failures);
    if (delay > 0) {
      await this.knex('login_throttles')
        .where({ subject })
        .update({ locked_until: new Date(now + delay) });
    }
    return delay;
  }

  async recordSuccess(subject: string): Promise<void> {
    await this.knex('login_throttles').where({ subject }).delete();
  }

  /** The lock after the `failures`-th consecutive failure. */
  delayAfter(failures: number): number {
    if (failures < this.freeFailures) return 0;
    const doublings = Math.min(failures - this.freeFailures, 30);
    return Math.min(this.baseDelayMs * 2 ** doublings, this.maxDelayMs);
  }
}
