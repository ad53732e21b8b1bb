import type { SubgraphSettings } from '../foundation/service/subgraph-service.js';
import { EXIT, UsageError, type Command, type Flags } from './command.js';
import { OUTBOX_SUBGRAPHS, type SubgraphName } from './names.js';

function chosen(flags: Flags): readonly SubgraphName[] {
  if (flags.subgraph === undefined) return OUTBOX_SUBGRAPHS;
  const name = flags.subgraph as SubgraphName;
  if (!OUTBOX_SUBGRAPHS.includes(name))
    throw new UsageError(`--subgraph must be one of ${OUTBOX_SUBGRAPHS.join(', ')}`);
  return [name];
}

const SUBGRAPH_FLAG = {
  name: 'subgraph',
  value: OUTBOX_SUBGRAPHS.join('|'),
  doc: 'only this subgraph (default: every subgraph with an outbox)',
};

/** outboxCommands are `outbox status` and `outbox retry`. */
export const outboxCommands: Command[] = [
  {
    group: 'outbox',
    name: 'status',
    summary:
      'show the undelivered audit events of each subgraph: how many, the oldest, the attempts and the last error',
    flags: [SUBGRAPH_FLAG],
    async run(ctx, flags) {
      const { outboxBacklog } = await import('../foundation/events/outbox.js');
      ctx.out('subgraph  pending  oldest                    attempts  last error');
      for (const name of chosen(flags)) {
        const db = await ctx.database(name, [], []);
        const b = await outboxBacklog(db);
        ctx.out(
          `${name.padEnd(8)}  ${String(b.pending).padStart(7)}  ${(b.oldest?.toISOString() ?? '-').padEnd(24)}  ${String(b.maxAttempts).padStart(8)}  ${b.lastError ?? '-'}`,
        );
      }
      return EXIT.ok;
    },
  },
  {
    group: 'outbox',
    name: 'retry',
    summary:
      "deliver each subgraph's undelivered audit events to the audit subgraph now, as its relay would (and with the same lock)",
    flags: [SUBGRAPH_FLAG],
    async run(ctx, flags) {
      const [{ createLogger }, { outboxBacklog }, { OutboxRelay }, { auditIngestSecret }, { subgraphValue }] =
        await Promise.all([
          import('../foundation/telemetry/logger.js'),
          import('../foundation/events/outbox.js'),
          import('../foundation/events/outbox-relay.js'),
          import('../foundation/service/subgraph-service.js'),
          import('./settings.js'),
        ]);
      let failed = false;
      const secret = auditIngestSecret(ctx.settings as unknown as SubgraphSettings);
      for (const name of chosen(flags)) {
        const db = await ctx.database(name, [], []);
        const relay = new OutboxRelay(
          db,
          {
            auditUrl: subgraphValue<string>(ctx.settings, name, 'auditUrl'),
            secret,
            batchSize: subgraphValue<number>(ctx.settings, name, 'outboxBatchSize'),
            pollMs: 1000,
            retentionDays: 7,
            timeoutMs: 10_000,
          },
          createLogger({ service: 'fixup-cli', level: 'silent' }),
        );
        let delivered = 0;
        try {
          for (let batch = await relay.deliverOnce(); batch > 0; batch = await relay.deliverOnce()) delivered += batch;
          const left = (await outboxBacklog(db)).pending;
          ctx.out(
            `${name}: ${delivered} delivered, ${left} pending${left > 0 ? ' (a running relay holds the lock: it is delivering them)' : ''}`,
          );
        } catch (err) {
          failed = true;
          ctx.err(`${name}: ${delivered} delivered, then delivery failed: ${(err as Error).message}`);
        }
      }
      return failed ? EXIT.failed : EXIT.ok;
    },
  },
];
