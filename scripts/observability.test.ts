import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ROOT } from './supergraph.js';

const run = promisify(execFile);
const DEPLOY = join(ROOT, 'deploy');

interface Dashboard {
  uid: string;
  title: string;
  panels: { type: string; title: string; datasource?: { uid: string }; targets?: { datasource?: { uid: string } }[] }[];
}

describe('dashboards and alert rules', () => {
  it('pass promtool check rules', async (t) => {
    try {
      await run('promtool', ['--version']);
    } catch {
      return t.skip('promtool is not installed here (Debian: apt-get install prometheus)');
    }
    const { stdout } = await run('promtool', ['check', 'rules', join(DEPLOY, 'prometheus', 'alerts.yml')]);
    assert.match(stdout, /SUCCESS: \d+ rules found/);
  });

  it('give every alert a severity, a summary and a runbook line', () => {
    const rules = parse(readFileSync(join(DEPLOY, 'prometheus', 'alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    assert.ok(all.length >= 6);
    for (const rule of all) {
      assert.match(rule.labels?.severity ?? '', /^(critical|warning)$/, rule.alert);
      assert.ok(rule.annotations?.summary && rule.annotations.runbook, `${rule.alert} has a summary and a runbook`);
    }
  });

  it('provision dashboards with unique uids on the provisioned Prometheus data source', () => {
    const sources = parse(
      readFileSync(join(DEPLOY, 'grafana', 'provisioning', 'datasources', 'datasources.yml'), 'utf8'),
    ) as { datasources: { uid: string; type: string }[] };
    const uids = new Set(sources.datasources.map((d) => d.uid));
    const files = readdirSync(join(DEPLOY, 'grafana', 'dashboards')).filter((f) => f.endsWith('.json'));
    assert.deepEqual(files.sort(), ['chat.json', 'database-pools.json', 'overview.json', 'subgraphs.json']);
    const seen = new Set<string>();
    for (const file of files) {
      const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana', 'dashboards', file), 'utf8')) as Dashboard;
      assert.ok(!seen.has(dashboard.uid), `${file}: uid ${dashboard.uid} is unique`);
      seen.add(dashboard.uid);
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        assert.ok(uids.has(panel.datasource?.uid ?? ''), `${file}: "${panel.title}" uses a provisioned data source`);
        for (const target of panel.targets ?? [])
          assert.ok(uids.has(target.datasource?.uid ?? ''), `${file}: "${panel.title}"`);
      }
    }
    const subgraphs = JSON.parse(
      readFileSync(join(DEPLOY, 'grafana', 'dashboards', 'subgraphs.json'), 'utf8'),
    ) as Dashboard;
    assert.deepEqual(
      subgraphs.panels.filter((p) => p.type === 'row').map((p) => p.title),
      ['user', 'catalog', 'order', 'chat', 'audit'],
      'one row per subgraph',
    );
  });
});
