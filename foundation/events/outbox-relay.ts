import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { AUDIT_TOPIC, type AuditEventMessage } from '../../contracts/audit.js';
import { auditIngestRoute } from '../../contracts/internal-routes.js';
import type { Logger } from '../telemetry/logger.js';
import { OutboxMetrics } from '../telemetry/metrics.js';
import { markBackground, returnedRows } from '../postgres/database.js';

/** RelayOptions configures an outbox relay. */
export interface RelayOptions {
  /** auditUrl is the audit subgraph's base URL. */
  auditUrl: string;
  /** secret proves to the audit subgraph that the sender is a Fixup service. */
  secret: string;
  batchSize: number;
  pollMs: number;
  /** retentionDays is how long delivered rows are kept before they are pruned. */
  retentionDays: number;
  timeoutMs: number;
}

/** RELAY_LOCK makes one relay at a time deliver a database's outbox, which keeps each source's events in order. */
const RELAY_LOCK = 0x6f7574626f78; // "outbox"

/**
 * OutboxRelay delivers a subgraph's outbox to the audit subgraph, at least
 * once and in order: it takes the oldest undelivered rows under a
 * transaction-scoped advisory lock (several relay processes never send the
 * same rows at once; the rows are also locked FOR UPDATE SKIP LOCKED), posts
 * them, and marks them delivered in the same transaction. If the post fails or
 * the process dies mid-batch, the transaction rolls back and the rows are sent
 * again later; the audit subgraph stores each event id once. Failures back off
 * exponentially up to a minute.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  private lastPrune = 0;
  private readonly metrics = new OutboxMetrics(() => this.backlog());

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: RelayOptions,
    private readonly logger: Logger,
  ) {}

  /** start delivers now and then every pollMs (longer after failures). */
  start(): void {
    this.schedule(0);
  }

  /** stop lets the batch in flight finish and stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** deliverOnce sends one batch and reports how many events were delivered (tests and shutdown use it). */
  async deliverOnce(): Promise<number> {
    const runner = markBackground(this.dataSource.createQueryRunner());
    await runner.connect();
    try {
      await runner.startTransaction();
      const [{ locked }] = await runner.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [RELAY_LOCK]);
      if (!locked) {
        await runner.rollbackTransaction();
        return 0;
      }
      const rows: { seq: string; payload: AuditEventMessage }[] = await runner.query(
        `SELECT seq, payload FROM outbox WHERE topic = $1 AND delivered_at IS NULL ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [AUDIT_TOPIC, this.options.batchSize],
      );
      if (rows.length === 0) {
        await runner.commitTransaction();
        return 0;
      }
      try {
        await this.post(rows.map((r) => r.payload));
      } catch (err) {
        await runner.rollbackTransaction();
        await this.dataSource.query(
          `UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE seq = ANY($1::bigint[])`,
          [rows.map((r) => r.seq), (err as Error).message.slice(0, 500)],
        );
        throw err;
      }
      await runner.query(`UPDATE outbox SET delivered_at = now(), last_error = NULL WHERE seq = ANY($1::bigint[])`, [
        rows.map((r) => r.seq),
      ]);
      await runner.commitTransaction();
      this.metrics.sent(rows.length);
      return rows.length;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => {});
      throw err;
    } finally {
      await runner.release();
    }
  }

  /** backlog says how many events wait and how old the oldest is. */
  async backlog(): Promise<{ events: number; oldestAgeSeconds: number }> {
    const [row]: { events: number; age: number }[] = await this.dataSource.query(
      `SELECT count(*)::int AS events, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age FROM outbox WHERE topic = $1 AND delivered_at IS NULL`,
      [AUDIT_TOPIC],
    );
    return { events: row!.events, oldestAgeSeconds: row!.age };
  }

  private async post(events: AuditEventMessage[]): Promise<void> {
    const request: z.input<typeof auditIngestRoute.request> = { events };
    const res = await fetch(new URL(auditIngestRoute.path, this.options.auditUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.secret}` },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (!res.ok) throw new Error(`audit ingest answered HTTP ${res.status}`);
    if (!auditIngestRoute.reply.safeParse(await res.json()).success)
      throw new Error('audit ingest answered a reply its contract does not allow');
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.cycle();
    }, delayMs);
    this.timer.unref();
  }

  private async cycle(): Promise<void> {
    let delivered = 0;
    try {
      do {
        delivered = await this.deliverOnce();
        if (delivered > 0) this.logger.debug({ delivered }, 'audit events delivered');
      } while (delivered === this.options.batchSize && !this.stopped);
      if (this.failures > 0) this.logger.info({ after: this.failures }, 'audit delivery recovered');
      this.failures = 0;
      await this.prune();
    } catch (err) {
      this.failures++;
      this.metrics.failed();
      // One failure is routine (the audit subgraph starting, a deploy); a run of them is worth a warning.
      const level = this.failures === 3 || (this.failures > 3 && this.failures % 20 === 0) ? 'warn' : 'debug';
      this.logger[level]({ err: (err as Error).message, failures: this.failures }, 'audit delivery failed; will retry');
    }
    const backoff =
      this.failures === 0
        ? this.options.pollMs
        : Math.min(60_000, this.options.pollMs * 2 ** Math.min(this.failures, 8));
    this.schedule(backoff);
  }

  private async prune(): Promise<void> {
    if (Date.now() - this.lastPrune < 3_600_000) return;
    this.lastPrune = Date.now();
    const rows = returnedRows(
      await this.dataSource.query(
        `DELETE FROM outbox WHERE delivered_at < now() - make_interval(days => $1) RETURNING seq`,
        [this.options.retentionDays],
      ),
    );
    if (rows.length > 0) this.logger.info({ pruned: rows.length }, 'delivered outbox rows pruned');
  }
}
