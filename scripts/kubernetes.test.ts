// test tier: integration (it runs every service's --help as a process)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ADMIN_PORTS, GATEWAY_PORT, SUBGRAPHS } from './services.js';
import { ROOT } from './supergraph.js';

const run = promisify(execFile);
const KUBERNETES = join(ROOT, 'deploy', 'kubernetes');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  command: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
}
interface Resource {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: any;
}

/** SECRETS are the Secrets the manifests reference, by name and key: an operator creates them (README, Kubernetes). */
export const SECRETS: Record<string, string[]> = {
  'fixup-gateway-keys': ['internal-keys'],
  'fixup-user-keys': ['jwt-keys'],
  'fixup-audit-ingest': ['secret'],
  'fixup-internal-calls': ['secret'],
  'fixup-smtp': ['url'],
  ...Object.fromEntries(SUBGRAPHS.map((s) => [`fixup-${s.name}-db`, ['url', 'owner-url']])),
};

const PROCESSES = [
  { name: 'gateway', port: GATEWAY_PORT, entry: 'dist/gateway/main.js' },
  ...SUBGRAPHS.map((s) => ({ name: s.name, port: s.port, entry: `dist/subgraphs/${s.name}/main.js` })),
];

/** render renders an overlay with kubectl kustomize, or (without kubectl) reads the base's YAML as it is. */
async function render(t: TestContext, overlay: string): Promise<Resource[]> {
  let text: string;
  try {
    text = (await run('kubectl', ['kustomize', join(KUBERNETES, 'overlays', overlay)], { maxBuffer: 16 * 1024 * 1024 }))
      .stdout;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    t.diagnostic('kubectl is not installed here: checking the base manifests without rendering the overlay');
    const base = join(KUBERNETES, 'base');
    text = readdirSync(base)
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .map((f) => readFileSync(join(base, f), 'utf8'))
      .join('\n---\n');
  }
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Resource)
    .filter(Boolean);
}

const helpOf = new Map<string, Promise<string>>();
function help(entry: string): Promise<string> {
  if (!helpOf.has(entry))
    helpOf.set(
      entry,
      run(process.execPath, [join(ROOT, entry), '--help']).then((r) => r.stdout),
    );
  return helpOf.get(entry)!;
}

