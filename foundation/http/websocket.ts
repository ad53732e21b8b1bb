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
 * serveGraphqlWs runs graphql-ws's server on a WebSocketServer, as graphql-ws's own `useServer` (graphql-ws/use/ws)
 * does — the subprotocol check, a ping every `keepAliveMs` and termination of a socket that does not answer within as
 * long, 4500 and a log line for an error in handling — with one difference: each message reaches graphql-ws parsed, not
 * as its text. graphql-ws handles a message in one async function that runs for a subscription's whole life, so it
 * kept the `subscribe` message's text (about 1.1 KB in chat, with the gateway's statement of the caller) as long as the
 * subscription ran, beside the parsed message that the servers here trim (docs/performance.md, lever 46). A text that
 * is not a JSON object is handed over as it is, for graphql-ws to refuse (4400) as before.
 */
export function serveGraphqlWs<P extends ConnectionInitMessage['payload'], E extends Record<PropertyKey, unknown>>(
  options: ServerOptions<P, Extra & Partial<E>>,
  wss: WebSocketServer,
  keepAliveMs: number,
  logger: Logger,
): void {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;
  const failed = (socket: WebSocket, err: unknown, what: string) => {
    logger.error({ err }, what);
    socket.close(CloseCode.InternalServerError, 'Internal server error');
  };
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.once('error', (err) => failed(socket, err, 'graphql-ws socket error'));
    let pongWait: NodeJS.Timeout | undefined;
    const ping = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
      socket.once('pong', () => {
        clearTimeout(pongWait);
        pongWait = undefined;
      });
      socket.ping();
    }, keepAliveMs);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        // Not an async function: one would keep its parameter and locals (the message's bytes and text) for as long
        // as graphql-ws's handling runs, a subscription's whole life.
        onMessage: (handle) =>
          socket.on('message', (data: Buffer) => {
            // graphql-ws takes a parsed message as it takes a text (parseMessage validates either).
            handle(parsedMessage(data) as string).catch((err: unknown) =>
              failed(socket, err, 'graphql-ws message handling failed'),
            );
          }),
      },
      { socket, request } as Extra & Partial<E>,
    );
    socket.once('close', (code, reason) => {
      clearTimeout(pongWait);
      clearInterval(ping);
      void closed(code, String(reason));
    });
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
