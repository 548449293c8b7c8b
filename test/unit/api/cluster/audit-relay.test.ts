import { AuditRelay, type PrimaryChannel } from '../../../../api/cluster/audit-relay';
import type { PrimaryMessage, WorkerMessage } from '../../../../api/cluster/messages';
import type { AuditEntry } from '../../../../api/services/audit';

const tenantId = '3f1c2a8e-5b7d-4c1e-9a2f-0d6b8e4c7a11';

function entry(path = 'rbac/allow'): AuditEntry {
  return { tenantId, path, cache: 'miss', durationUs: 10, input: { user: 'alice' }, result: true };
}

/** A channel whose sent messages are kept and whose primary answers on demand. */
function fakeChannel(): PrimaryChannel & {
  sent: WorkerMessage[];
  answer(message: PrimaryMessage): void;
  disconnect(): void;
  closed: boolean;
} {
  let onMessage: (message: unknown) => void = () => undefined;
  let onDisconnect: () => void = () => undefined;
  const channel = {
    sent: [] as WorkerMessage[],
    closed: false,
    send(message: WorkerMessage) {
      if (channel.closed) throw new Error('channel closed');
      channel.sent.push(message);
    },
    onMessage(listener: (message: unknown) => void) {
      onMessage = listener;
    },
    onDisconnect(listener: () => void) {
      onDisconnect = listener;
    },
    answer(message: PrimaryMessage) {
      onMessage(message);
    },
    disconnect() {
      channel.closed = true;
      onDisconnect();
    },
  };
  return channel;
}

const batches = (sent: WorkerMessage[]) => sent.filter((m) => m.kind === 'verdict:audit');

describe('the audit relay of a cluster worker', () => {
  it('sends decisions in batches, a few milliseconds apart', async () => {
    const channel = fakeChannel();
    const relay = new AuditRelay(channel, { delayMs: 5, batchSize: 100 });
    relay.record(entry('a'));
    relay.record(entry('b'));
    expect(channel.sent).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches(channel.sent)).toEqual([
      { kind: 'verdict:audit', entries: [entry('a'), entry('b')], strict: [0, 0] },
    ]);
  });

  it('sends a full batch at once', () => {
    const channel = fakeChannel();
    const relay = new AuditRelay(channel, { delayMs: 1000, batchSize: 3 });
    for (let i = 0; i < 7; i++) relay.record(entry(`p${i}`));
    expect(batches(channel.sent).map((m) => ('entries' in m ? m.entries.length : 0))).toEqual([
      3, 3,
    ]);
  });

  it('resolves a strict entry when the primary confirms it, and rejects when it cannot', async () => {
    const channel = fakeChannel();
    const relay = new AuditRelay(channel);
    const confirmed = relay.recordStrict(entry('ok'));
    const refused = relay.recordStrict(entry('late'));
    const [first, second] = batches(channel.sent);
    const idOf = (message: WorkerMessage | undefined): number =>
      message?.kind === 'verdict:audit' ? (message.strict[0] ?? 0) : 0;
    expect(idOf(first)).toBeGreaterThan(0);
    channel.answer({ kind: 'verdict:audit-done', id: idOf(first) });
    channel.answer({
      kind: 'verdict:audit-failed',
      id: idOf(second),
      detail: 'not written in 5000 ms',
    });
    await expect(confirmed).resolves.toBeUndefined();
    await expect(refused).rejects.toMatchObject({
      code: 'database_unavailable',
      detail: 'not written in 5000 ms',
    });
  });

  it('flushes: sends what waits, then asks the primary and waits for its answer', async () => {
    const channel = fakeChannel();
    const relay = new AuditRelay(channel, { delayMs: 1000 });
    relay.record(entry());
    let flushed = false;
    const flushing = relay.flush().then(() => {
      flushed = true;
    });
    expect(channel.sent.map((m) => m.kind)).toEqual(['verdict:audit', 'verdict:audit-flush']);
    await Promise.resolve();
    expect(flushed).toBe(false);
    const request = channel.sent[1];
    channel.answer({
      kind: 'verdict:audit-done',
      id: request?.kind === 'verdict:audit-flush' ? request.id : -1,
    });
    await flushing;
    expect(flushed).toBe(true);
  });

  it('refuses an entry no row can be made of, in the caller', () => {
    const relay = new AuditRelay(fakeChannel());
    expect(() => {
      relay.record({ ...entry(), tenantId: 'not-a-uuid' });
    }).toThrow(/tenantId must be a UUID/);
  });

  it('fails strict waiters and refuses new entries once the primary is gone', async () => {
    const channel = fakeChannel();
    const relay = new AuditRelay(channel);
    const waiting = relay.recordStrict(entry());
    channel.disconnect();
    await expect(waiting).rejects.toMatchObject({ code: 'database_unavailable' });
    expect(() => {
      relay.record(entry());
    }).toThrow(/primary process is gone/);
    await expect(relay.recordStrict(entry())).rejects.toMatchObject({ code: 'not_ready' });
    await expect(relay.flush()).resolves.toBeUndefined();
  });

  it('refuses entries after close', async () => {
    const channel = fakeChannel();
    const relay = new AuditRelay(channel);
    const closing = relay.close();
    const request = channel.sent.find((m) => m.kind === 'verdict:audit-flush');
    channel.answer({
      kind: 'verdict:audit-done',
      id: request?.kind === 'verdict:audit-flush' ? request.id : -1,
    });
    await closing;
    expect(() => {
      relay.record(entry());
    }).toThrow(/closed/);
    await relay.close();
  });
});
