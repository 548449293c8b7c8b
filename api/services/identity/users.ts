/**
 * The user directory: platform users as rows, with the e-mail address encrypted and found
 * through its blind index. Plain values in, plain values out; no HTTP here.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { UserRole } from '../../auth/principal';
import { VerdictError } from '../../errors';
import { isUuid } from '../../uuid';
import { FieldCipher, fieldContext, normalizeEmail } from './data-keys';

/** The columns the identity service reads. */
export interface UserRow {
  id: string;
  tenant_id: string | null;
  email: string;
  email_index: string | null;
  display_name: string;
  role: UserRole;
  password_hash: string | null;
  password_changed_at: Date | null;
  last_login_at: Date | null;
  disabled_at: Date | null;
  created_at: Date;
}

/** A user as the API shows it. */
export interface UserView {
  readonly id: string;
  readonly tenant_id: string | null;
  readonly email: string;
  readonly display_name: string;
  readonly role: UserRole;
  /** `invited` until a first password is set. */
  readonly status: 'active' | 'invited' | 'disabled';
  readonly mfa_enabled: boolean;
  readonly last_login_at: Date | null;
  readonly disabled_at: Date | null;
  readonly created_at: Date;
}

export interface NewUser {
  readonly email: string;
  readonly role: UserRole;
  readonly displayName?: string;
  readonly passwordHash: string | null;
}

export function emailContext(userId: string): string {
  return fieldContext('users', 'email', userId);
}

/** Blind-index purpose of e-mail look-ups. */
const emailPurpose = 'users.email';

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

export class UserDirectory {
  constructor(
    private readonly knex: Knex,
    private readonly cipher: FieldCipher,
    private readonly clock: () => number = Date.now,
  ) {}

  emailIndex(email: string): string {
    return this.cipher.blindIndex(emailPurpose, normalizeEmail(email));
  }

  email(row: Pick<UserRow, 'id' | 'email'>): string {
    return FieldCipher.isEncrypted(row.email)
      ? this.cipher.decryptText(row.email, emailContext(row.id))
      : row.email;
  }

  async create(tenantId: string | null, input: NewUser): Promise<UserRow> {
    const id = randomUUID();
    const email = input.email.trim();
    try {
      const [row] = await this.knex('users')
        .insert({
          id,
          tenant_id: tenantId,
          email: this.cipher.encrypt(email, emailContext(id)),
          email_index: this.emailIndex(email),
          display_name: input.displayName ?? '',
          role: input.role,
          password_hash: input.passwordHash,
          password_changed_at: input.passwordHash === null ? null : new Date(this.clock()),
        })
        .returning<UserRow[]>('*');
      return row as UserRow;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new VerdictError(
        'conflict',
        tenantId === null
          ? 'A platform admin with this e-mail address exists already.'
          : 'This tenant has a user with this e-mail address already: list users with `verdict users list`.',
      );
    }
  }

  /** The user of `tenantId` (null: platform admins) with this e-mail address. */
  async findByEmail(tenantId: string | null, email: string): Promise<UserRow | undefined> {
    const query = this.knex<UserRow>('users').where({ email_index: this.emailIndex(email) });
    if (tenantId === null) void query.whereNull('tenant_id');
    else void query.where({ tenant_id: tenantId });
    return query.first();
  }

  async findById(id: string): Promise<UserRow | undefined> {
    if (!isUuid(id)) return undefined;
    return this.knex<UserRow>('users').where({ id }).first();
  }

  /** The users of a tenant (null: platform admins), oldest first. */
  async list(tenantId: string | null): Promise<UserView[]> {
    const query = this.knex<UserRow>('users').orderBy([
      { column: 'created_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ]);
    if (tenantId === null) void query.whereNull('tenant_id');
    else void query.where({ tenant_id: tenantId });
    const rows = await query;
    const enrolled = new Set(
      (
        await this.knex('user_mfa')
          .whereIn(
            'user_id',
            rows.map((row) => row.id),
          )
          .whereNotNull('confirmed_at')
          .select<{ user_id: string }[]>('user_id')
      ).map((row) => row.user_id),
    );
    return rows.map((row) => this.view(row, enrolled.has(row.id)));
  }

  /** The user as the API shows it, looking up whether MFA is on. */
  async describe(row: UserRow): Promise<UserView> {
    const enrolled: unknown = await this.knex('user_mfa')
      .where({ user_id: row.id })
      .whereNotNull('confirmed_at')
      .first('user_id');
    return this.view(row, enrolled !== undefined);
  }

  view(row: UserRow, mfaEnabled: boolean): UserView {
    return {
      id: row.id,
      tenant_id: row.tenant_id,
      email: this.email(row),
      display_name: row.display_name,
      role: row.role,
      status:
        row.disabled_at !== null ? 'disabled' : row.password_hash === null ? 'invited' : 'active',
      mfa_enabled: mfaEnabled,
      last_login_at: row.last_login_at,
      disabled_at: row.disabled_at,
      created_at: row.created_at,
    };
  }

  /** Disables the user (keeping the first time); undefined when the tenant has no such user. */
  async disable(tenantId: string | null, id: string): Promise<UserRow | undefined> {
    if (!isUuid(id)) return undefined;
    const query = this.knex('users').where({ id });
    if (tenantId === null) void query.whereNull('tenant_id');
    else void query.where({ tenant_id: tenantId });
    const [row] = await query
      .update({
        disabled_at: this.knex.raw('coalesce(disabled_at, ?)', [new Date(this.clock())]),
        updated_at: new Date(this.clock()),
      })
      .returning<UserRow[]>('*');
    return row;
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    const now = new Date(this.clock());
    await this.knex('users')
      .where({ id })
      .update({ password_hash: passwordHash, password_changed_at: now, updated_at: now });
  }

  async recordLogin(id: string): Promise<void> {
    await this.knex('users')
      .where({ id })
      .update({ last_login_at: new Date(this.clock()) });
  }
}
