import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/**
 * processRegistry is the one Prometheus registry of a Fixup process, served at
 * GET /metrics. Every metrics module registers on it, so an instrumentation
 * call anywhere in the process is one line.
 */
export const processRegistry = new Registry();

/** DURATION_BUCKETS are the histogram buckets, in seconds, of request-sized durations. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function existing<T extends Metric>(name: string): T | undefined {
  return processRegistry.getSingleMetric(name) as T | undefined;
}

/** counter makes (or finds, when a module is loaded twice) a counter on the process registry. */
export function counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return existing<Counter<L>>(name) ?? new Counter({ name, help, labelNames, registers: [processRegistry] });
}

/** gauge makes (or finds) a gauge; collect, when given, sets its value at each scrape. */
export function gauge<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  collect?: (this: Gauge<L>) => void | Promise<void>,
): Gauge<L> {
  return (
    existing<Gauge<L>>(name) ??
    new Gauge({ name, help, labelNames, registers: [processRegistry], ...(collect ? { collect } : {}) })
  );
}

/** histogram makes (or finds) a histogram, by default with DURATION_BUCKETS. */
export function histogram<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets = DURATION_BUCKETS,
): Histogram<L> {
  return (
    existing<Histogram<L>>(name) ?? new Histogram({ name, help, labelNames, buckets, registers: [processRegistry] })
  );
}

/**
 * BoundedLabel keeps a label's values few: the first `max` values that match
 * the pattern are kept, anything after that counts as `overflow`. Prometheus
 * stores a series per label value, so a label a client can choose must be bounded.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(
    private readonly max: number,
    private readonly overflow: string,
    private readonly pattern = /^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/,
  ) {}

  /** of gives the label value to record for value. */
  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max || !this.pattern.test(value)) return this.overflow;
    this.seen.add(value);
    return value;
  }
}

const httpDuration = () =>
  histogram('fixup_http_request_duration_seconds', 'HTTP request duration by route and status class', [
    'route',
    'status',
  ]);
const operationDuration = () =>
  histogram(
    'fixup_graphql_operation_duration_seconds',
    'GraphQL operation duration by operation name and outcome (ok, error, refused)',
    ['operation', 'outcome'],
  );
const graphqlErrors = () =>
  counter(
    'fixup_graphql_errors_total',
    'GraphQL errors answered, by the contract code (resolver errors, refusals, masked internal errors)',
    ['code'],
  );
const statements = () =>
  counter(
    'fixup_db_statements_total',
    'SQL statements sent, by origin: serving a request, or background work (outbox relay, feeds), or unattributed when the subgraph does not count per request (<SUBGRAPH>_DB_STATEMENTS_PER_REQUEST)',
    ['origin'],
  );
const statementDuration = () =>
  histogram('fixup_db_statement_duration_seconds', 'SQL statement duration by statement label (verb and main table)', [
    'statement',
  ]);

/** MetricsOptions tunes a process's request metrics. */
export interface MetricsOptions {
  /** operationLabel names an operation in the metrics; by default the first 200 names seen, anything else `other`. */
  operationLabel?: (name: string | undefined) => string;
  /** onRequest hears every finished request, for a process's own metrics (the gateway's refusals). */
  onRequest?: (finished: FinishedRequest) => void;
}

/** FinishedRequest is what the HTTP layer knows of a request when it ends. */
export interface FinishedRequest {
  route: string;
  status: number;
  operationName?: string;
  outcome: string;
  errorCodes: readonly string[];
  /** refusal, when the request was refused before it ran, says why (a limit's name, say). */
  refusal?: string;
  seconds: number;
}

const KNOWN_ROUTES = new Set(['/graphql', '/healthz', '/readyz', '/metrics']);

/**
 * Metrics is what every Fixup process measures of its requests: HTTP
 * durations, GraphQL operation durations by name and outcome, errors by code,
 * and (through countStatement) SQL statements; plus Node's own process
 * metrics (event-loop delay, GC, heap), all on processRegistry.
 */
export class Metrics {
  private readonly requests = httpDuration();
  private readonly operations = operationDuration();
  private readonly errors = graphqlErrors();
  private readonly statements = statements();
  private readonly operationLabel: (name: string | undefined) => string;

  constructor(
    service: string,
    private readonly options: MetricsOptions = {},
  ) {
    processRegistry.setDefaultLabels({ service });
    if (!existing('process_cpu_seconds_total'))
      collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 20 });
    const bounded = new BoundedLabel(200, 'other');
    this.operationLabel = options.operationLabel ?? ((name) => (name ? bounded.of(name) : 'anonymous'));
  }

  /** countStatement records one SQL statement. */
  countStatement(origin: 'request' | 'background' | 'unattributed'): void {
    this.statements.inc({ origin });
  }

  /** contentType is the exposition format's content type. */
  get contentType(): string {
    return processRegistry.contentType;
  }

  /** render returns the registry in Prometheus' text format. */
  render(): Promise<string> {
    return processRegistry.metrics();
  }

  /** observeRequest records one finished HTTP request. */
  observeRequest(finished: FinishedRequest): void {
    const path = finished.route.slice(finished.route.indexOf(' ') + 1);
    const route = KNOWN_ROUTES.has(path) ? finished.route : 'other';
    this.requests.observe({ route, status: `${Math.floor(finished.status / 100)}xx` }, finished.seconds);
    if (path === '/graphql') {
      this.operations.observe(
        { operation: this.operationLabel(finished.operationName), outcome: finished.outcome },
        finished.seconds,
      );
      for (const code of finished.errorCodes) this.errors.inc({ code });
    }
    this.options.onRequest?.(finished);
  }
}

