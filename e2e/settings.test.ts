import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const ENTRIES = [
  'gateway/main.js',
  ...['user', 'catalog', 'order', 'chat', 'audit'].map((s) => `subgraphs/${s}/main.js`),
];

function run(entry: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [DIST + entry, ...args], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('service settings', () => {
  for (const entry of ENTRIES) {
    it(`${entry} --help lists every setting with its default`, () => {
      const out = run(entry, ['--help']);
      assert.equal(out.status, 0);
      assert.match(out.stdout, /LOG_LEVEL/);
      assert.match(out.stdout, /OTEL_EXPORTER_OTLP_ENDPOINT/);
      assert.match(out.stdout, /_HTTP_PORT[\s\S]*default: "40\d\d"/);
      assert.match(out.stdout, /_ADMIN_HOST[\s\S]*default: "127\.0\.0\.1"/);
      assert.match(out.stdout, /_ADMIN_PORT[\s\S]*default: "900\d"/);
    });
  }

  it('a subgraph with bad settings stops at once and names every one of them', () => {
    const out = run('subgraphs/order/main.js', ['--http-port=seventy', '--bogus'], {
      ORDER_DB_URL: 'not a url',
      ORDER_DB_POOL_SIZE: '-3',
      LOG_LEVEL: 'loud',
    });
    assert.equal(out.status, 2);
    for (const name of ['ORDER_HTTP_PORT', 'ORDER_DB_URL', 'ORDER_DB_POOL_SIZE', 'LOG_LEVEL', '--bogus'])
      assert.match(out.stderr, new RegExp(name));
  });

  it('the user subgraph refuses to start in production without SMTP, naming the setting', () => {
    const out = run('subgraphs/user/main.js', [], {
      NODE_ENV: 'production',
      USER_HTTP_PORT: '0',
      USER_ADMIN_PORT: '0',
    });
    assert.equal(out.status, 2);
    assert.match(out.stderr, /SMTP_URL/);
  });

  it('the gateway refuses a trusted-proxy list it cannot read', () => {
    const out = run('gateway/main.js', [], {
      GATEWAY_TRUST_PROXY: 'loopback, 10.0.0.0/99',
      GATEWAY_HTTP_PORT: '0',
      GATEWAY_ADMIN_PORT: '0',
    });
    assert.equal(out.status, 2);
    assert.match(out.stderr, /GATEWAY_TRUST_PROXY/);
  });

  it('the gateway refuses an override for a subgraph the supergraph does not have', () => {
    const out = run('gateway/main.js', [], {
      GATEWAY_SUBGRAPH_URLS: 'nosuch=http://localhost:1/graphql',
      GATEWAY_HTTP_PORT: '0',
      GATEWAY_ADMIN_PORT: '0',
      LOG_LEVEL: 'info',
    });
    assert.equal(out.status, 1);
    assert.match(out.stdout, /nosuch/);
  });

  it('the flag wins over the variable, and the effective settings are logged with secrets masked', () => {
    const out = run('subgraphs/order/main.js', ['--db-url=postgres://fixup_order:s3cret@127.0.0.1:1/fixup_order'], {
      ORDER_DB_URL: 'postgres://other:other@127.0.0.1:2/other',
      ORDER_HTTP_PORT: '0',
      ORDER_ADMIN_PORT: '0',
      LOG_LEVEL: 'info',
    });
    assert.equal(out.status, 1, 'no database answers on port 1');
    const starting = out.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; settings?: Record<string, unknown> })
      .find((l) => l.msg === 'starting');
    assert.equal(starting?.settings?.dbUrl, 'postgres://fixup_order:****@127.0.0.1:1/fixup_order');
    assert.doesNotMatch(out.stdout, /s3cret/);
  });
});

describe('README', () => {
  it('documents every setting of every service', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const entry of [...ENTRIES, 'scripts/start.js']) {
      const help = run(entry, ['--help']).stdout;
      for (const [, variable] of help.matchAll(/^ {2}--\S+ {2}(\S+)$/gm)) {
        const generic = variable!.replace(
          /^(USER|CATALOG|ORDER|CHAT|AUDIT)_(HTTP|ADMIN|DB|SHUTDOWN|GATEWAY|AUDIT|OUTBOX)_/,
          '<NAME>_$2_',
        );
        assert.ok(readme.includes(variable!) || readme.includes(generic), `README documents ${variable}`);
      }
    }
  });
});
