/**
 * A loopback TCP proxy in front of a real server (Redis, Postgres), which a test can cut,
 * stall and restore: what the service sees when a dependency goes away, or stops answering,
 * and comes back, without stopping the machine's shared server. Cut, open connections are
 * reset and new ones are accepted and reset at once, as a restarting server or a broken
 * network does. Stalled, connections stay open but nothing flows either way (new ones are
 * held unanswered), as with a server that hangs; restoring lets the held bytes through.
 */
import net from 'node:net';
import { once } from 'node:events';

interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  /** Connections accepted while stalled, forwarded on restore. */
  private readonly held = new Set<net.Socket>();
  private mode: 'open' | 'cut' | 'stalled' = 'open';

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and forwards every connection to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = new TcpProxy(server, target, (server.address() as net.AddressInfo).port);
    server.on('connection', (client) => {
      proxy.accept(client);
    });
    return proxy;
  }

  /** Resets every open connection and refuses new ones until `restore`. */
  cut(): void {
    this.mode = 'cut';
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
    for (const client of this.held) client.resetAndDestroy();
    this.held.clear();
  }

  /** Stops every byte in both directions, and holds new connections, until `restore`. */
  stall(): void {
    this.mode = 'stalled';
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  restore(): void {
    const wasStalled = this.mode === 'stalled';
    this.mode = 'open';
    if (!wasStalled) return;
    for (const { client, upstream } of this.pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
    for (const client of this.held) this.forward(client);
    this.held.clear();
  }

  async close(): Promise<void> {
    this.cut();
    const closed = once(this.server, 'close');
    this.server.close();
    await closed;
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'cut') client.resetAndDestroy();
    else if (this.mode === 'stalled') {
      client.pause();
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
    } else this.forward(client);
  }

  private forward(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = { client, upstream };
    upstream.on('error', () => {
      client.destroy();
    });
    client.on('close', () => {
      upstream.destroy();
      this.pairs.delete(pair);
    });
    upstream.on('close', () => {
      client.destroy();
    });
    this.pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
