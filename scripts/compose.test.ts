// test tier: integration (it runs every service's --help as a process)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { COMPOSE_SECRETS, composeFile } from './compose.js';
import { ADMIN_PORTS, GATEWAY_PORT, SUBGRAPHS } from './services.js';
import { ROOT } from './supergraph.js';

const run = promisify(execFile);

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  profiles?: string[];
  volumes?: string[];
}

const services = () => (parse(composeFile()) as { services: Record<string, ComposeService> }).services;

/** dockerCompose finds a working `docker compose` (or docker-compose), or says why there is none. */
async function dockerCompose(): Promise<{ command: string; args: string[] } | string> {
  for (const [command, args] of [
    ['docker', ['compose']],
    ['docker-compose', []],
  ] as const) {
    try {
      await run(command, [...args, 'version']);
      return { command, args: [...args] };
    } catch {
      // try the next one
    }
  }
  return 'neither `docker compose` nor docker-compose is installed here';
}

describe('docker-compose.yml', () => {
  it('is what npm run compose generates', async () => {
    assert.equal(await readFile(join(ROOT, 'docker-compose.yml'), 'utf8'), composeFile(), 'stale: run npm run compose');
  });

  it('starts in order, each health check waiting for what it claims', () => {
    const all = services();
    for (const name of [...SUBGRAPHS.map((s) => s.name), 'gateway', 'postgres', 'mailpit'])
      assert.ok(all[name]?.healthcheck, `${name} has a health check`);
    const postgresCheck = all.postgres!.healthcheck!.test.join(' ');
    assert.match(
      postgresCheck,
      /-h 127\.0\.0\.1/,
      'pg_isready over TCP: the image listens on TCP only after its init scripts',
    );
    assert.match(
      postgresCheck,
      new RegExp(`fixup_${SUBGRAPHS.at(-1)!.name}`),
      'waits for the last database the init script makes',
    );
    for (const s of SUBGRAPHS) {
      assert.match(
        all[s.name]!.healthcheck!.test.join(' '),
        new RegExp(`127\\.0\\.0\\.1:${ADMIN_PORTS[s.name]}/readyz`),
        `${s.name} waits for readiness (migrations applied) on its admin port`,
      );
      const deps = all[s.name]!.depends_on as Record<string, { condition: string }>;
      assert.equal(deps.postgres?.condition, 'service_healthy');
      if (s.name !== 'audit') assert.equal(deps.audit?.condition, 'service_healthy');
    }
    assert.deepEqual(Object.keys(all.gateway!.depends_on!).sort(), SUBGRAPHS.map((s) => s.name).sort());
    assert.equal(all.gateway!.environment!.GATEWAY_HTTP_PORT, String(GATEWAY_PORT));
  });

  it('sends mail to Mailpit and takes every secret from .env, which npm run keys writes', () => {
    const all = services();
    assert.equal(all.user!.environment!.SMTP_URL, 'smtp://mailpit:1025');
    const text = composeFile();
    const required = new Set([...text.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!));
    assert.deepEqual(
      [...required].sort(),
      [...COMPOSE_SECRETS].sort(),
      'every required variable is one npm run keys writes',
    );
    assert.match(readFileSync(join(ROOT, '.gitignore'), 'utf8'), /^\.env$/m, '.env is never committed');
  });

  it('adds the collector, Jaeger v2, Prometheus scraping every admin port and Grafana under the observability profile', () => {
    const all = services();
    for (const name of ['otel-collector', 'jaeger', 'prometheus', 'grafana'])
      assert.deepEqual(all[name]!.profiles, ['observability'], name);
    assert.match(all.jaeger!.image!, /^jaegertracing\/jaeger:2\./);
    const prometheus = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets)).sort();
    assert.deepEqual(
      targets,
      Object.entries(ADMIN_PORTS)
        .map(([name, port]) => `${name}:${port}`)
        .sort(),
    );
    for (const mount of all.grafana!.volumes!.filter((v) => v.startsWith('./'))) {
      assert.doesNotThrow(
        () =>
          readFileSync(
            join(
              ROOT,
              mount.split(':')[0]!,
              mount.includes('dashboards') ? 'overview.json' : 'datasources/datasources.yml',
            ),
          ),
        mount,
      );
    }
  });

  it('runs the images on Node 24 LTS', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    assert.ok(bases.length > 0);
    for (const base of bases) assert.match(base, /^node:24[.-]/, base);
  });

  it('sets only variables that each service really reads', async () => {
    for (const [name, service] of Object.entries(services())) {
      if (service.command?.[0] !== 'node') continue;
      const { stdout } = await run(process.execPath, [join(ROOT, service.command[1]!), '--help']);
      for (const variable of Object.keys(service.environment ?? {})) {
        assert.match(stdout, new RegExp(`\\b${variable}\\b`), `${name} does not read ${variable}`);
      }
    }
  });

  it('is valid for docker compose itself', async (t) => {
    const compose = await dockerCompose();
    if (typeof compose === 'string') return t.skip(compose);
    const dir = mkdtempSync(join(tmpdir(), 'fixup-compose-'));
    try {
      const env = { ...process.env, ...Object.fromEntries(COMPOSE_SECRETS.map((name) => [name, 'x'])) };
      await run(
        compose.command,
        [...compose.args, '-f', join(ROOT, 'docker-compose.yml'), '--profile', 'observability', 'config', '--quiet'],
        { env, cwd: dir },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
