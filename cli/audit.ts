import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { AuditLog } from '../subgraphs/audit/business/audit-log.js';
import { EXIT, UsageError, type CliContext, type Command } from './command.js';

async function auditLog(ctx: CliContext): Promise<AuditLog> {
  const [{ auditMigrations }, { PostgresAuditStore }, { AuditEventRow }] = await Promise.all([
    import('../migrations/audit/index.js'),
    import('../subgraphs/audit/store/audit-store.js'),
    import('../subgraphs/audit/store/entities.js'),
  ]);
  return new AuditLog(new PostgresAuditStore(await ctx.database('audit', [AuditEventRow], auditMigrations)));
}

function instant(value: unknown, flag: string): Date {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`--${flag} must be an ISO 8601 date or instant, such as 2026-12-01 or 2026-12-01T08:00:00Z`);
  return date;
}

/** auditCommands are `audit verify` and `audit export`. */
export const auditCommands: Command[] = [
  {
    group: 'audit',
    name: 'verify',
    summary: 'walk the audit hash chain from its first event and name the first broken link (exit 1 when there is one)',
    flags: [],
    async run(ctx) {
      const report = await (await auditLog(ctx)).verify();
      if (report.broken) {
        ctx.out(`audit chain BROKEN at event #${report.broken.seq} (id ${report.broken.id}): ${report.broken.reason}`);
        ctx.out(
          `${report.verified} events before it hold${report.head ? `; the last good link is #${report.head.seq} ${report.head.hash}` : ''}`,
        );
        return EXIT.failed;
      }
      ctx.out(`audit chain holds: ${report.verified} events`);
      if (report.head)
        ctx.out(
          `head: #${report.head.seq} ${report.head.hash} (keep it: a later verify that ends before it, or with another hash there, means events were cut from the end)`,
        );
      return EXIT.ok;
    },
  },
  {
    group: 'audit',
    name: 'export',
    summary: 'write the events that occurred in [--from, --to) as JSON lines, in chain order, each with its link',
    flags: [
      { name: 'from', value: 'instant', doc: 'first instant included (ISO 8601)', required: true },
      { name: 'to', value: 'instant', doc: 'first instant excluded (ISO 8601)', required: true },
      { name: 'format', value: 'jsonl', doc: 'output format (only jsonl)' },
      { name: 'out', value: 'file', doc: 'write to this file instead of stdout' },
    ],
    async run(ctx, flags) {
      const from = instant(flags.from, 'from');
      const to = instant(flags.to, 'to');
      if (to <= from) throw new UsageError('--to must be after --from');
      if (flags.format !== undefined && flags.format !== 'jsonl') throw new UsageError('--format must be jsonl');
      const log = await auditLog(ctx);
      const file = typeof flags.out === 'string' ? createWriteStream(flags.out, { mode: 0o600 }) : null;
      let count = 0;
      for await (const event of log.export(from, to)) {
        const line = JSON.stringify({ ...event, occurredAt: event.occurredAt.toISOString() });
        if (file) {
          if (!file.write(line + '\n')) await once(file, 'drain');
        } else ctx.out(line);
        count++;
      }
      if (file) {
        file.end();
        await once(file, 'close');
      }
      ctx.err(`${count} events exported`);
      return EXIT.ok;
    },
  },
];
