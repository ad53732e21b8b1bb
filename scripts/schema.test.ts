import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildManifest, MANIFEST_FILE, readOperations } from './operations.js';
import { generateSchemas, IGNORED_HINTS, readRoverConfig, ROOT } from './supergraph.js';
import { SUBGRAPHS } from './services.js';

describe('schema', () => {
  it('rover.yaml lists every subgraph, in rover\'s format', async () => {
    const config = await readRoverConfig();
    assert.match(config.federationVersion, /^=?2\./);
    assert.deepEqual(config.subgraphs.map((s) => s.name).sort(), SUBGRAPHS.map((s) => s.name).sort());
    for (const s of config.subgraphs) {
      assert.equal(s.schemaFile, `./schema/${s.name}.graphql`);
      assert.ok(URL.canParse(s.routingUrl), s.routingUrl);
    }
  });

  it('composes without errors or hints, and the committed files are what the code generates', async () => {
    const { files, composition } = await generateSchemas();
    assert.deepEqual(composition.errors, []);
    assert.deepEqual(composition.hints.filter((h) => !IGNORED_HINTS.has(h.code)), []);
    assert.equal(files.size, SUBGRAPHS.length + 1);
    for (const [file, generated] of files) {
      const committed = await readFile(join(ROOT, file), 'utf8').catch(() => '');
      assert.equal(committed, generated, `${file} is stale: run npm run schema and commit the result`);
    }
  });

  it('the committed manifest of registered operations is what the operations generate', async () => {
    const committed = await readFile(join(ROOT, MANIFEST_FILE), 'utf8').catch(() => '');
    assert.equal(committed, buildManifest(readOperations()), `${MANIFEST_FILE} is stale: run npm run schema and commit the result`);
  });
});
