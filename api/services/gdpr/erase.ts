/**
 * Erasing a platform user's personal data (a GDPR erasure request) while every audit chain
 * stays verifiable. The chains never held the person: the platform chain names users by
 * their id only (`user:<id>` as caller, the id as principal, ids in request paths; never an
 * e-mail address or a name), and the row that maps that id to a person is `users`, which is
 * scrubbed here. So no audit row changes, and after the erasure the id is a pseudonym that
 * points to nobody.
 *
 * In one transaction: the user row keeps its id, tenant, role and creation time (what other
 * rows and the audit chains refer to) and loses everything else — the e-mail address becomes
 * an address made from the id (pseudonym.ts), the display name and password go, last login is
 * cleared, the account is disabled; MFA enrolment, recovery codes, one-time tokens, sessions
 * with their refresh tokens, and the login throttle of the address are deleted. Then Redis
 * sessions (when sessions live there) are deleted, and the erasure is appended to the
 * platform chain, naming the user by id. Running it again is harmless.
 */
import type { Knex } from 'knex';
import { platformTenantId } from '../../auth/access';
import { appendToChains } from '../audit/append';
import { pendingRow } from '../audit/chain';
import { normalizeEmail, type FieldCipher } from '../identity/data-keys';
import type { SessionStore } from '../identity/sessions';
import { UserDirectory, emailContext, type UserRow } from '../identity/users';
import { erasedEmail } from './pseudonym';

/** The data path of erasure events in the platform chain. */
export const erasurePath = 'verdict/platform/gdpr/erase';

export interface ErasureReport {
  readonly user_id: string;
  readonly tenant_id: string | null;
  readonly sessions_deleted: number;
  readonly redis_sessions_deleted: number;
  readonly mfa_enrolments_deleted: number;
  readonly recovery_codes_deleted: number;
  readonly one_time_tokens_deleted: number;
  readonly login_throttles_deleted: number;
  /** The platform-chain row that records the erasure. */
  readonly audit: { readonly decision_id: string; readonly seq: number };
}

export interface EraseOptions {
  readonly knex: Knex;
  readonly cipher: FieldCipher;
  readonly redisSessions?: SessionStore | undefined;
  /** Whether the database is the embedded one (see AppendOptions.freeLocksWhenIdle). */
  readonly embedded: boolean;
  readonly now?: Date;
}

/** The name failed logins of this address are counted under (as the identity service has it). */
function throttleSubject(cipher: FieldCipher, tenantId: string | null, email: string): string {
  return cipher.blindIndex('login', `${tenantId ?? '(platform)'}\u0000${normalizeEmail(email)}`);
}

async function scrub(
  trx: Knex.Transaction,
  cipher: FieldCipher,
  user: UserRow,
  now: Date,
): Promise<Omit<ErasureReport, 'redis_sessions_deleted' | 'audit'>> {
  const users = new UserDirectory(trx, cipher);
  const locked = (await trx<UserRow>('users')
    .where({ id: user.id })
    .forUpdate()
    .first()) as UserRow;
  const email = users.email(locked);
  const pseudonym = erasedEmail(locked.id);
  await trx('users')
    .where({ id: locked.id })
    .update({
      email: cipher.encrypt(pseudonym, emailContext(locked.id)),
      email_index: users.emailIndex(pseudonym),
      display_name: '',
      password_hash: null,
      password_changed_at: null,
      last_login_at: null,
      disabled_at: trx.raw('coalesce(disabled_at, ?)', [now]),
      updated_at: now,
    });
  const byUser = { user_id: locked.id };
  return {
    user_id: locked.id,
    tenant_id: locked.tenant_id,
    sessions_deleted: await trx('sessions').where(byUser).delete(),
    mfa_enrolments_deleted: await trx('user_mfa').where(byUser).delete(),
    recovery_codes_deleted: await trx('mfa_recovery_codes').where(byUser).delete(),
    one_time_tokens_deleted: await trx('one_time_tokens').where(byUser).delete(),
    login_throttles_deleted: await trx('login_throttles')
      .whereIn('subject', [
        throttleSubject(cipher, locked.tenant_id, email),
        throttleSubject(cipher, locked.tenant_id, pseudonym),
      ])
      .delete(),
  };
}

export async function eraseSubject(options: EraseOptions, user: UserRow): Promise<ErasureReport> {
  const now = options.now ?? new Date();
  const scrubbed = await options.knex.transaction((trx) => scrub(trx, options.cipher, user, now));
  const redisDeleted =
    options.redisSessions === undefined
      ? 0
      : await options.redisSessions.revokeForUser(user.id, 'user erased', now);
  const counts = { ...scrubbed, redis_sessions_deleted: redisDeleted };
  const row = pendingRow({
    tenantId: platformTenantId,
    ts: now,
    path: erasurePath,
    bundleName: null,
    bundleVersion: null,
    bundleRevision: null,
    input: {
      action: 'gdpr.erase',
      subject: { kind: 'user', id: user.id, tenant_id: user.tenant_id },
    },
    result: { erased: true, ...counts },
    caller: 'cli:gdpr-erase',
    cache: 'bypass',
    durationUs: 0,
  });
  const appended = await appendToChains(options.knex, [row], {
    timeoutMs: 30_000,
    freeLocksWhenIdle: !options.embedded,
    mayBeWritten: false,
  });
  const stored = appended.rows[0];
  return {
    ...counts,
    audit: { decision_id: row.decisionId, seq: stored?.seq ?? 0 },
  };
}
