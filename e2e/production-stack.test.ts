import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestStack, type TestStack } from './harness.js';

// The benchmarks run the stack with production settings (issue 17's targets are stated for them): every process
// with NODE_ENV=production, keys made before the start, shared secrets read from files.
describe('the stack with production settings', () => {
  let t: TestStack;
  before(async () => {
    t = await startTestStack({}, { production: true });
  });
  after(() => t?.stop());

  it('starts every process in production and serves the frontends', async () => {
    for (const name of ['gateway', 'user', 'catalog', 'order', 'chat', 'audit']) {
      const log = readFileSync(join(t.dataDir, 'logs', `${name}.log`), 'utf8');
      const starting = log.split('\n').find((line) => line.includes('"msg":"starting"'));
      assert.ok(starting, `${name} logged its settings`);
      assert.equal((JSON.parse(starting) as { settings: { environment: string } }).settings.environment, 'production');
    }
    const categories = await t.gql('{ categories { id name } }');
    assert.ok((categories.data?.categories as unknown[]).length > 0);
    const admin = await t.login(t.admin.email, t.admin.password);
    assert.ok(admin.accessToken);
    const introspection = await t.gql('{ __schema { queryType { name } } }');
    assert.equal(introspection.data, undefined, 'production answers no introspection');
    assert.ok(introspection.errors?.length);
  });
});
