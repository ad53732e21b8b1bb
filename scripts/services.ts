/** SubgraphEntry is one subgraph of the supergraph: its name, default port, and where its schema is built. */
export interface SubgraphEntry {
  name: string;
  port: number;
  /** schemaModule, relative to the repository's compiled root, exports `build` (the schema builder). */
  schemaModule: string;
  build: string;
}

/** SUBGRAPHS lists the subgraphs in the order they start. */
export const SUBGRAPHS: readonly SubgraphEntry[] = [
  { name: 'user', port: 4001, schemaModule: 'subgraphs/user/api/schema.js', build: 'buildUserSchema' },
  { name: 'catalog', port: 4002, schemaModule: 'subgraphs/catalog/api/schema.js', build: 'buildCatalogSchema' },
  { name: 'order', port: 4003, schemaModule: 'subgraphs/order/api/schema.js', build: 'buildOrderSchema' },
  { name: 'chat', port: 4004, schemaModule: 'subgraphs/chat/api/schema.js', build: 'buildChatSchema' },
  { name: 'audit', port: 4005, schemaModule: 'subgraphs/audit/api/schema.js', build: 'buildAuditSchema' },
];

/** GATEWAY_PORT is the gateway's default port: the one endpoint. */
export const GATEWAY_PORT = 4000;

/**
 * ADMIN_PORTS are each process's default admin port (GET /metrics, /readyz,
 * /healthz), the `<SERVICE>_ADMIN_PORT` settings: compose, Prometheus and the
 * Kubernetes probes use them.
 */
export const ADMIN_PORTS: Readonly<Record<string, number>> = { gateway: 9000, user: 9001, catalog: 9002, order: 9003, chat: 9004, audit: 9005 };
