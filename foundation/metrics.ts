import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Metrics is a service's Prometheus registry: process metrics plus request
 * durations by route and GraphQL operation, served at GET /metrics.
 */
export class Metrics {
  private readonly registry = new Registry();
  private readonly requests: Histogram<'route' | 'status'>;
  private readonly operations: Counter<'operation' | 'outcome'>;
  private readonly statements: Counter<'origin'>;
  private readonly knownOperations = new Set<string>();

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.operations = new Counter({
      name: 'graphql_operations_total',
      help: 'GraphQL operations by name and outcome',
      labelNames: ['operation', 'outcome'],
      registers: [this.registry],
    });
    this.statements = new Counter({
      name: 'db_statements_total',
      help: 'SQL statements sent, by origin: serving a request, or background work (outbox relay, feeds)',
      labelNames: ['origin'],
      registers: [this.registry],
    });
  }

  /** countStatement records one SQL statement. */
  countStatement(origin: 'request' | 'background'): void {
    this.statements.inc({ origin });
  }

  /** contentType is the exposition format's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** render returns the registry in Prometheus' text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** observeRequest records one finished HTTP request. */
  observeRequest(route: string, status: number, operationName: string | undefined, outcome: string, seconds: number): void {
    const known = route.endsWith(' /graphql') || route.endsWith(' /healthz') || route.endsWith(' /readyz') || route.endsWith(' /metrics');
    this.requests.observe({ route: known ? route : 'other', status: String(status) }, seconds);
    if (route.endsWith(' /graphql')) this.operations.inc({ operation: this.operationLabel(operationName), outcome });
  }

  /** operationLabel bounds the label's values: client-chosen names past the first 200 count as "other". */
  private operationLabel(name: string | undefined): string {
    if (!name) return 'anonymous';
    if (this.knownOperations.has(name)) return name;
    if (this.knownOperations.size >= 200 || !/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(name)) return 'other';
    this.knownOperations.add(name);
    return name;
  }
}
