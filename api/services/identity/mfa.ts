/**
 * TOTP second factor: enrolment (a server-made secret, shown once as an otpauth:// URI),
 * confirmation with a first code, checking codes at login (each code once), and ten
 * single-use recovery codes for a lost phone. Secrets are stored encrypted; recovery codes
 * only as keyed hashes (HMAC under the blind-index key, so a copy of the database alone
 * cannot test guesses against them).
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { VerdictError } from '../../errors';
import { fieldContext, type FieldCipher } from './data-keys';
import {
  base32Encode,
  newTotpSecret,
  otpauthUri,
  totpStep,
  verifyTotp,
  base32Decode,
} from './totp';

export const recoveryCodeCount = 10;
export const totpIssuer = 'Verdict';

interface MfaRow {
  user_id: string;
  secret: string;
  confirmed_at: Date | null;
  last_used_step: string | number | null;
}

export interface Enrolment {
  /** The secret in base32, for typing into an app by hand. */
  readonly secret: string;
  readonly otpauth_uri: string;
}

export function mfaSecretContext(userId: string): string {
  return fieldContext('user_mfa', 'secret', userId);
}

/** `xxxx-xxxx-xxxx-xxxx`: 80 random bits in lower-case base32. */
function newRecoveryCode(): string {
  const text = base32Encode(randomBytes(10)).toLowerCase();
  return (text.match(/.{4}/g) as string[]).join('-');
}

/** The form recovery codes are compared in: no separators or blanks, lower case. */
function normalizeRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

export class MfaService {
  constructor(
    private readonly knex: Knex,
    private readonly cipher: FieldCipher,
    private readonly clock: () => number = Date.now,
  ) {}

  async isEnabled(userId: string): Promise<boolean> {
    const row = await this.row(userId);
    return row?.confirmed_at !== null && row?.confirmed_at !== undefined;
  }

  /** Starts (or restarts) enrolment; refused while MFA is on. */
  async enrol(userId: string, account: string): Promise<Enrolment> {
    if (await this.isEnabled(userId)) {
      throw new VerdictError(
        'conflict',
        'Two-factor authentication is on already: turn it off first to enrol a new device.',
      );
    }
    const secret = newTotpSecret();
    const encrypted = this.cipher.encrypt(base32Encode(secret), mfaSecretContext(userId));
    await this.knex('user_mfa')
      .insert({ user_id: userId, secret: encrypted, confirmed_at: null, last_used_step: null })
      .onConflict('user_id')
      .merge();
    return { secret: base32Encode(secret), otpauth_uri: otpauthUri(secret, totpIssuer, account) };
  }

  /** Turns MFA on with the first code of the enrolled secret; returns the recovery codes. */
  async confirm(userId: string, code: string): Promise<string[]> {
    const row = await this.row(userId);
    if (row?.confirmed_at !== null) {
      throw new VerdictError(
        'conflict',
        row === undefined
          ? 'No enrolment to confirm: start one with `verdict mfa enrol`.'
          : 'Two-factor authentication is on already.',
      );
    }
    const step = verifyTotp(this.secret(row), code, this.clock(), null);
    if (step === undefined) {
      throw new VerdictError(
        'bad_request',
        "The code does not match: type the current 6-digit code of your authenticator app (check the phone's clock).",
        { extensions: { field: '/code' } },
      );
    }
    return this.knex.transaction(async (trx) => {
      await trx('user_mfa')
        .where({ user_id: userId })
        .update({ confirmed_at: new Date(this.clock()), last_used_step: step });
      return this.replaceRecoveryCodes(trx, userId);
    });
  }

  /** Checks a login code; true once per code (the step is recorded atomically). */
  async verifyCode(userId: string, code: string): Promise<boolean> {
    const row = await this.row(userId);
    if (row?.confirmed_at === null || row === undefined) return false;
    const lastUsed = row.last_used_step === null ? null : Number(row.last_used_step);
    const step = verifyTotp(this.secret(row), code, this.clock(), lastUsed);
    if (step === undefined) return false;
    // Of two logins racing with the same code, one records the step and the other fails.
    const updated = await this.knex('user_mfa')
      .where({ user_id: userId })
      .where((query) => {
        void query.whereNull('last_used_step').orWhere('last_used_step', '<', step);
      })
      .update({ last_used_step: step });
    return updated > 0;
  }

  /** Spends a recovery code; true when it was one of the user's unused codes. */
  async useRecoveryCode(userId: string, code: string): Promise<boolean> {
    const count = await this.knex('mfa_recovery_codes')
      .where({ user_id: userId, code_hash: this.recoveryHash(userId, code) })
      .whereNull('used_at')
      .update({ used_at: new Date(this.clock()) });
    return count > 0;
  }

  async remainingRecoveryCodes(userId: string): Promise<number> {
    const [row] = await this.knex('mfa_recovery_codes')
      .where({ user_id: userId })
      .whereNull('used_at')
      .count<{ count: string }[]>('* as count');
    return Number(row?.count ?? 0);
  }

  /** New recovery codes, replacing all earlier ones; MFA must be on. */
  async regenerateRecoveryCodes(userId: string): Promise<string[]> {
    if (!(await this.isEnabled(userId))) {
      throw new VerdictError('conflict', 'Two-factor authentication is off: enrol first.');
    }
    return this.knex.transaction((trx) => this.replaceRecoveryCodes(trx, userId));
  }

  async disable(userId: string): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx('mfa_recovery_codes').where({ user_id: userId }).delete();
      await trx('user_mfa').where({ user_id: userId }).delete();
    });
  }

  /** The current TOTP step, for tests and diagnostics. */
  currentStep(): number {
    return totpStep(this.clock());
  }

  private async replaceRecoveryCodes(trx: Knex.Transaction, userId: string): Promise<string[]> {
    const codes = Array.from({ length: recoveryCodeCount }, newRecoveryCode);
    await trx('mfa_recovery_codes').where({ user_id: userId }).delete();
    await trx('mfa_recovery_codes').insert(
      codes.map((code) => ({ user_id: userId, code_hash: this.recoveryHash(userId, code) })),
    );
    return codes;
  }

  private recoveryHash(userId: string, code: string): string {
    return this.cipher.blindIndex('mfa.recovery', `${userId}:${normalizeRecoveryCode(code)}`);
  }

  private secret(row: MfaRow): Buffer {
    const text = this.cipher.decryptText(row.secret, mfaSecretContext(row.user_id));
    return base32Decode(text) as Buffer;
  }

  private row(userId: string): Promise<MfaRow | undefined> {
    return this.knex<MfaRow>('user_mfa').where({ user_id: userId }).first();
  }
}
