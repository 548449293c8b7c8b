/**
 * A loopback TCP load balancer that behaves like a Kubernetes Service (kube-proxy routing to
 * the endpoints of ready pods): each new client connection goes, round robin, to one of the
 * backends whose `/health/ready` answered 200 at its last probe, and stays with that backend
 * until either side closes it. Each backend is probed on its own: an answer other than 200
 * takes it out at once, as do three probes in a row without an answer (the kubelet's default
 * failure threshold). In Kubernetes a terminating pod leaves the endpoints when its deletion
 * begins, whatever its probes say; here the 503 a stopping Verdict answers plays that part, seen
 * at the next probe, so a backend goes on getting connections for up to one probe interval
 * after its SIGTERM. Nothing is retried: a backend that refuses the connection fails it, as
 * with kube-proxy, and no ready backend at all fails it too.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';

export interface BalancerOptions {
  /** Pause between two probes of a backend. */
  readonly probeIntervalMs: number;
  /** A probe without an answer within this long has failed. */
  readonly probeTimeoutMs: number;
}

/** Probes in a row without an answer that take a backend out. */
const failureThreshold = 3;

export interface BackendStats {
  /** Client connections handed to this backend. */
  connections: number;
  /** Of those, the ones the backend refused (each failed its client). */
  refused: number;
}

interface Backend {
  readonly port: number;
  ready: boolean;
  /** Probes in a row that got no answer. */
  failures: number;
  probing: boolean;
  loop: Promise<void>;
  readonly stats: BackendStats;
}

/** The status GET /health/ready on `port` answers, or undefined without one in `timeoutMs`. */
function probe(port: number, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/health/ready', agent: false, timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode);
      },
    );
    req.on('timeout', () => {
      req.destroy();
    });
    req.on('error', () => {
      resolve(undefined);
    });
  });
}

export class Balancer {
  /** Client connections that found no ready backend (each one failed). */
  unrouted = 0;
  private readonly backends = new Map<number, Backend>();
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private next = 0;

  private constructor(
    server: net.Server,
    private readonly options: BalancerOptions,
  ) {
    this.server = server;
  }

  /** Listens on a free loopback port and starts probing. */
  static async start(options: BalancerOptions): Promise<Balancer> {
    const server = net.createServer();
    const balancer = new Balancer(server, options);
    server.on('connection', (client) => {
      balancer.route(client);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Adds a backend, not ready until a probe says so. */
  add(port: number): void {
    const backend: Backend = {
      port,
      ready: false,
      failures: 0,
      probing: true,
      loop: Promise.resolve(),
      stats: { connections: 0, refused: 0 },
    };
    backend.loop = this.probeWhileAdded(backend);
    this.backends.set(port, backend);
  }

  /** Removes a backend (its pod is gone); connections already open stay as they are. */
  async remove(port: number): Promise<void> {
    const backend = this.backends.get(port);
    if (backend === undefined) return;
    this.backends.delete(port);
    backend.probing = false;
    await backend.loop;
  }

  isReady(port: number): boolean {
    return this.backends.get(port)?.ready === true;
  }

  stats(port: number): BackendStats | undefined {
    return this.backends.get(port)?.stats;
  }

  /** Stops probing and listening, and closes every connection still open. */
  async close(): Promise<void> {
    await Promise.all([...this.backends.keys()].map((port) => this.remove(port)));
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }

  private async probeWhileAdded(backend: Backend): Promise<void> {
    while (backend.probing) {
      const status = await probe(backend.port, this.options.probeTimeoutMs);
      backend.failures = status === undefined ? backend.failures + 1 : 0;
      if (status !== undefined) backend.ready = status === 200;
      else if (backend.failures >= failureThreshold) backend.ready = false;
      await new Promise((resolve) => setTimeout(resolve, this.options.probeIntervalMs));
    }
  }

  private pick(): Backend | undefined {
    const ready = [...this.backends.values()].filter((backend) => backend.ready);
    if (ready.length === 0) return undefined;
    this.next = (this.next + 1) % ready.length;
    return ready[this.next];
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private route(client: net.Socket): void {
    this.track(client);
    const backend = this.pick();
    if (backend === undefined) {
      this.unrouted += 1;
      client.destroy();
      return;
    }
    backend.stats.connections += 1;
    const upstream = net.connect(backend.port, '127.0.0.1');
    this.track(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => {
      if (!connected) backend.stats.refused += 1;
      client.destroy();
    });
    client.on('error', () => {
      upstream.destroy();
    });
    // A side that closes without ending (a reset) takes the other side with it; after an end,
    // the pipe ends the other side once what it holds is written.
    upstream.once('close', () => {
      if (!client.writableEnded) client.destroy();
    });
    client.once('close', () => {
      if (!upstream.writableEnded) upstream.destroy();
    });
  }
}
