import { newId } from '../core/ids.js';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { logFieldsOnly, type Logger } from '../telemetry/logger.js';
import { traceIdsOf, traceparentOf } from '../telemetry/tracing.js';
import type { Metrics } from '../telemetry/metrics.js';
import { runInScope, type RequestScope } from './request-context.js';

/** REQUEST_ID_HEADER carries a request's id from the client, through the gateway, to every subgraph. */
export const REQUEST_ID_HEADER = 'x-request-id';

export type { RequestScope } from './request-context.js';

/**
 * openFileLimit is this process's soft limit on open files, as Linux states it in /proc/self/limits ("Max open files"),
 * or null where it cannot be read (another system) or is unlimited.
 */
export function openFileLimit(limits: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | null {
  try {
    const soft = /^Max open files\s+(\S+)/m.exec(limits())?.[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

/**
 * connectionBound is how many client connections a server may hold: what its setting asks, or less where the
 * open-file limit leaves fewer once the process's own descriptors (`reserve`: its connections to other services,
 * files, the event loop's) are set aside. A server whose clients take every descriptor can no longer open its own
 * connections: each of its requests then fails (seen as a burst of refusals next to a load generator's `EMFILE`), where
 * a bound closes only the connections past it. Clients keep at least half the limit. `lowered` says the setting was
 * not met. Node raises its soft limit to the hard one as it starts, so the limit read is `ulimit -Hn`'s.
 */
export function connectionBound(
  wanted: number,
  reserve: number,
  limit: number | null,
): { bound: number; lowered: boolean } {
  if (limit === null || wanted + reserve <= limit) return { bound: wanted, lowered: false };
  // A reserve larger than half the limit (a low limit) leaves clients half of it, not next to nothing.
  return { bound: Math.max(Math.floor(limit / 2), limit - reserve), lowered: true };
}

/** Readiness is a service's answer to "can you serve traffic now?". */
export interface Readiness {
  ready: boolean;
  checks: Record<string, unknown>;
}

/**
 * Scope is a request's RequestScope. Its logger, a child logger naming the
 * request, is made when something first logs through it (most requests log
 * only their one line). The lazy getter lives on the class: an accessor defined
 * on each request's object (Object.defineProperty with fresh closures) gave
 * every request its own hidden class, kept in old space until the next major
 * GC, whose closures then kept the whole request (IncomingMessage,
 * ServerResponse, scope) alive through every scavenge: about 4 KB promoted to
 * old space per request (docs/performance.md, lever 9). The other fields of
 * RequestScope are added as the request goes.
 */
class Scope {
  private ownLogger: Logger | undefined;

  constructor(
    readonly requestId: string,
    private readonly base: Logger,
    readonly traceparent?: string,
  ) {}

  get logger(): Logger {
    return (this.ownLogger ??= this.base.child({ requestId: this.requestId, ...traceIdsOf(this.traceparent) }));
  }

  set logger(value: Logger) {
    this.ownLogger = value;
  }
}

/**
 * requestScope makes the scope of a request or subscription, its child logger made when first used; traceparent names
 * its trace.
 */
export function requestScope(requestId: string, logger: Logger, traceparent?: string): RequestScope {
  return new Scope(requestId, logger, traceparent);
}

/** RouteHandler answers one HTTP route. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, scope: RequestScope) => Promise<void> | void;

/** HttpServiceOptions configures an HttpService. */
export interface HttpServiceOptions {
  service: string;
  logger: Logger;
  metrics: Metrics;
  host: string;
  port: number;
  /**
   * admin is the admin listener (GET /metrics, /readyz, /healthz), on its own interface and port; the public port
   * answers only /healthz of these.
   */
  admin: { host: string; port: number };
  /** readiness answers GET /readyz; GET /healthz only says the process is alive. */
  readiness: () => Promise<Readiness>;
  /** routes maps "METHOD /path" to a handler, e.g. "POST /graphql". */
  routes: Record<string, RouteHandler>;
  /**
   * headersTimeoutMs and requestTimeoutMs bound how long a client may take to send headers and a whole request (20 s
   * and 60 s when not given).
   */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** keepAliveTimeoutMs is how long an idle keep-alive connection is kept open (5 s when not given, Node's own). */
  keepAliveTimeoutMs?: number;
  /** maxConnections bounds the public listener's open connections; past it a new one is closed (unbounded if unset). */
  maxConnections?: number;
  /** backlog is the public listener's queue of connections not yet accepted (Node's default, 511, when not given). */
  backlog?: number;
  /** trustTraceContext tells whether to continue the request's `traceparent`; without it every request's is. */
  trustTraceContext?: (req: IncomingMessage) => boolean;
  /**
   * asyncScope makes a request's scope readable with currentScope() in everything the request awaits (an
   * AsyncLocalStorage). Off unless a process needs it: before Node 24 it costs a hook on every promise.
   */
  asyncScope?: boolean;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * HttpService is the HTTP server every Fixup process runs: health and readiness
 * probes, metrics, request ids, one log line and one server span per request,
 * and a graceful close that lets in-flight requests finish.
 */
export class HttpService {
  readonly server: http.Server;
  /** adminServer is the admin listener: metrics and probes, away from the public port. */
  readonly adminServer: http.Server;
  private closing = false;
  private inFlight = 0;
  private readonly sockets = new Set<Socket>();
  private readonly tracer = trace.getTracer('fixup.http');

  constructor(private readonly options: HttpServiceOptions) {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res, false);
    });
    this.adminServer = http.createServer((req, res) => {
      void this.handle(req, res, true);
    });
    this.adminServer.headersTimeout = 10_000;
    this.adminServer.requestTimeout = 10_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.headersTimeout = options.headersTimeoutMs ?? 20_000;
    this.server.requestTimeout = options.requestTimeoutMs ?? 60_000;
    this.server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5_000;
    if (options.maxConnections !== undefined) this.server.maxConnections = options.maxConnections;
  }

  /**
   * listen starts the admin listener, then accepts connections on the public port, and resolves with the public port.
   */
  async listen(): Promise<number> {
    await listenOn(this.adminServer, this.options.admin.port, this.options.admin.host);
    await listenOn(this.server, this.options.port, this.options.host, this.options.backlog);
    return (this.server.address() as AddressInfo).port;
  }

  /** adminPort is the admin listener's bound port. */
  get adminPort(): number {
    return (this.adminServer.address() as AddressInfo).port;
  }

  /** isClosing tells whether close has begun; readiness reports false from then on. */
  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * close stops accepting connections, lets requests in flight finish for at
   * most timeoutMs, then cuts whatever is left.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    try {
      await this.drain(timeoutMs);
    } finally {
      // The admin listener answers (not ready) while the public port drains, then goes.
      const adminClosed = new Promise<void>((resolve) => this.adminServer.close(() => resolve()));
      this.adminServer.closeAllConnections();
      await adminClosed;
    }
  }

  private async drain(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([closed.then(() => 'closed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.options.logger.warn({ inFlight: this.inFlight }, 'shutdown timeout: closing remaining connections');
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
      await closed;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse, admin: boolean): Promise<void> {
    const started = process.hrtime.bigint();
    const incomingId = req.headers[REQUEST_ID_HEADER];
    const requestId = typeof incomingId === 'string' && REQUEST_ID_PATTERN.test(incomingId) ? incomingId : newId();
    res.setHeader(REQUEST_ID_HEADER, requestId);
    if (this.closing) res.setHeader('connection', 'close');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname}`;
    const trusted = this.options.trustTraceContext?.(req) ?? true;
    const parent = trusted ? propagation.extract(ROOT_CONTEXT, req.headers) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      route,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method ?? '',
          'url.path': url.pathname,
          'fixup.request_id': requestId,
        },
      },
      parent,
    );
    const base = this.options.logger;
    const traceparent = traceparentOf(span.spanContext());
    const scope = requestScope(requestId, base, traceparent);
    this.inFlight++;
    const serve = async () => {
      try {
        await (admin ? this.adminRoute(route, res) : this.route(route, url.pathname, req, res, scope));
      } catch (err) {
        scope.outcome = 'error';
        scope.logger.error({ err }, 'request failed');
        span.recordException(err as Error);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal server error', requestId });
        else res.destroy();
      } finally {
        this.inFlight--;
        const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
        const status = res.statusCode;
        span.setAttribute('http.response.status_code', status);
        if (scope.operationName) span.setAttribute('graphql.operation.name', scope.operationName);
        if (status >= 500 || scope.outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        const probe = url.pathname === '/healthz' || url.pathname === '/readyz' || url.pathname === '/metrics';
        const line = {
          requestId,
          traceId: traceIdsOf(traceparent)?.traceId ?? null,
          method: req.method,
          path: url.pathname,
          status,
          durationMs: Math.round(durationMs * 100) / 100,
          operationName: scope.operationName ?? null,
          outcome: scope.outcome ?? (status < 400 ? 'ok' : 'error'),
          ...(scope.errorCodes && scope.errorCodes.length > 0 ? { errorCodes: scope.errorCodes } : {}),
          ...(scope.caller?.viewer ? { userId: scope.caller.viewer.id } : {}),
          ...(scope.statements ? { sqlStatements: scope.statements } : {}),
        };
        logFieldsOnly(base, probe ? 'debug' : 'info', line, 'request');
        this.options.metrics.observeRequest({
          route,
          status,
          operationName: scope.operationName,
          outcome: line.outcome,
          errorCodes: scope.errorCodes ?? [],
          refusal: scope.refusal,
          seconds: durationMs / 1000,
        });
        if (this.closing) this.server.closeIdleConnections();
      }
    };
    await context.with(trace.setSpan(parent, span), () =>
      this.options.asyncScope ? runInScope(scope, serve) : serve(),
    );
  }

  /** adminRoute answers the admin listener: /healthz, /readyz and /metrics, nothing else. */
  private async adminRoute(route: string, res: ServerResponse): Promise<void> {
    if (route === 'GET /healthz') return sendJson(res, 200, { status: 'alive', service: this.options.service });
    if (route === 'GET /readyz') {
      const readiness: Readiness = this.closing
        ? { ready: false, checks: { shutdown: 'in progress' } }
        : await this.options.readiness().catch((err: unknown) => ({
            ready: false,
            checks: { error: (err as Error).message },
          }));
      return sendJson(res, readiness.ready ? 200 : 503, {
        status: readiness.ready ? 'ready' : 'not ready',
        service: this.options.service,
        ...readiness.checks,
      });
    }
    if (route === 'GET /metrics') {
      res.writeHead(200, { 'content-type': this.options.metrics.contentType });
      res.end(await this.options.metrics.render());
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  }

  private async route(
    route: string,
    path: string,
    req: IncomingMessage,
    res: ServerResponse,
    scope: RequestScope,
  ): Promise<void> {
    if (route === 'GET /healthz') return sendJson(res, 200, { status: 'alive', service: this.options.service });
    const handler = this.options.routes[route];
    if (handler) return handler(req, res, scope);
    const methods = Object.keys(this.options.routes)
      .filter((r) => r.endsWith(` ${path}`))
      .map((r) => r.split(' ')[0]);
    if (methods.length > 0) {
      res.setHeader('allow', methods.join(', '));
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    sendJson(res, 404, { error: 'not found' });
  }
}

/** listenOn binds a server and resolves once it listens. */
function listenOn(server: http.Server, port: number, host: string, backlog?: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ...(backlog === undefined ? {} : { backlog }) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** sendJson writes a JSON response, encoded once and sent with its byte length. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length });
  res.end(bytes);
}

/**
 * DRAIN_BYTES and DRAIN_MS bound how much of a refused body is read and dropped so that its sender can read the answer.
 */
const DRAIN_BYTES = 8 * 1024 * 1024;
const DRAIN_MS = 2000;

/**
 * answerUnread answers a request whose body was not (all) read (refused by its size, type or first bytes), and
 * closes the connection: the unread rest of the body would otherwise be taken for the next request. The rest is first
 * read and dropped (up to DRAIN_BYTES or DRAIN_MS), since closing on a client still sending makes it meet a reset
 * instead of the answer.
 */
export function answerUnread(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('connection', 'close');
  let answered = false;
  const answer = () => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    sendJson(res, status, body);
  };
  const timer = setTimeout(answer, DRAIN_MS);
  if (req.readableEnded || req.destroyed) return answer();
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DRAIN_BYTES) answer();
  });
  req.once('end', answer);
  req.once('error', answer);
  req.resume();
}

/** BodyTooLargeError says a request body passed the configured limit. */
export class BodyTooLargeError extends Error {}

/**
 * readBody reads a request body up to limitBytes. It listens for the stream's events rather than iterating it: an async
 * iterator costs a promise per chunk and a finished-stream watcher per request, on every request.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        // The rest is the caller's to drop or cut (answerUnread); an error of the request's stream still has a
        // listener.
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('close', onClose);
        chunks.length = 0;
        reject(new BodyTooLargeError(`request body over ${limitBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('request closed before its body ended'));
    };
    if (req.readableEnded) return resolve('');
    // A request closed before its body was read (the client went away while its token was checked) has no events left.
    if (req.destroyed) return reject(req.errored ?? new Error('request closed before its body ended'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
