/**
 * The local end of a Railway TCP proxy: a listener on 127.0.0.1 that forwards each connection to
 * wherever `target()` says the service runs now, or — like Railway's edge when the proxy is not
 * active yet or nothing listens behind it — accepts and immediately resets the connection.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** Cuts a socket as a dropped connection would: a reset, unless its shutdown has begun. A reset
 * while a shutdown (end()) is pending leaves the native handle referenced and node spins at exit
 * (libp2p/js-libp2p#3597), so such a socket is destroyed instead. */
export function cutSocket(socket: Socket): void {
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}

export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
}

export class TcpProxyListener {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor(readonly target: () => ProxyTarget | undefined) {
    this.#server = createServer((socket) => this.#accept(socket));
  }

  get port(): number {
    if (!this.#port) throw new Error("the TCP proxy listener is not listening");
    return this.#port;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = this.#server.address();
    if (!address || typeof address !== "object") throw new Error("no address for a TCP proxy");
    this.#port = address.port;
    return this.#port;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    if (!this.#server.listening) return;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
  }

  #accept(client: Socket): void {
    this.#track(client);
    client.on("error", () => undefined);
    const target = this.target();
    if (!target) {
      client.resetAndDestroy();
      return;
    }
    client.pause();
    const upstream = connect({ host: target.host, port: target.port });
    this.#track(upstream);
    upstream.once("connect", () => {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on("error", () => {
      if (client.destroyed) return;
      cutSocket(client);
    });
    upstream.once("close", () => {
      if (!client.destroyed) client.end();
    });
    client.once("close", () => upstream.destroy());
  }
}
