// npm run schema: writes each subgraph's SDL, the composed supergraph and the
// manifest of the registered operations to schema/, after rover.yaml from contracts/services.ts.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildManifest, MANIFEST_FILE, readOperations } from './operations.js';
import { generateSchemas, IGNORED_HINTS, ROOT, roverYaml } from './supergraph.js';

await writeFile(join(ROOT, 'rover.yaml'), roverYaml());
const { files, composition } = await generateSchemas();
if (composition.errors.length > 0) {
  process.stderr.write(
    `composition failed:\n${composition.errors.map((e) => `  - ${e.code}: ${e.message}`).join('\n')}\n`,
  );
  process.exit(1);
}
files.set(MANIFEST_FILE, buildManifest(readOperations()));
for (const [file, text] of files) {
  await writeFile(join(ROOT, file), text);
  process.stdout.write(`wrote ${file}\n`);
}
const hints = composition.hints.filter((h) => !IGNORED_HINTS.has(h.code));
for (const hint of hints) process.stderr.write(`hint ${hint.code}: ${hint.message}\n`);
process.exit(hints.length > 0 ? 1 : 0);