/** PoolStats is what a pg Pool says of itself. */
export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options: { max?: number };
}

/** watchPool reports a database pool's size, idle and waiting clients and its maximum, read at each scrape. */
export function watchPool(pool: PoolStats): void {
  gauge(
    'fixup_db_pool_connections',
    'Connections the database pool holds, by state (idle, busy)',
    ['state'],
    function () {
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'busy' }, pool.totalCount - pool.idleCount);
    },
  );
  gauge('fixup_db_pool_max_connections', 'Most connections the database pool may open', [], function () {
    this.set(pool.options.max ?? 10);
  });
  gauge('fixup_db_pool_waiting_requests', 'Queries waiting for a free connection of the pool', [], function () {
    this.set(pool.waitingCount);
  });
}

/**
 * watchFeedSubscribers reports, at each scrape, how many followers (gateways) a change feed has: a gauge of its own
 * name per feed (`fixup_user_session_feed_subscribers`), 0 on an instance no gateway follows.
 */
export function watchFeedSubscribers(name: string, help: string, feed: { readonly subscriberCount: number }): void {
  gauge(name, help, [], function () {
    this.set(feed.subscriberCount);
  });
}

const statementLabels = new BoundedLabel(150, 'other', /^[A-Z]+( [a-z_][a-z0-9_]*)?$/);

/**
 * statementLabel names a SQL statement by its verb and main table
 * (`SELECT users`, `INSERT outbox`, `BEGIN`): few values, and enough to find
 * the slow one.
 */
export function statementLabel(sql: string): string {
  const text = sql.trimStart();
  const verb = (/^[A-Za-z]+/.exec(text)?.[0] ?? 'OTHER').toUpperCase();
  const tablePattern: Record<string, RegExp> = {
    SELECT: /\bFROM\s+"?([A-Za-z_][A-Za-z0-9_]*)"?/i,
    WITH: /\bFROM\s+"?([A-Za-z_][A-Za-z0-9_]*)"?/i,
    DELETE: /\bFROM\s+"?([A-Za-z_][A-Za-z0-9_]*)"?/i,
    INSERT: /\bINTO\s+"?([A-Za-z_][A-Za-z0-9_]*)"?/i,
    UPDATE: /^UPDATE\s+"?([A-Za-z_][A-Za-z0-9_]*)"?/i,
  };
  const table = tablePattern[verb]?.exec(text)?.[1]?.toLowerCase();
  return statementLabels.of(table ? `${verb} ${table}` : verb);
}

/** observeStatement records one SQL statement's duration. */
export function observeStatement(sql: string, seconds: number): void {
  statementDuration().observe({ statement: statementLabel(sql) }, seconds);
}

/** OutboxBacklog is what waits in an outbox: how many events, and how old the oldest is (0 when none). */
export interface OutboxBacklog {
  events: number;
  oldestAgeSeconds: number;
}

/**
 * OutboxMetrics are an outbox relay's: what waits and how old it is (read
 * from the database at each scrape, not at each relay cycle), what failed and
 * what went.
 */
export class OutboxMetrics {
  private readonly failures = counter(
    'fixup_outbox_relay_failures_total',
    'Outbox relay cycles that failed (the audit subgraph unreachable or refusing)',
  );
  private readonly delivered = counter(
    'fixup_outbox_delivered_events_total',
    'Outbox events delivered to the audit subgraph',
  );

  constructor(measure: () => Promise<OutboxBacklog>) {
    let last: Promise<OutboxBacklog | undefined> | undefined;
    // Both gauges come from one query per scrape.
    const read = () =>
      (last ??= measure()
        .catch(() => undefined)
        .finally(() => setTimeout(() => (last = undefined), 1000).unref()));
    gauge('fixup_outbox_backlog_events', 'Outbox events not yet delivered', [], async function () {
      const backlog = await read();
      if (backlog) this.set(backlog.events);
    });
    gauge(
      'fixup_outbox_oldest_event_age_seconds',
      'Age of the oldest undelivered outbox event (0 when none)',
      [],
      async function () {
        const backlog = await read();
        if (backlog) this.set(backlog.oldestAgeSeconds);
      },
    );
  }

  /** failed counts one failed relay cycle. */
  failed(): void {
    this.failures.inc();
  }

  /** sent counts delivered events. */
  sent(events: number): void {
    this.delivered.inc(events);
  }
}
