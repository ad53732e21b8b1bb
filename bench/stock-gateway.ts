// node dist/bench/stock-gateway.js --supergraph-path=<file> [--port=4100]
// Stock @apollo/gateway in plain @apollo/server (same versions as Fixup's,
// nothing added): the baseline npm run bench:gateway measures Fixup's gateway
// against. It serves POST /graphql and prints "ready" once it listens.
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { z } from 'zod';
import { loadSettings, portSchema, setting } from '../foundation/service/config.js';

const settings = loadSettings(
  {
    supergraphPath: setting({
      env: 'STOCK_GATEWAY_SUPERGRAPH_PATH',
      doc: 'the composed supergraph, with the subgraph URLs in it',
      schema: z.string().min(1),
    }),
    port: setting({
      env: 'STOCK_GATEWAY_HTTP_PORT',
      doc: 'port to listen on (127.0.0.1)',
      schema: portSchema,
      fallback: '4100',
    }),
  },
  process.argv.slice(2),
  process.env,
  'Stock @apollo/gateway for benchmarks',
);
// Anonymous usage reporting is a network call at start, not part of what is measured.
process.env.APOLLO_TELEMETRY_DISABLED = 'true';
const server = new ApolloServer({
  gateway: new ApolloGateway({ supergraphSdl: readFileSync(settings.supergraphPath, 'utf8') }),
});
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: settings.port } });
process.stdout.write(`ready ${url}\n`);
