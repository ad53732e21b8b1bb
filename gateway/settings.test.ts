import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSettings } from '../foundation/service/config.js';
import { gatewaySettingsSpec } from './settings.js';

const parse = (argv: string[], env: Record<string, string> = {}) =>
  parseSettings(gatewaySettingsSpec, argv, env, 'Fixup gateway');

describe('gateway settings', () => {
  it('start on a developer machine with nothing set: the default ports, any operation, introspection auto', () => {
    const outcome = parse([]);
    assert.equal(outcome.kind, 'ok');
    if (outcome.kind !== 'ok') return;
    const s = outcome.values;
    assert.equal(s.environment, 'development');
    assert.equal(s.httpPort, 4000);
    assert.equal(s.adminPort, 9000);
    assert.equal(s.adminHost, '127.0.0.1');
    assert.equal(s.operations, 'any');
    assert.equal(s.introspection, 'auto');
    assert.deepEqual(s.subgraphUrls, {});
    assert.ok(s.limitTokens > 0 && s.limitDepth > 0 && s.limitCost > 0, 'every limit has a default');
  });

  it('a flag wins over its environment variable, which wins over the default', () => {
    const outcome = parse(['--http-port', '4100'], { GATEWAY_HTTP_PORT: '4200', GATEWAY_ADMIN_PORT: '9100' });
    assert.equal(outcome.kind, 'ok');
    if (outcome.kind !== 'ok') return;
    assert.equal(outcome.values.httpPort, 4100);
    assert.equal(outcome.values.adminPort, 9100);
  });

  it('reads instance lists of subgraph URLs and refuses a pair that is not name=url', () => {
    const ok = parse([], {
      GATEWAY_SUBGRAPH_URLS: 'chat=http://a:4004/graphql|http://b:4004/graphql, order=http://o/graphql',
    });
    assert.equal(ok.kind, 'ok');
    if (ok.kind === 'ok')
      assert.deepEqual(ok.values.subgraphUrls, {
        chat: 'http://a:4004/graphql|http://b:4004/graphql',
        order: 'http://o/graphql',
      });
    const bad = parse([], { GATEWAY_SUBGRAPH_URLS: 'chat' });
    assert.equal(bad.kind, 'invalid');
    if (bad.kind === 'invalid') assert.match(bad.problems.join('\n'), /GATEWAY_SUBGRAPH_URLS.*"chat" is not name=url/);
  });

  it('reports every bad setting at once, naming its variable and flag', () => {
    const outcome = parse(['--no-such-flag'], {
      GATEWAY_OPERATIONS: 'some',
      GATEWAY_LIMIT_DEPTH: '-1',
      NODE_ENV: 'prod',
    });
    assert.equal(outcome.kind, 'invalid');
    if (outcome.kind !== 'invalid') return;
    const text = outcome.problems.join('\n');
    for (const name of ['--no-such-flag', 'GATEWAY_OPERATIONS', 'GATEWAY_LIMIT_DEPTH', 'NODE_ENV'])
      assert.match(text, new RegExp(name));
  });

  it('--help lists every setting with its variable and default', () => {
    const outcome = parse(['--help']);
    assert.equal(outcome.kind, 'help');
    if (outcome.kind !== 'help') return;
    for (const s of Object.values(gatewaySettingsSpec)) assert.ok(outcome.text.includes(s.env), `${s.env} in --help`);
    assert.match(outcome.text, /GATEWAY_LIMIT_TOKENS[\s\S]*default: "1000"/);
  });

  it('trusts no proxy unless told, and refuses an address that is not one', () => {
    const none = parse([]);
    assert.equal(none.kind, 'ok');
    const bad = parse([], { GATEWAY_TRUST_PROXY: 'not-an-address' });
    assert.equal(bad.kind, 'invalid');
  });
});
