// npm run compose: writes docker-compose.yml from the service list.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { composeFile } from './compose.js';
import { ROOT } from './supergraph.js';

await writeFile(join(ROOT, 'docker-compose.yml'), composeFile());
process.stdout.write('wrote docker-compose.yml\n');
