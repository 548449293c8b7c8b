import { createHash } from 'node:crypto';
import {
  chainRow,
  deriveAllowed,
  genesisHash,
  hashedFields,
  headOf,
  isTraceId,
  linkRow,
  pendingRow,
  rowHash,
  type AuditEntry,
} from '../../../../../api/services/audit/chain';
import { canonicalJson } from '../../../../../api/services/audit/canonical';

const tenantId = '00000000-0000-4000-8000-000000000001';

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    tenantId,
    path: 'rbac/allow',
    input: { user: 'ann' },
    result: true,
    cache: 'miss',
    durationUs: 12.4,
    ...overrides,
  };
}

describe('deriveAllowed', () => {
  it('reads a boolean result or a boolean allow member, and nothing else', () => {
    expect(deriveAllowed(true)).toBe(true);
    expect(deriveAllowed({ allow: false, reasons: [] })).toBe(false);
    expect(deriveAllowed({ allow: 'yes' })).toBeNull();
    expect(deriveAllowed([true])).toBeNull();
    expect(deriveAllowed(null)).toBeNull();
    expect(deriveAllowed(undefined)).toBeNull();
  });
});

describe('chainRow', () => {
  it('starts a chain at seq 1 from the genesis hash, with the documented hash', () => {
    const ts = new Date('2026-11-27T10:00:00.123Z');
    const row = chainRow(
      entry({ ts, decisionId: '11111111-1111-4111-8111-111111111111', caller: 'key1' }),
      undefined,
    );
    expect(row).toMatchObject({ seq: 1, prevHash: genesisHash, allowed: true, durationUs: 12 });
    const canonical =
      '{"allowed":true,"bundle_name":null,"bundle_revision":null,"bundle_version":null,' +
      '"cache":"miss","caller":"key1","decision_id":"11111111-1111-4111-8111-111111111111",' +
      '"duration_us":12,"input":{"user":"ann"},"path":"rbac/allow","result":true,"seq":1,' +
      `"tenant_id":"${tenantId}","ts":"2026-11-27T10:00:00.123Z"}`;
    expect(row.hash).toBe(
      createHash('sha256')
        .update(genesisHash + canonical)
        .digest('hex'),
    );
  });

  it('links each row to the previous one and never goes back in time', () => {
    const first = chainRow(entry({ ts: new Date('2026-11-27T10:00:00Z') }), undefined);
    const second = chainRow(entry({ ts: new Date('2026-11-27T09:00:00Z') }), first);
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.hash);
    expect(second.ts).toEqual(first.ts);
    expect(second.decisionId).not.toBe(first.decisionId);
  });

  it('keeps an undefined result apart from a null one', () => {
    const ts = new Date();
    const decisionId = '22222222-2222-4222-8222-222222222222';
    const undefinedResult = chainRow(entry({ ts, decisionId, result: undefined }), undefined);
    const nullResult = chainRow(entry({ ts, decisionId, result: null }), undefined);
    expect(undefinedResult.result).toBeUndefined();
    expect(nullResult.result).toBeNull();
    expect(undefinedResult.hash).not.toBe(nullResult.hash);
  });

  it('changes the hash when any field changes', () => {
    const row = chainRow(entry(), undefined);
    const { hash: _hash, prevHash, ...fields } = row;
    expect(rowHash(prevHash, fields)).toBe(row.hash);
    expect(rowHash(prevHash, { ...fields, input: { user: 'bob' } })).not.toBe(row.hash);
    expect(rowHash(prevHash, { ...fields, cache: 'hit' })).not.toBe(row.hash);
    expect(rowHash('f'.repeat(64), fields)).not.toBe(row.hash);
  });

  it('covers a rollout mark in the hash, and leaves rows without one as they were', () => {
    const ts = new Date('2026-11-27T10:00:00Z');
    const decisionId = '33333333-3333-4333-8333-333333333333';
    const rolloutId = '44444444-4444-4444-8444-444444444444';
    const plain = chainRow(entry({ ts, decisionId }), undefined);
    const { hash: _hash, prevHash, ...fields } = plain;
    // The hash of a row without a mark is the one rows had before rollouts existed.
    expect(plain.hash).toBe(
      createHash('sha256')
        .update(prevHash)
        .update(canonicalJson(hashedFields(fields)))
        .digest('hex'),
    );
    expect(hashedFields(fields)).not.toHaveProperty('rollout');
    const canary = chainRow(
      entry({ ts, decisionId, rollout: { rolloutId, arm: 'canary' } }),
      undefined,
    );
    expect(canary.rollout).toEqual({ rolloutId, arm: 'canary' });
    expect(canary.hash).not.toBe(plain.hash);
    const agrees = chainRow(
      entry({
        ts,
        decisionId,
        rollout: { rolloutId, arm: 'stable', comparedWith: decisionId, agrees: true },
      }),
      undefined,
    );
    const disagrees = chainRow(
      entry({
        ts,
        decisionId,
        rollout: { rolloutId, arm: 'stable', comparedWith: decisionId, agrees: false },
      }),
      undefined,
    );
    expect(agrees.hash).not.toBe(disagrees.hash);
  });

  it('covers a trace id in the hash only when present, so rows without one hash as before', () => {
    const ts = new Date('2026-11-27T10:00:00.123Z');
    const decisionId = '11111111-1111-4111-8111-111111111111';
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const plain = chainRow(entry({ ts, decisionId, caller: 'key1' }), undefined);
    // The same text as the documented hash above: a row without a trace id is unchanged.
    expect(canonicalJson(hashedFields(plain))).not.toContain('trace_id');
    const traced = chainRow(entry({ ts, decisionId, caller: 'key1', traceId }), undefined);
    expect(traced.traceId).toBe(traceId);
    expect(canonicalJson(hashedFields(traced))).toContain(`"trace_id":"${traceId}"`);
    expect(traced.hash).not.toBe(plain.hash);
    const { hash: _hash, prevHash, ...fields } = traced;
    expect(rowHash(prevHash, fields)).toBe(traced.hash);
    expect(rowHash(prevHash, { ...fields, traceId: 'a'.repeat(32) })).not.toBe(traced.hash);
    const { traceId: _dropped, ...stripped } = fields;
    expect(rowHash(prevHash, stripped)).toBe(plain.hash);
  });

  it('tells a W3C trace id apart from anything else', () => {
    expect(isTraceId('4bf92f3577b34da6a3ce929d0e0e4736')).toBe(true);
    expect(isTraceId('0'.repeat(32))).toBe(false);
    expect(isTraceId('4BF92F3577B34DA6A3CE929D0E0E4736')).toBe(false);
    expect(isTraceId('4bf92f3577b34da6a3ce929d0e0e473')).toBe(false);
    expect(isTraceId(42)).toBe(false);
  });

  it('cleans text the database would refuse and clamps the duration', () => {
    const row = chainRow(
      entry({ path: 'a\u0000b', bundleName: 'n\uD800', durationUs: 1e12 }),
      undefined,
    );
    expect(row.path).toBe('a\uFFFDb');
    expect(row.bundleName).toBe('n\uFFFD');
    expect(row.durationUs).toBe(2_147_483_647);
  });
});

