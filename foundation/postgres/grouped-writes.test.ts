import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupedWrites } from './grouped-writes.js';
import { currentScope, runInScope } from '../http/request-context.js';
import { requestScope } from '../http/server.js';
import { createLogger } from '../telemetry/logger.js';

/** Statements records what a GroupedWrites ran, and answers each statement when told to. */
class Statements {
  readonly ran: string[][] = [];
  private readonly pending: (() => void)[] = [];
  failing = new Set<string>();
  wholeFails = false;

  private answerLater(): Promise<void> {
    return new Promise((resolve) => this.pending.push(resolve));
  }

  one = async (item: string): Promise<string> => {
    this.ran.push([item]);
    await this.answerLater();
    if (this.failing.has(item)) throw new Error(`${item} refused`);
    return item.toUpperCase();
  };

  many = async (items: readonly string[]): Promise<(string | Error)[]> => {
    this.ran.push([...items]);
    await this.answerLater();
    if (this.wholeFails && items.some((item) => this.failing.has(item))) throw new Error('statement failed');
    return items.map((item) => (item.startsWith('gone') ? new Error(`${item} is gone`) : item.toUpperCase()));
  };

  /** answer lets every statement in flight answer, and waits until their writes have settled. */
  async answer(): Promise<void> {
    for (const resolve of this.pending.splice(0)) resolve();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** over makes GroupedWrites whose statements are those Statements records. */
const over = (statements: Statements, bounds: { lanes: number; maxGroup: number; maxWaiting: number }) =>
  new GroupedWrites({ ...bounds, one: statements.one, many: statements.many });

const settled = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ value }),
    (err: Error) => ({ error: err.message }),
  );

describe('GroupedWrites', () => {
  it('runs a write at once and alone while a lane is free, and groups only what waits for one', async () => {
    const statements = new Statements();
    const writes = over(statements, { lanes: 2, maxGroup: 3, maxWaiting: 100 });
    const results = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((item) => writes.write(item));
    assert.deepEqual(statements.ran, [['a'], ['b']]);
    await statements.answer();
    assert.deepEqual(statements.ran, [['a'], ['b'], ['c', 'd', 'e'], ['f', 'g']]);
    await statements.answer();
    assert.deepEqual(await Promise.all(results), ['A', 'B', 'C', 'D', 'E', 'F', 'G']);
    assert.deepEqual([writes.statements, writes.writes], [4, 7]);
  });

  it('answers a write that failed alone in its group with its own error, and the others with their results', async () => {
    const statements = new Statements();
    const writes = over(statements, { lanes: 1, maxGroup: 10, maxWaiting: 100 });
    const first = writes.write('first');
    const group = ['x', 'gone-1', 'y'].map((item) => settled(writes.write(item)));
    await statements.answer();
    await statements.answer();
    assert.equal(await first, 'FIRST');
    assert.deepEqual(await Promise.all(group), [{ value: 'X' }, { error: 'gone-1 is gone' }, { value: 'Y' }]);
  });

  it('runs the writes of a group that failed as a whole alone, so that only the faulty one fails', async () => {
    const statements = new Statements();
    statements.wholeFails = true;
    statements.failing.add('bad');
    const writes = over(statements, { lanes: 1, maxGroup: 10, maxWaiting: 100 });
    const first = writes.write('first');
    const group = ['x', 'bad', 'y'].map((item) => settled(writes.write(item)));
    await statements.answer();
    await statements.answer();
    // One after the other, in their order and in the group's one lane.
    assert.deepEqual(statements.ran, [['first'], ['x', 'bad', 'y'], ['x']]);
    for (let i = 0; i < 3; i++) await statements.answer();
    assert.equal(await first, 'FIRST');
    assert.deepEqual(statements.ran, [['first'], ['x', 'bad', 'y'], ['x'], ['bad'], ['y']]);
    assert.equal(writes.failedGroups, 1);
    assert.deepEqual(await Promise.all(group), [{ value: 'X' }, { error: 'bad refused' }, { value: 'Y' }]);
  });

  it('frees the lane of a failed write for the next', async () => {
    const statements = new Statements();
    statements.failing.add('bad');
    const writes = over(statements, { lanes: 1, maxGroup: 10, maxWaiting: 100 });
    const bad = settled(writes.write('bad'));
    const next = writes.write('next');
    await statements.answer();
    await statements.answer();
    assert.deepEqual(await bad, { error: 'bad refused' });
    assert.equal(await next, 'NEXT');
  });

  it('refuses a write at once while as many as maxWaiting wait, with SERVICE_UNAVAILABLE', async () => {
    const statements = new Statements();
    const writes = over(statements, { lanes: 1, maxGroup: 10, maxWaiting: 2 });
    const first = writes.write('first');
    const waiting = [writes.write('a'), writes.write('b')];
    await assert.rejects(writes.write('c'), (err: Error & { code?: string }) => err.code === 'SERVICE_UNAVAILABLE');
    await statements.answer();
    await statements.answer();
    assert.deepEqual([await first, ...(await Promise.all(waiting))], ['FIRST', 'A', 'B']);
  });

  it('runs statements outside the scope of the request whose write started them', async () => {
    const scopes: unknown[] = [];
    const writes = new GroupedWrites({
      lanes: 1,
      maxGroup: 10,
      maxWaiting: 10,
      one: async (item: string) => {
        scopes.push(currentScope());
        await new Promise((resolve) => setTimeout(resolve, 5));
        return item;
      },
      many: async (items: readonly string[]) => {
        scopes.push(currentScope());
        return [...items];
      },
    });
    const scope = requestScope('request-1', createLogger({ service: 'test', level: 'silent' }));
    await runInScope(scope, () => Promise.all([writes.write('a'), writes.write('b'), writes.write('c')]));
    assert.deepEqual(scopes, [undefined, undefined]);
  });
});
