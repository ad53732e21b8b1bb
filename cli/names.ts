import type { SubgraphName } from '../contracts/services.js';

export { SUBGRAPH_NAMES, type SubgraphName } from '../contracts/services.js';

/** OUTBOX_SUBGRAPHS are the subgraphs that record audit events in an outbox. */
export const OUTBOX_SUBGRAPHS: readonly SubgraphName[] = ['user', 'catalog', 'order', 'chat'];
