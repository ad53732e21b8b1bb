import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, handleProtocols, makeServer, type ConnectionInitMessage, type ServerOptions } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { Logger } from '../telemetry/logger.js';

/**
 * CLOSE_SERVICE_RESTART (WebSocket's 1012, "Service Restart") is sent to every
 * socket at shutdown: the service is restarting, reconnect (here or to another
 * instance) and resume. graphql-ws clients retry on it.
 */
export const CLOSE_SERVICE_RESTART = 1012;

/**
 * WebSocketEndpoint takes WebSocket upgrades for one path of an HTTP server
 * (the same /graphql that serves HTTP) and closes every socket with 1012 (service
 * restart) when the service stops.
 */
export class WebSocketEndpoint {
  readonly wss: WebSocketServer;

  /** maxPayloadBytes is the largest message a client may send; ws closes the socket (1009) on a larger one. */
  constructor(
    server: Server,
    private readonly path: string,
    accept: (req: IncomingMessage) => boolean = () => true,
    maxPayloadBytes = 1024 * 1024,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: maxPayloadBytes });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== this.path || !accept(req)) {
        socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => this.wss.emit('connection', ws, req));
    });
  }

  /** close tells every client to go elsewhere and stops taking sockets. */
  async close(): Promise<void> {
    for (const client of this.wss.clients)
      client.close(CLOSE_SERVICE_RESTART, 'service restarting: reconnect and resume');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/**
 * KEEP_ALIVE_SLICES is how many slices a server's sockets are pinged in, one slice after another over each interval,
 * so that 10,000 sockets are not pinged in one burst.
 */
const KEEP_ALIVE_SLICES = 16;

/** awaitingPong holds the sockets pinged and not yet answered, of every server in the process. */
const awaitingPong = new WeakSet<WebSocket>();

function answered(this: WebSocket): void {
  awaitingPong.delete(this);
}

/**
 * KeepAlive pings every socket of a server once per interval and terminates one that has not answered its previous
 * ping by then, as graphql-ws's `useServer` does with a timer per socket, but with one timer for all instead of a
 * timer, its closures and a `once('pong')` listener per ping for each socket (docs/performance.md, lever 47: with the
 * rest of that lever, the gateway's live heap per subscription went from 18.5 to 17.0 KB). A socket is in one slice
 * (a Set) from its opening to its closing.
 */
class KeepAlive {
  private readonly slices = Array.from({ length: KEEP_ALIVE_SLICES }, () => new Set<WebSocket>());
  private added = 0;
  private turn = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs: number) {
    this.timer = setInterval(() => this.ping(), Math.max(1, Math.ceil(intervalMs / KEEP_ALIVE_SLICES)));
    this.timer.unref();
  }

  add(socket: WebSocket): void {
    this.slices[this.added++ % KEEP_ALIVE_SLICES]!.add(socket);
    socket.on('pong', answered);
  }

  remove(socket: WebSocket): void {
    for (const slice of this.slices) if (slice.delete(socket)) return;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private ping(): void {
    for (const socket of this.slices[this.turn++ % KEEP_ALIVE_SLICES]!) {
      if (socket.readyState !== socket.OPEN) continue;
      if (awaitingPong.has(socket)) {
        socket.terminate();
        continue;
      }
      awaitingPong.add(socket);
      socket.ping();
    }
  }
}

/** Closed is what serveGraphqlWs keeps of one socket: graphql-ws's function to call when it closes. */
type Closed = (code?: number, reason?: string) => Promise<void>;

/**
 * ServedSocket is a socket as graphql-ws's server is handed it (its `WebSocket` interface), one small object whose
 * methods are shared, where an object of closures was four closures and their context per socket.
 */
class ServedSocket {
  constructor(
    private readonly socket: WebSocket,
    private readonly failed: (socket: WebSocket, err: unknown, what: string) => void,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> {
    const socket = this.socket;
    return new Promise<void>((resolve, reject) => {
      if (socket.readyState !== socket.OPEN) return resolve();
      socket.send(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  /**
   * onMessage hands graphql-ws each message parsed. Its listener is not an async function: one would keep its
   * parameter and locals (the message's bytes and text) for as long as graphql-ws's handling runs, a subscription's
   * whole life.
   */
  onMessage(handle: (data: string) => Promise<void>): void {
    const { socket, failed } = this;
    socket.on('message', (data: Buffer) => {
      // graphql-ws takes a parsed message as it takes a text (parseMessage validates either).
      handle(parsedMessage(data) as string).catch((err: unknown) =>
        failed(socket, err, 'graphql-ws message handling failed'),
      );
    });
  }
}

/**
 * serveGraphqlWs runs graphql-ws's server on a WebSocketServer, as graphql-ws's own `useServer` (graphql-ws/use/ws)
 * does — the subprotocol check, a ping every `keepAliveMs` and termination of a socket that has not answered it by the
 * next, 4500 and a log line for an error in handling — with two differences. Each message reaches graphql-ws parsed,
 * not as its text: graphql-ws handles a message in one async function that runs for a subscription's whole life, so it
 * kept the `subscribe` message's text (about 1.1 KB in chat, with the gateway's statement of the caller) as long as the
 * subscription ran, beside the parsed message that the servers here trim (docs/performance.md, lever 46). A text that
 * is not a JSON object is handed over as it is, for graphql-ws to refuse (4400) as before. And a socket costs as few
 * closures and timers as it can (lever 47): one keep-alive timer for the server, and listeners shared by every socket
 * where they need nothing of their own.
 */
export function serveGraphqlWs<P extends ConnectionInitMessage['payload'], E extends Record<PropertyKey, unknown>>(
  options: ServerOptions<P, Extra & Partial<E>>,
  wss: WebSocketServer,
  keepAliveMs: number,
  logger: Logger,
): void {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;
  const keepAlive = new KeepAlive(keepAliveMs);
  wss.once('close', () => keepAlive.stop());
  const closers = new WeakMap<WebSocket, Closed>();
  function failed(socket: WebSocket, err: unknown, what: string): void {
    logger.error({ err }, what);
    socket.close(CloseCode.InternalServerError, 'Internal server error');
  }
  function errored(this: WebSocket, err: Error): void {
    failed(this, err, 'graphql-ws socket error');
  }
  function closed(this: WebSocket, code: number, reason: Buffer): void {
    keepAlive.remove(this);
    const close = closers.get(this);
    closers.delete(this);
    void close?.(code, String(reason));
  }
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.on('error', errored);
    keepAlive.add(socket);
    closers.set(socket, server.opened(new ServedSocket(socket, failed), { socket, request } as Extra & Partial<E>));
    // 'close' is emitted once: a plain listener, without the wrapper `once` makes.
    socket.on('close', closed);
  });
}

/**
 * parsedMessage is a socket message as graphql-ws is handed it: the JSON object it is, or else its text, for graphql-ws
 * to refuse (4400) as before (a JSON string, parsed here, would be parsed again there).
 */
function parsedMessage(data: Buffer): unknown {
  const text = String(data);
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') return parsed;
  } catch {
    // not JSON: graphql-ws refuses the text
  }
  return text;
}
