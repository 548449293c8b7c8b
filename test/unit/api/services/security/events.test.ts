import { Registry } from 'prom-client';
import { SecurityMetrics } from '../../../../../api/services/metrics/security';
import { SecurityEvents, loggedAccountName } from '../../../../../api/services/security/events';
import { capturingLogger } from '../../../../integration/helpers/services';
import { parseExposition, sampleSum } from '../../../../helpers/prometheus-text';

describe('SecurityEvents', () => {
  it('writes one line of the stable shape and counts the event', async () => {
    const { logger, lines } = capturingLogger();
    const registry = new Registry();
    const events = new SecurityEvents({ logger, counter: new SecurityMetrics(registry) });
    events.record({
      type: 'access_denied',
      actor: 'user:u1',
      tenant: 't1',
      ip: '10.0.0.7',
      requestId: 'req-1',
      details: { action: 'keys.create', reason: 'role policy-author may not' },
    });
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 40,
        event: 'security',
        type: 'access_denied',
        actor: 'user:u1',
        tenant: 't1',
        ip: '10.0.0.7',
        requestId: 'req-1',
        action: 'keys.create',
        reason: 'role policy-author may not',
        msg: 'security: admin request denied',
      }),
    ]);
    const text = parseExposition(await registry.metrics());
    expect(sampleSum(text, 'verdict_security_events_total', { type: 'access_denied' })).toBe(1);
  });

  it('fills unknown fields with null, logs revocations at info, and details cannot replace the shape', () => {
    const { logger, lines } = capturingLogger();
    new SecurityEvents({ logger }).record({
      type: 'api_key_revoked',
      details: { keyId: 'k1', type: 'spoofed', event: 'other' },
    });
    const [line] = lines();
    expect(line).toMatchObject({
      level: 30,
      event: 'security',
      type: 'api_key_revoked',
      actor: null,
      tenant: null,
      ip: null,
      requestId: null,
      keyId: 'k1',
    });
  });

  it('logs a short start of the account-name HMAC, never more', () => {
    const subject = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde';
    expect(loggedAccountName(subject)).toBe('AbCdEfGhIjKlMnOp');
  });
});
