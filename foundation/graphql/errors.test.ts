import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError } from 'graphql';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { createServer } from 'node:net';
import { AppError, ConflictError, InvalidInputError, isDatabaseUnavailable, RateLimitedError } from '../core/errors.js';
import { testDatabaseServer } from '../testkit/databases.js';
import { INTERNAL_MESSAGE, isUnexpected, toClientError } from './errors.js';

function resolverError(original: Error): GraphQLError {
  return new GraphQLError(original.message, { originalError: original, path: ['order'] });
}

/** AppErrorWithExtras is a business error whose details carry more than the contract allows. */
class AppErrorWithExtras extends AppError {
  constructor() {
    super('NOT_FOUND', 'Order not found', { table: 'orders', sql: 'SELECT 1' });
  }
}

describe('toClientError', () => {
  it('shows a business error with its code and details', () => {
    const err = resolverError(new InvalidInputError('input.name', 'name is empty'));
    const out = toClientError(
      { message: err.message, path: ['order'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      err,
    );
    assert.deepEqual(out, {
      message: 'name is empty',
      path: ['order'],
      extensions: { field: 'input.name', code: 'BAD_USER_INPUT' },
    });
    const limited = toClientError({ message: 'x' }, resolverError(new RateLimitedError(30)));
    assert.deepEqual(limited.extensions, { retryAfterSeconds: 30, code: 'RATE_LIMITED' });
  });

  it('masks anything unexpected, revealing no message, stack or SQL', () => {
    const err = resolverError(new Error('relation "orders" does not exist at /app/store.js:12'));
    const out = toClientError(
      { message: err.message, extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] } },
      err,
    );
    assert.deepEqual(out, { message: INTERNAL_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    assert.equal(isUnexpected(err), true);
    assert.equal(isUnexpected(resolverError(new ConflictError('order is ACCEPTED'))), false);
  });

  it('passes a contract code from a subgraph through the gateway, without the subgraph name', () => {
    const downstream = new GraphQLError('Order 1 not found', {
      originalError: { message: 'Order 1 not found', extensions: { code: 'NOT_FOUND' } } as unknown as Error,
      extensions: { code: 'NOT_FOUND', serviceName: 'order' },
    });
    const out = toClientError(
      { message: downstream.message, extensions: { code: 'NOT_FOUND', serviceName: 'order' } },
      downstream,
    );
    assert.deepEqual(out, { message: 'Order 1 not found', extensions: { code: 'NOT_FOUND' } });
  });

  it("lets only the contract's extensions reach the client, whatever a subgraph or the gateway added", () => {
    const extensions = {
      code: 'CONFLICT',
      serviceName: 'order',
      http: { status: 200, headers: {} },
      subgraphUrl: 'http://10.0.0.3:4003/graphql',
      stacktrace: ['Error: at /app/dist/subgraphs/order/business/orders.js:12'],
      exception: { message: 'internal' },
      field: 'input.orderId',
      retryAfterSeconds: 3,
      limit: 'depth',
      max: 12,
      query: 'SELECT * FROM orders',
    };
    const downstream = new GraphQLError('The order is ACCEPTED', { extensions });
    const out = toClientError({ message: downstream.message, extensions }, downstream);
    assert.deepEqual(out.extensions, {
      code: 'CONFLICT',
      field: 'input.orderId',
      retryAfterSeconds: 3,
      limit: 'depth',
      max: 12,
    });
    const fromBusiness = toClientError({ message: 'x' }, resolverError(new AppErrorWithExtras()));
    assert.deepEqual(fromBusiness.extensions, { code: 'NOT_FOUND' });
  });

  it('keeps validation errors as they are', () => {
    const err = new GraphQLError('Cannot query field "x" on type "Query".', {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    const out = toClientError({ message: err.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, err);
    assert.equal(out.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(out.message, err.message);
  });
});

/** closedPort is a port where nothing listens (one the OS just handed out and took back). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a database that cannot be reached', () => {
  /** failure runs one real pg call and gives what it threw. */
  async function failure(run: () => Promise<unknown>): Promise<unknown> {
    try {
      await run();
    } catch (err) {
      return err;
    }
    throw new Error('expected a failure');
  }

  it('is SERVICE_UNAVAILABLE, revealing nothing of the database, where a failed statement stays masked', async (t) => {
    const { adminUrl, stop } = await testDatabaseServer();
    t.after(stop);
    const port = await closedPort();
    const refused = await failure(() =>
      new pg.Client({ connectionString: `postgres://nobody@127.0.0.1:${port}/none` }).connect(),
    );
    const pool = new pg.Pool({
      connectionString: `postgres://nobody@127.0.0.1:${port}/none`,
      connectionTimeoutMillis: 500,
    });
    const pooled = await failure(() => pool.query('SELECT 1'));
    await pool.end();
    const victim = new pg.Client({ connectionString: adminUrl });
    await victim.connect();
    victim.on('error', () => {});
    const [{ pid }] = (await victim.query('SELECT pg_backend_pid() AS pid')).rows as { pid: number }[];
    const killer = new pg.Client({ connectionString: adminUrl });
    await killer.connect();
    const syntax = await failure(() => killer.query('SELEC 1'));
    await killer.query('SELECT pg_terminate_backend($1)', [pid]);
    await killer.end();
    const terminated = await failure(() => victim.query('SELECT 1'));
    const later = await failure(() => victim.query('SELECT 1'));
    for (const [what, err] of Object.entries({ refused, pooled, terminated, later })) {
      assert.equal(isDatabaseUnavailable(err), true, `${what}: ${(err as Error).message}`);
      const out = toClientError({ message: (err as Error).message, path: ['order'] }, resolverError(err as Error));
      assert.deepEqual(
        out,
        { message: 'Service unavailable: retry later', path: ['order'], extensions: { code: 'SERVICE_UNAVAILABLE' } },
        what,
      );
      assert.equal(isUnexpected(resolverError(err as Error)), false);
    }
    assert.equal(isDatabaseUnavailable(syntax), false, 'a statement that fails is not the database down');
    assert.equal(
      toClientError({ message: (syntax as Error).message }, resolverError(syntax as Error)).extensions?.code,
      'INTERNAL_SERVER_ERROR',
    );
    assert.equal(
      isDatabaseUnavailable(new QueryFailedError('SELECT 1', [], terminated as Error)),
      true,
      "TypeORM's wrapper is looked through",
    );
  });
});
