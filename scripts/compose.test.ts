import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { composeFile } from './compose.js';
import { GATEWAY_PORT, SUBGRAPHS } from './services.js';
import { ROOT } from './supergraph.js';

const run = promisify(execFile);

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
  healthcheck?: unknown;
  profiles?: string[];
}

describe('docker-compose.yml', () => {
  it('is what npm run compose generates', async () => {
    assert.equal(await readFile(join(ROOT, 'docker-compose.yml'), 'utf8'), composeFile(), 'stale: run npm run compose');
  });

  it('runs every subgraph and the gateway with health checks, and tracing as a profile', () => {
    const { services } = parse(composeFile()) as { services: Record<string, ComposeService> };
    for (const name of [...SUBGRAPHS.map((s) => s.name), 'gateway', 'postgres']) {
      assert.ok(services[name]?.healthcheck, `${name} has a health check`);
    }
    assert.deepEqual(Object.keys(services.gateway!.depends_on!).sort(), SUBGRAPHS.map((s) => s.name).sort());
    assert.equal(services.gateway!.environment!.GATEWAY_HTTP_PORT, String(GATEWAY_PORT));
    assert.deepEqual(services.jaeger!.profiles, ['tracing']);
    assert.deepEqual(services['otel-collector']!.profiles, ['tracing']);
  });

  it('sets only variables that each service really reads', async () => {
    const { services } = parse(composeFile()) as { services: Record<string, ComposeService> };
    for (const [name, service] of Object.entries(services)) {
      if (service.command?.[0] !== 'node') continue;
      const { stdout } = await run(process.execPath, [join(ROOT, service.command[1]!), '--help']);
      for (const variable of Object.keys(service.environment ?? {})) {
        assert.match(stdout, new RegExp(`\\b${variable}\\b`), `${name} does not read ${variable}`);
      }
    }
  });
});
