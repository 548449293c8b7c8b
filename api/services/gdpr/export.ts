/**
 * Everything Verdict holds about one platform user (a GDPR access request), as JSON: the
 * account (e-mail decrypted), whether MFA is enrolled (never the secret or the recovery
 * codes), sessions (device, address, times) from the database and, when sessions live in
 * Redis, the active ones there, pending one-time tokens (purpose and times only), what the
 * user published or rolled out, and the rows of the platform's decision-log chain that name
 * the user (as caller, principal, the user the request was about, or the subject of an
 * erasure).
 *
 * API keys are not linked to the user who created them (nor is that request's answer logged):
 * the platform rows of `api-keys.create` by the user are in `platform_audit`.
 */
import type { Knex } from 'knex';
import { platformTenantId } from '../../auth/access';
import type { JsonValue } from '../audit/canonical';
import type { FieldCipher } from '../identity/data-keys';
import type { SessionStore } from '../identity/sessions';
import { UserDirectory, type UserRow } from '../identity/users';
import { isErasedEmail } from './pseudonym';

export interface SubjectSession {
  readonly id: string;
  readonly store: 'database' | 'redis';
  readonly mfa: boolean;
  readonly user_agent: string | null;
  readonly ip: string | null;
  readonly created_at: string;
  readonly last_seen_at: string;
  readonly expires_at: string;
  readonly revoked_at: string | null;
  readonly revoked_reason: string | null;
}

export interface SubjectAuditRow {
  readonly decision_id: string;
  readonly seq: number;
  readonly ts: string;
  readonly path: string;
  readonly caller: string | null;
  readonly input: JsonValue | null;
  readonly result: JsonValue | null;
}

