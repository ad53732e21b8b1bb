/** SUBGRAPH_NAMES are the subgraphs the command line reaches, each on its own database. */
export const SUBGRAPH_NAMES = ['user', 'catalog', 'order', 'chat', 'audit'] as const;

/** SubgraphName is one of SUBGRAPH_NAMES. */
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** OUTBOX_SUBGRAPHS are the subgraphs that record audit events in an outbox. */
export const OUTBOX_SUBGRAPHS: readonly SubgraphName[] = ['user', 'catalog', 'order', 'chat'];
