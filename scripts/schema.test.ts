// test tier: integration (it builds every subgraph's schema in processes of their own)
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildManifest, MANIFEST_FILE, readOperations } from './operations.js';
import { generateSchemas, IGNORED_HINTS, parseRoverConfig, readRoverConfig, ROOT, roverYaml } from './supergraph.js';
import { SUBGRAPHS } from './services.js';

describe('schema', () => {
  it("rover.yaml lists every subgraph, in rover's format, as npm run schema writes it from contracts/services.ts", async () => {
    assert.equal(await readFile(join(ROOT, 'rover.yaml'), 'utf8'), roverYaml(), 'stale: run npm run schema');
    const config = await readRoverConfig();
    assert.match(config.federationVersion, /^=?2\./);
    assert.deepEqual(config.subgraphs.map((s) => s.name).sort(), SUBGRAPHS.map((s) => s.name).sort());
    for (const s of config.subgraphs) {
      assert.equal(s.schemaFile, `./schema/${s.name}.graphql`);
      assert.ok(URL.canParse(s.routingUrl), s.routingUrl);
    }
  });

  it("composition reads rover.yaml as rover does: each routing_url is the supergraph's URL of that subgraph", async () => {
    const config = await readRoverConfig();
    const supergraph = await readFile(join(ROOT, 'schema/supergraph.graphql'), 'utf8');
    const graphs = [...supergraph.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g)].map((m) => [
      m[1],
      m[2],
    ]);
    assert.deepEqual(graphs.sort(), config.subgraphs.map((s) => [s.name, s.routingUrl]).sort());
  });

  it("reads rover's supergraph config format, and refuses a subgraph whose schema is not a file", () => {
    const config = parseRoverConfig(
      [
        'federation_version: =2.14.4',
        'subgraphs:',
        '  films:',
        '    routing_url: https://films.example.com',
        '    schema:',
        '      file: ./films.graphql',
        '',
      ].join('\n'),
    );
    assert.deepEqual(config, {
      federationVersion: '=2.14.4',
      subgraphs: [{ name: 'films', routingUrl: 'https://films.example.com', schemaFile: './films.graphql' }],
    });
    assert.throws(
      () =>
        parseRoverConfig(
          [
            'subgraphs:',
            '  people:',
            '    routing_url: http://localhost:4002',
            '    schema:',
            '      subgraph_url: http://localhost:4002',
            '',
          ].join('\n'),
        ),
      /subgraph people has no schema.file/,
    );
  });

  it('composes without errors or hints, and the committed files are what the code generates', async () => {
    const { files, composition } = await generateSchemas();
    assert.deepEqual(composition.errors, []);
    assert.deepEqual(
      composition.hints.filter((h) => !IGNORED_HINTS.has(h.code)),
      [],
    );
    assert.equal(files.size, SUBGRAPHS.length + 1);
    for (const [file, generated] of files) {
      const committed = await readFile(join(ROOT, file), 'utf8').catch(() => '');
      assert.equal(committed, generated, `${file} is stale: run npm run schema and commit the result`);
    }
  });

  it('nothing in the repository reads outside it (a fresh clone with no shared folder beside it runs npm test)', () => {
    const sources = [
      'contracts',
      'foundation',
      'gateway',
      'subgraphs',
      'migrations',
      'scripts',
      'e2e',
      'bench',
    ].flatMap((dir) =>
      (readdirSync(join(ROOT, dir), { recursive: true }) as string[])
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(dir, f)),
    );
    assert.ok(sources.length > 50, `only ${sources.length} source files`);
    const outside = sources.filter((f) =>
      /['"`](\.\.\/)+shared\b|\/work\/shared/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    assert.deepEqual(outside, []);
  });

  it('the committed manifest of registered operations is what the operations generate', async () => {
    const committed = await readFile(join(ROOT, MANIFEST_FILE), 'utf8').catch(() => '');
    assert.equal(
      committed,
      buildManifest(readOperations()),
      `${MANIFEST_FILE} is stale: run npm run schema and commit the result`,
    );
  });
});
