/**
 * A loopback TCP proxy in front of a real server (Redis, Postgres), which a test can cut and
 * restore: what the service sees when a dependency goes away and comes back, without
 * stopping the machine's shared server. While cut, open connections are reset and new ones
 * are accepted and reset at once, as a restarting server or a broken network does.
 */
import net from 'node:net';
import { once } from 'node:events';

export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private cutOff = false;
  /** Connections accepted so far, refused ones included. */
  accepted = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and forwards every connection to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (client) => {
      proxy.forward(client, target);
    });
    return proxy;
  }

  /** Resets every open connection and refuses new ones until `restore`. */
  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    const closed = once(this.server, 'close');
    this.server.close();
    await closed;
  }

  private forward(client: net.Socket, target: { host: string; port: number }): void {
    this.accepted++;
    client.on('error', () => undefined);
    if (this.cutOff) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    upstream.on('error', () => {
      client.destroy();
    });
    client.on('close', () => {
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    });
    upstream.on('close', () => {
      client.destroy();
    });
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
