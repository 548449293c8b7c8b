/**
 * Helpers of end-to-end tests that run a server under load: a free loopback port, waiting for
 * a condition, and a stream of decisions that keeps deciding until told to stop.
 */
import { once } from 'node:events';
import net from 'node:net';

/** An examples/rbac input the streams decide: carol (a viewer) deleting bob's document. */
export const carolDeletes = {
  subject: { id: 'carol', tenant: 'acme' },
  action: 'delete',
  resource: { type: 'document', id: 'd1', tenant: 'acme', owner: 'bob' },
};

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** Polls `condition` until it holds; after a minute fails naming `what` (and `context()`). */
export async function until(
  condition: () => Promise<boolean>,
  what: string,
  context: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface DecisionStream {
  /** Decision ids answered so far, in answer order. */
  readonly answered: string[];
  /** Stops after the request in flight; resolves to every id answered. */
  stop(): Promise<string[]>;
}

/**
 * Calls `decide` in a loop: each call answers a decision id, or undefined when the request
 * was not answered with one. A call that throws (a refused connection while the server goes
 * away) was never answered; the loop pauses briefly and goes on.
 */
export function streamDecisions(decide: () => Promise<string | undefined>): DecisionStream {
  const answered: string[] = [];
  const flow = { on: true };
  const loop = (async () => {
    while (flow.on) {
      try {
        const id = await decide();
        if (id !== undefined) answered.push(id);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  })();
  return {
    answered,
    stop: async () => {
      flow.on = false;
      await loop;
      return answered;
    },
  };
}
