/**
 * Security events by type (api/services/security/events.ts). Every type is rendered from the
 * start, at zero, so alert expressions over `rate()` have a series before the first event;
 * the label set is the fixed list of types, nothing a caller sends.
 */
import { Counter, type Registry } from 'prom-client';
import {
  securityEventTypes,
  type SecurityEventCounter,
  type SecurityEventType,
} from '../security/events';

export class SecurityMetrics implements SecurityEventCounter {
  private readonly counts = new Map<SecurityEventType, number>(
    securityEventTypes.map((type) => [type, 0]),
  );

  constructor(registry: Registry) {
    const counts = this.counts;
    new Counter({
      name: 'verdict_security_events_total',
      help: 'Security events, by type: failed and locked logins, refused second factors, refresh-token reuse, key revocations and rotations, denied admin requests (cross_tenant_denied: for another tenant).',
      labelNames: ['type'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [type, count] of counts) this.inc({ type }, count);
      },
    });
  }

  count(type: SecurityEventType): void {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
  }
}
