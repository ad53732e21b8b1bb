import type { MigrationClass } from '../foundation/postgres/database.js';
import { auditMigrations } from '../migrations/audit/index.js';
import { catalogMigrations } from '../migrations/catalog/index.js';
import { chatMigrations } from '../migrations/chat/index.js';
import { orderMigrations } from '../migrations/order/index.js';
import { userMigrations } from '../migrations/user/index.js';
import { EXIT, UsageError, type Command, type Flags } from './command.js';
import { SUBGRAPH_NAMES, type SubgraphName } from './names.js';

const MIGRATIONS: Record<SubgraphName, MigrationClass[]> = {
  user: userMigrations,
  catalog: catalogMigrations,
  order: orderMigrations,
  chat: chatMigrations,
  audit: auditMigrations,
};

function chosen(flags: Flags): readonly SubgraphName[] {
  if (flags.subgraph === undefined) return SUBGRAPH_NAMES;
  const name = flags.subgraph as SubgraphName;
  if (!SUBGRAPH_NAMES.includes(name)) throw new UsageError(`--subgraph must be one of ${SUBGRAPH_NAMES.join(', ')}`);
  return [name];
}

const SUBGRAPH_FLAG = { name: 'subgraph', value: SUBGRAPH_NAMES.join('|'), doc: 'only this subgraph (default: all)' };

/** databaseCommands are `db migrate` and `db status`. */
export const databaseCommands: Command[] = [
  {
    group: 'db',
    name: 'migrate',
    summary:
      "run each subgraph's pending migrations as its owner (<NAME>_DB_MIGRATE_URL; one transaction each, under the same lock the services take)",
    flags: [SUBGRAPH_FLAG],
    async run(ctx, flags) {
      const { migrate } = await import('../foundation/postgres/database.js');
      for (const name of chosen(flags)) {
        const db = await ctx.database(name, [], MIGRATIONS[name], 'migrator');
        const ran = await migrate(db);
        ctx.out(`${name}: ${ran.length === 0 ? 'up to date' : `applied ${ran.join(', ')}`}`);
      }
      return EXIT.ok;
    },
  },
  {
    group: 'db',
    name: 'status',
    summary:
      "list each subgraph's roles (who owns its database; whether the service's role owns anything) and its applied and pending migrations (exit 1 when any is pending)",
    flags: [SUBGRAPH_FLAG],
    async run(ctx, flags) {
      const { MIGRATIONS_TABLE } = await import('../foundation/postgres/database.js');
      let pendingAny = false;
      for (const name of chosen(flags)) {
        const db = await ctx.database(name, [], MIGRATIONS[name]);
        const rows: { name: string; timestamp: string }[] = await db
          .query(`SELECT name, timestamp FROM ${MIGRATIONS_TABLE} ORDER BY id`)
          .catch((err: { code?: string }) => {
            if (err.code === '42P01') return [];
            throw err;
          });
        const applied = new Set(rows.map((r) => r.name));
        const pending = MIGRATIONS[name].map((m) => new m().name ?? m.name).filter((n) => !applied.has(n));
        pendingAny ||= pending.length > 0;
        const [roles] = (await db.query(
          `SELECT current_user AS runtime, pg_get_userbyid(d.datdba) AS owner,
                  (SELECT count(*) FROM pg_class c WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND c.relnamespace = 'public'::regnamespace)::int AS owned
           FROM pg_database d WHERE d.datname = current_database()`,
        )) as { runtime: string; owner: string; owned: number }[];
        ctx.out(`${name}:`);
        ctx.out(
          roles!.owned === 0 && roles!.owner !== roles!.runtime
            ? `  roles    ${roles!.owner} owns the database; ${roles!.runtime} (the service) owns nothing`
            : `  roles    ${roles!.runtime} (the service) owns ${roles!.owner === roles!.runtime ? 'the database and ' : ''}${roles!.owned} objects: not least privilege (README, The databases)`,
        );
        for (const row of rows) ctx.out(`  applied  ${row.name}`);
        for (const n of pending) ctx.out(`  pending  ${n}`);
      }
      return pendingAny ? EXIT.failed : EXIT.ok;
    },
  },
];
