import { z } from 'zod';

/** SubgraphName names a subgraph; the list is in the order they start. */
export const SubgraphName = z.enum(['user', 'catalog', 'order', 'chat', 'audit']);
export type SubgraphName = z.infer<typeof SubgraphName>;

/** SUBGRAPH_NAMES lists every subgraph, in start order. */
export const SUBGRAPH_NAMES: readonly SubgraphName[] = SubgraphName.options;

/** ProcessName is one of Fixup's processes: the gateway or a subgraph. */
export type ProcessName = 'gateway' | SubgraphName;

/**
 * DEFAULT_PORTS are each process's default ports: `http` serves its API
 * (`<SERVICE>_HTTP_PORT`), `admin` its metrics and probes. The one place the
 * subgraph list and its ports are written: the services' settings, `npm start`,
 * rover.yaml, docker compose and Kubernetes are made or checked from it.
 */
export const DEFAULT_PORTS: Readonly<Record<ProcessName, { http: number; admin: number }>> = {
  gateway: { http: 4000, admin: 9000 },
  user: { http: 4001, admin: 9001 },
  catalog: { http: 4002, admin: 9002 },
  order: { http: 4003, admin: 9003 },
  chat: { http: 4004, admin: 9004 },
  audit: { http: 4005, admin: 9005 },
};

/**
 * serviceUrl is a process's base URL at its default port on a host: localhost for `npm start`, the service name under
 * docker compose.
 */
export function serviceUrl(name: ProcessName, host = 'localhost'): string {
  return `http://${host}:${DEFAULT_PORTS[name].http}`;
}