describe('pendingRow and linkRow', () => {
  it('fixes the id and time at record time, and the place in the chain at link time', () => {
    const recorded = new Date('2026-11-27T10:00:00.500Z');
    const pending = pendingRow(
      entry({ ts: recorded, decisionId: 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA' }),
    );
    expect(pending).toMatchObject({
      decisionId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
      tenantId,
      ts: recorded,
    });
    expect(pending).not.toHaveProperty('seq');
    expect(pendingRow(entry()).decisionId).not.toBe(pendingRow(entry()).decisionId);

    const first = linkRow(pending, undefined);
    expect(first).toEqual(
      chainRow(entry({ ts: recorded, decisionId: pending.decisionId }), undefined),
    );
    // The same pending row after another writer's row: the next seq, linked to that row.
    const other = chainRow(entry({ ts: new Date('2026-11-27T10:00:00.100Z') }), undefined);
    const second = linkRow(pending, headOf(other));
    expect(second).toMatchObject({ seq: 2, prevHash: other.hash, ts: recorded });
    expect(second.hash).toBe(rowHash(other.hash, second));
    expect(second.hash).not.toBe(first.hash);
  });

  it("holds a row recorded before the head at the head's time, and leaves the pending row as it was", () => {
    const pending = pendingRow(entry({ ts: new Date('2026-11-27T10:00:00.100Z') }));
    const later = chainRow(entry({ ts: new Date('2026-11-27T10:00:00.900Z') }), undefined);
    const linked = linkRow(pending, headOf(later));
    expect(linked.ts).toEqual(later.ts);
    expect(linked.ts).not.toBe(later.ts);
    expect(pending.ts).toEqual(new Date('2026-11-27T10:00:00.100Z'));
  });
});
