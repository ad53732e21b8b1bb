import { DEFAULT_PORTS, SUBGRAPH_NAMES, type SubgraphName } from '../contracts/services.js';

/** SubgraphEntry is one subgraph of the supergraph: its name, default port, and where its schema is built. */
export interface SubgraphEntry {
  name: SubgraphName;
  port: number;
  /** schemaModule, relative to the repository's compiled root, exports `build` (the schema builder). */
  schemaModule: string;
  build: string;
}

/**
 * SUBGRAPHS lists the subgraphs in the order they start (contracts/services.ts),
 * each schema at `subgraphs/<name>/api/schema.js`, built by `build<Name>Schema`.
 */
export const SUBGRAPHS: readonly SubgraphEntry[] = SUBGRAPH_NAMES.map((name) => ({
  name,
  port: DEFAULT_PORTS[name].http,
  schemaModule: `subgraphs/${name}/api/schema.js`,
  build: `build${name[0]!.toUpperCase()}${name.slice(1)}Schema`,
}));

/** GATEWAY_PORT is the gateway's default port: the one endpoint. */
export const GATEWAY_PORT = DEFAULT_PORTS.gateway.http;

/**
 * ADMIN_PORTS are each process's default admin port (GET /metrics, /readyz,
 * /healthz), the `<SERVICE>_ADMIN_PORT` settings: compose, Prometheus and the
 * Kubernetes probes use them.
 */
export const ADMIN_PORTS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(DEFAULT_PORTS).map(([name, ports]) => [name, ports.admin]),
);