export interface SubjectExport {
  readonly exported_at: string;
  readonly user: {
    readonly id: string;
    readonly tenant: { readonly id: string; readonly slug: string } | null;
    readonly email: string;
    readonly display_name: string;
    readonly role: string;
    readonly status: 'active' | 'invited' | 'disabled';
    /** Whether the user's personal data was erased (`verdict gdpr erase`). */
    readonly erased: boolean;
    readonly password_set: boolean;
    readonly password_changed_at: string | null;
    readonly last_login_at: string | null;
    readonly disabled_at: string | null;
    readonly created_at: string;
  };
  readonly mfa: {
    readonly enrolled: boolean;
    readonly confirmed_at: string | null;
    readonly created_at: string;
    readonly recovery_codes: number;
    readonly recovery_codes_used: number;
  } | null;
  readonly sessions: readonly SubjectSession[];
  readonly one_time_tokens: readonly {
    readonly purpose: string;
    readonly created_at: string;
    readonly expires_at: string;
    readonly used_at: string | null;
  }[];
  readonly bundle_versions_uploaded: readonly {
    readonly bundle: string;
    readonly version: string;
    readonly created_at: string;
  }[];
  readonly rollouts: readonly {
    readonly id: string;
    readonly bundle: string;
    readonly mode: string;
    readonly status: string;
    readonly started_by_user: boolean;
    readonly ended_by_user: boolean;
    readonly started_at: string;
    readonly ended_at: string | null;
  }[];
  readonly platform_audit: readonly SubjectAuditRow[];
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/** The platform chain's rows that name the user; a plain scan of that chain only. */
export async function platformRowsAbout(knex: Knex, userId: string): Promise<SubjectAuditRow[]> {
  const rows = await knex('decisions')
    .where('tenant_id', platformTenantId)
    .where((q) => {
      void q
        .where('caller', `user:${userId}`)
        .orWhereRaw("input->'principal'->>'id' = ?", [userId])
        .orWhereRaw("input->'subject'->>'id' = ?", [userId])
        .orWhereRaw("strpos(input->'request'->>'path', ?) > 0", [userId]);
    })
    .orderBy('seq')
    .select<
      {
        decision_id: string;
        seq: string;
        ts: Date;
        path: string;
        caller: string | null;
        input: JsonValue | null;
        result: JsonValue | null;
      }[]
    >('decision_id', 'seq', 'ts', 'path', 'caller', 'input', 'result');
  return rows.map((row) => ({
    decision_id: row.decision_id,
    seq: Number(row.seq),
    ts: row.ts.toISOString(),
    path: row.path,
    caller: row.caller,
    input: row.input,
    result: row.result,
  }));
}

interface SessionRecord {
  id: string;
  mfa: boolean;
  user_agent: string | null;
  ip: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

async function sessionsOf(
  knex: Knex,
  userId: string,
  redis: SessionStore | undefined,
): Promise<SubjectSession[]> {
  const stored = await knex('sessions')
    .where({ user_id: userId })
    .orderBy([
      { column: 'created_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ])
    .select<SessionRecord[]>('*');
  const sessions: SubjectSession[] = stored.map((row) => ({
    id: row.id,
    store: 'database',
    mfa: row.mfa,
    user_agent: row.user_agent,
    ip: row.ip,
    created_at: row.created_at.toISOString(),
    last_seen_at: row.last_seen_at.toISOString(),
    expires_at: row.expires_at.toISOString(),
    revoked_at: iso(row.revoked_at),
    revoked_reason: row.revoked_reason,
  }));
  if (redis !== undefined) {
    for (const session of await redis.listForUser(userId, new Date())) {
      sessions.push({
        id: session.id,
        store: 'redis',
        mfa: session.mfa,
        user_agent: session.userAgent,
        ip: session.ip,
        created_at: session.createdAt.toISOString(),
        last_seen_at: session.lastSeenAt.toISOString(),
        expires_at: session.expiresAt.toISOString(),
        revoked_at: null,
        revoked_reason: null,
      });
    }
  }
  return sessions;
}

async function mfaOf(knex: Knex, userId: string): Promise<SubjectExport['mfa']> {
  const row = await knex('user_mfa')
    .where({ user_id: userId })
    .first<{ confirmed_at: Date | null; created_at: Date } | undefined>(
      'confirmed_at',
      'created_at',
    );
  if (row === undefined) return null;
  const [codes] = await knex('mfa_recovery_codes')
    .where({ user_id: userId })
    .select<{ total: string; used: string }[]>(
      knex.raw('count(*) as total'),
      knex.raw('count(used_at) as used'),
    );
  return {
    enrolled: row.confirmed_at !== null,
    confirmed_at: iso(row.confirmed_at),
    created_at: row.created_at.toISOString(),
    recovery_codes: Number(codes?.total ?? 0),
    recovery_codes_used: Number(codes?.used ?? 0),
  };
}

export interface ExportOptions {
  readonly knex: Knex;
  readonly cipher: FieldCipher;
  /** The Redis session store, when sessions live there. */
  readonly redisSessions?: SessionStore | undefined;
  readonly now?: Date;
}

export async function exportSubject(options: ExportOptions, row: UserRow): Promise<SubjectExport> {
  const { knex } = options;
  const users = new UserDirectory(knex, options.cipher);
  const mfa = await mfaOf(knex, row.id);
  const view = users.view(row, mfa?.enrolled === true);
  const tenant =
    row.tenant_id === null
      ? null
      : ((await knex('tenants')
          .where({ id: row.tenant_id })
          .first<{ id: string; slug: string } | undefined>('id', 'slug')) ?? null);
  const actor = `user:${row.id}`;
  const uploads = await knex('bundle_versions as v')
    .join('bundles as b', 'b.id', 'v.bundle_id')
    .where('v.uploaded_by', actor)
    .orderBy([{ column: 'v.created_at' }, { column: 'v.id' }])
    .select<{ bundle: string; version: string; created_at: Date }[]>(
      'b.name as bundle',
      'v.version',
      'v.created_at',
    );
  const rollouts = await knex('rollouts as r')
    .join('bundles as b', 'b.id', 'r.bundle_id')
    .where('r.started_by', actor)
    .orWhere('r.ended_by', actor)
    .orderBy([{ column: 'r.started_at' }, { column: 'r.id' }])
    .select<
      {
        id: string;
        bundle: string;
        mode: string;
        status: string;
        started_by: string;
        ended_by: string | null;
        started_at: Date;
        ended_at: Date | null;
      }[]
    >(
      'r.id',
      'b.name as bundle',
      'r.mode',
      'r.status',
      'r.started_by',
      'r.ended_by',
      'r.started_at',
      'r.ended_at',
    );
  const tokens = await knex('one_time_tokens')
    .where({ user_id: row.id })
    .orderBy('created_at')
    .select<{ purpose: string; created_at: Date; expires_at: Date; used_at: Date | null }[]>(
      'purpose',
      'created_at',
      'expires_at',
      'used_at',
    );
  return {
    exported_at: (options.now ?? new Date()).toISOString(),
    user: {
      id: row.id,
      tenant: tenant ?? null,
      email: view.email,
      display_name: view.display_name,
      role: view.role,
      status: view.status,
      erased: isErasedEmail(view.email),
      password_set: row.password_hash !== null,
      password_changed_at: iso(row.password_changed_at),
      last_login_at: iso(row.last_login_at),
      disabled_at: iso(row.disabled_at),
      created_at: row.created_at.toISOString(),
    },
    mfa,
    sessions: await sessionsOf(knex, row.id, options.redisSessions),
    one_time_tokens: tokens.map((token) => ({
      purpose: token.purpose,
      created_at: token.created_at.toISOString(),
      expires_at: token.expires_at.toISOString(),
      used_at: iso(token.used_at),
    })),
    bundle_versions_uploaded: uploads.map((upload) => ({
      bundle: upload.bundle,
      version: upload.version,
      created_at: upload.created_at.toISOString(),
    })),
    rollouts: rollouts.map((rollout) => ({
      id: rollout.id,
      bundle: rollout.bundle,
      mode: rollout.mode,
      status: rollout.status,
      started_by_user: rollout.started_by === actor,
      ended_by_user: rollout.ended_by === actor,
      started_at: rollout.started_at.toISOString(),
      ended_at: iso(rollout.ended_at),
    })),
    platform_audit: await platformRowsAbout(knex, row.id),
  };
}
