// A unix-socket proxy in front of a runtime's real socket. Stopping it is, for a client, what a runtime
// restart looks like: every open connection (idle, streaming or mid-call) drops and the socket file goes
// away; starting it again is the runtime coming back on the same path. The engine behind it keeps running,
// so tests in other files that use the same engine are not disturbed.
import { existsSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";

export class SocketProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted since construction. */
  accepted = 0;

  /** Where clients connect. */
  readonly path: string;
  /** The real runtime socket. */
  readonly upstream: string;

  constructor(path: string, upstream: string) {
    this.path = path;
    this.upstream = upstream;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    if (!existsSync(this.upstream))
      throw new Error(`socket proxy: upstream socket ${this.upstream} does not exist`);
    if (existsSync(this.path)) unlinkSync(this.path);
    // Half-open on both sides: a client's half-close (end of an exec's stdin) must pass through while the
    // answer still flows back.
    const server = createServer({ allowHalfOpen: true }, (client) => {
      this.accepted++;
      const upstream = connect({ path: this.upstream, allowHalfOpen: true });
      this.track(client);
      this.track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", drop);
      upstream.on("error", drop);
      client.on("close", drop);
      upstream.on("close", drop);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** Drops every connection and removes the socket file. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    if (existsSync(this.path)) unlinkSync(this.path);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }
}
