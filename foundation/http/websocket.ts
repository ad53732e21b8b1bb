import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

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