for (const overlay of ['dev', 'prod']) {
  describe(`deploy/kubernetes/overlays/${overlay}`, () => {
    it('runs every process with probes on its admin port, its ports and settings as the service reads them', async (t) => {
      const resources = await render(t, overlay);
      for (const proc of PROCESSES) {
        const deployment = resources.find((r) => r.kind === 'Deployment' && r.metadata.name === proc.name);
        assert.ok(deployment, `a Deployment for ${proc.name}`);
        const container = deployment.spec.template.spec.containers[0] as Container;
        assert.deepEqual(container.command, ['node', proc.entry]);
        const prefix = proc.name.toUpperCase();
        const env = new Map((container.env ?? []).map((e) => [e.name, e]));
        const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
        assert.equal(ports.get('http'), proc.port);
        assert.equal(ports.get('admin'), ADMIN_PORTS[proc.name]);
        assert.equal(
          env.get(`${prefix}_HTTP_PORT`)?.value,
          String(proc.port),
          'the http port is the one the process listens on',
        );
        assert.equal(
          env.get(`${prefix}_ADMIN_PORT`)?.value,
          String(ADMIN_PORTS[proc.name]),
          'the admin port is the one the process listens on',
        );
        assert.equal(
          env.get(`${prefix}_ADMIN_HOST`)?.value,
          '0.0.0.0',
          'the admin listener is reachable by the kubelet and Prometheus',
        );
        assert.deepEqual(container.livenessProbe?.httpGet, { path: '/healthz', port: 'admin' });
        assert.deepEqual(container.startupProbe?.httpGet, { path: '/healthz', port: 'admin' });
        assert.deepEqual(container.readinessProbe?.httpGet, { path: '/readyz', port: 'admin' });
        assert.ok(
          container.resources?.requests?.cpu && container.resources.limits?.memory,
          `${proc.name} has requests and limits`,
        );
        const text = await help(proc.entry);
        for (const name of env.keys()) {
          assert.match(text, new RegExp(`\\b${name}\\b`), `${proc.name} reads ${name}`);
        }
        const drainMs = Number(env.get(`${prefix}_SHUTDOWN_TIMEOUT_MS`)?.value);
        const preStop = Number(container.lifecycle?.preStop?.exec?.command.at(-1));
        assert.ok(drainMs > 0 && preStop > 0);
        assert.ok(
          deployment.spec.template.spec.terminationGracePeriodSeconds >= preStop + drainMs / 1000,
          `${proc.name}: the grace period covers the pre-stop pause and the drain`,
        );
        const service = resources.find((r) => r.kind === 'Service' && r.metadata.name === proc.name);
        assert.deepEqual(
          service?.spec.ports.map((p: { port: number }) => p.port),
          [proc.port, ADMIN_PORTS[proc.name]],
        );
        assert.ok(
          resources.some(
            (r) =>
              r.kind === 'PodDisruptionBudget' && r.spec.selector.matchLabels['app.kubernetes.io/name'] === proc.name,
          ),
          `${proc.name} has a PodDisruptionBudget`,
        );
      }
    });

    it('references only the documented Secrets and commits none', async (t) => {
      const resources = await render(t, overlay);
      assert.equal(resources.filter((r) => r.kind === 'Secret').length, 0);
      const refs = resources
        .flatMap((r) => (r.spec?.template?.spec?.containers ?? []) as Container[])
        .flatMap((c) => c.env ?? [])
        .map((e) => e.valueFrom?.secretKeyRef)
        .filter((ref): ref is { name: string; key: string } => !!ref);
      assert.ok(refs.length > 0);
      for (const ref of refs)
        assert.ok(SECRETS[ref.name]?.includes(ref.key), `${ref.name}/${ref.key} is a documented Secret key`);
      const used = new Set(refs.map((r) => `${r.name}/${r.key}`));
      for (const [name, keys] of Object.entries(SECRETS))
        for (const key of keys) assert.ok(used.has(`${name}/${key}`), `${name}/${key} is used`);
    });

    it("migrates each subgraph in a Job as its database's owner", async (t) => {
      const resources = await render(t, overlay);
      const text = await help('dist/scripts/migrate.js');
      for (const s of SUBGRAPHS) {
        const job = resources.find((r) => r.kind === 'Job' && r.metadata.name === `${s.name}-migrate`);
        assert.ok(job, `a migration Job for ${s.name}`);
        const container = job.spec.template.spec.containers[0] as Container;
        assert.deepEqual(container.command, ['node', 'dist/scripts/migrate.js', '--subgraph', s.name]);
        for (const e of container.env ?? []) assert.match(text, new RegExp(`\\b${e.name}\\b`));
        assert.deepEqual(container.env?.find((e) => e.name === 'FIXUP_MIGRATE_DB_URL')?.valueFrom?.secretKeyRef, {
          name: `fixup-${s.name}-db`,
          key: 'owner-url',
        });
        const deployment = resources.find((r) => r.kind === 'Deployment' && r.metadata.name === s.name)!;
        const env = (deployment.spec.template.spec.containers[0] as Container).env!;
        assert.equal(
          env.find((e) => e.name === `${s.name.toUpperCase()}_DB_MIGRATE`)?.value,
          'false',
          'the service itself does not migrate',
        );
      }
    });

    it('autoscales the gateway and chat, and lets only the gateway (and named callers) reach subgraphs and only monitoring reach admin ports', async (t) => {
      const resources = await render(t, overlay);
      const scaled = resources
        .filter((r) => r.kind === 'HorizontalPodAutoscaler')
        .map((r) => r.spec.scaleTargetRef.name)
        .sort();
      assert.deepEqual(scaled, ['chat', 'gateway']);
      const policies = resources.filter((r) => r.kind === 'NetworkPolicy');
      assert.ok(
        policies.some((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress),
        'a default deny',
      );
      for (const proc of PROCESSES) {
        const policy = policies.find((p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === proc.name);
        assert.ok(policy, `${proc.name} has a NetworkPolicy`);
        const admin = policy.spec.ingress.find((rule: any) =>
          rule.ports.some((p: any) => p.port === ADMIN_PORTS[proc.name]),
        );
        assert.deepEqual(admin.from, [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
        ]);
        if (proc.name === 'gateway') continue;
        const http = policy.spec.ingress.find((rule: any) => rule.ports.some((p: any) => p.port === proc.port));
        const callers = http.from.map((f: any) => f.podSelector.matchLabels['app.kubernetes.io/name']);
        assert.ok(callers.includes('gateway'), `the gateway reaches ${proc.name}`);
        assert.ok(
          callers.every((c: string) => PROCESSES.some((p) => p.name === c)),
          `${proc.name} is reached only by Fixup processes`,
        );
      }
    });
  });
}
