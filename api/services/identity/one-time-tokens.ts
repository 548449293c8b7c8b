/**
 * Short-lived, single-use bearer tokens: the MFA step of a login (`mfa`, minutes) and the
 * link that lets an invited user set a first password (`password-setup`, days). The token
 * is 256 random bits shown once; only its SHA-256 is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

export type OneTimePurpose = 'mfa' | 'password-setup';

const prefixes: Record<OneTimePurpose, string> = { mfa: 'vmt', 'password-setup': 'vst' };

/** Attempts one MFA token allows before it is spent, right or wrong. */
export const maxTokenAttempts = 5;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** `<marker>_<43 base64url characters>`: 256 random bits. */
export function newOpaqueToken(marker: string): string {
  return `${marker}_${randomBytes(32).toString('base64url')}`;
}

export type ConsumeOutcome =
  { readonly ok: true; readonly userId: string } | { readonly ok: false };

export class OneTimeTokens {
  constructor(
    private readonly knex: Knex,
    private readonly clock: () => number = Date.now,
  ) {}

  async issue(userId: string, purpose: OneTimePurpose, ttlMs: number): Promise<string> {
    const token = newOpaqueToken(prefixes[purpose]);
    await this.knex('one_time_tokens').insert({
      token_hash: tokenHash(token),
      user_id: userId,
      purpose,
      expires_at: new Date(this.clock() + ttlMs),
    });
    return token;
  }

  /**
   * The user a live token of `purpose` stands for, counting one attempt; the token stays
   * usable (until its attempts run out) so a mistyped code can be tried again. Call
   * `spend` once the step it guards has succeeded.
   */
  async attempt(token: string, purpose: OneTimePurpose): Promise<ConsumeOutcome> {
    const [row] = await this.knex('one_time_tokens')
      .where({ token_hash: tokenHash(token), purpose })
      .whereNull('used_at')
      .where('expires_at', '>', new Date(this.clock()))
      .where('attempts', '<', maxTokenAttempts)
      .increment('attempts', 1)
      .returning<{ user_id: string }[]>('user_id');
    return row === undefined ? { ok: false } : { ok: true, userId: row.user_id };
  }

  /** Marks the token used; false when it already was (a concurrent use won). */
  async spend(token: string): Promise<boolean> {
    const count = await this.knex('one_time_tokens')
      .where({ token_hash: tokenHash(token) })
      .whereNull('used_at')
      .update({ used_at: new Date(this.clock()) });
    return count > 0;
  }

  /** Removes the user's unused tokens of `purpose` (a new invitation replaces the old). */
  async revokeFor(userId: string, purpose: OneTimePurpose): Promise<void> {
    await this.knex('one_time_tokens')
      .where({ user_id: userId, purpose })
      .whereNull('used_at')
      .delete();
  }

  /** Deletes tokens that expired more than a day ago. */
  async prune(): Promise<void> {
    await this.knex('one_time_tokens')
      .where('expires_at', '<', new Date(this.clock() - 24 * 60 * 60_000))
      .delete();
  }
}
