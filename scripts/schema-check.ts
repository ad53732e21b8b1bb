// npm run schema:check: checks the proposed subgraph schemas against a base
// (the merge base with main by default), offline, the way `rover subgraph
// check` does against GraphOS. Exit 0 passes, 1 fails, 2 could not run.
import { runSchemaCheck } from './schema-check-run.js';

const outcome = await runSchemaCheck(process.argv.slice(2));
process.stdout.write(outcome.stdout);
process.stderr.write(outcome.stderr);
process.exitCode = outcome.code;
