import type { GraphQLDataSource } from '@apollo/gateway';

/** DataSourceResponse is a subgraph's answer as @apollo/gateway merges it. */
export type DataSourceResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

/** FetchRequest is what a subgraph fetch sends: the parts of the request @apollo/gateway gives a data source. */
export interface FetchRequest {
  query?: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  extensions?: Record<string, unknown>;
}

/**
 * DistinctRepresentations is an `_entities` fetch's representations asked for once each: `texts` are the distinct
 * ones as JSON, in the order first met; `places[i]` is where the i-th representation asked for went.
 */
export interface DistinctRepresentations {
  texts: string[];
  places: number[];
}

/**
 * distinctRepresentations names each distinct representation once. @apollo/gateway asks one representation per
 * entity where the entity occurs in the answer (the heavy benchmark query asks the same 10 products 640 times in one
 * fetch); a subgraph answers the same representation the same way within one fetch, so each distinct one is sent
 * once and its answer is given back at every place that asked for it (as Apollo Router and Hive Gateway do).
 */
export function distinctRepresentations(representations: readonly unknown[]): DistinctRepresentations {
  const index = new Map<string, number>();
  const texts: string[] = [];
  const places = new Array<number>(representations.length);
  for (let i = 0; i < representations.length; i++) {
    const text = JSON.stringify(representations[i]) ?? 'null';
    let at = index.get(text);
    if (at === undefined) {
      index.set(text, (at = texts.length));
      texts.push(text);
    }
    places[i] = at;
  }
  return { texts, places };
}

/**
 * requestBody is the JSON a subgraph fetch posts; given the representations' texts (distinctRepresentations), its
 * `representations` variable is those, written as they are rather than serialized again.
 */
export function requestBody(request: FetchRequest, representationTexts?: readonly string[]): string {
  if (!representationTexts)
    return JSON.stringify({
      query: request.query,
      variables: request.variables,
      operationName: request.operationName,
      extensions: request.extensions,
    });
  const others = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of Object.entries(request.variables ?? {}))
    if (name !== 'representations') others[name] = value;
  const rest = JSON.stringify(others);
  const variables = `${rest.length > 2 ? `${rest.slice(0, -1)},` : '{'}"representations":[${representationTexts.join(',')}]}`;
  let body = `{"query":${JSON.stringify(request.query ?? '')},"variables":${variables}`;
  if (request.operationName !== undefined) body += `,"operationName":${JSON.stringify(request.operationName)}`;
  if (request.extensions !== undefined) body += `,"extensions":${JSON.stringify(request.extensions)}`;
  return `${body}}`;
}

/**
 * entitiesAt is the answer for the representations at `places` of a fetch whose representations were asked for as
 * one list: its entities in that order (the same entity object at each place that asked for it), and each error about
 * an entity once for every place that asked for it, its path naming that place. Given how many were asked (`asked`),
 * an error about an entity beyond them is kept as it is.
 */
export function entitiesAt(
  response: DataSourceResponse,
  places: readonly number[],
  asked?: number,
): DataSourceResponse {
  const entities = (response.data as { _entities?: unknown[] } | null | undefined)?._entities;
  let errors: NonNullable<DataSourceResponse['errors']>[number][] | undefined;
  if (response.errors) {
    errors = [];
    for (const error of response.errors) {
      const path = error.path;
      const at = path?.[1];
      // An error about an entity nothing was asked for (asked: how many were) stays as the subgraph gave it, as
      // @apollo/gateway keeps it.
      if (path?.[0] === '_entities' && typeof at === 'number' && (asked === undefined || (at >= 0 && at < asked))) {
        for (let i = 0; i < places.length; i++)
          if (places[i] === at) errors.push({ ...error, path: ['_entities', i, ...path.slice(2)] } as typeof error);
      } else {
        errors.push(error);
      }
    }
  }
  return {
    ...response,
    data: Array.isArray(entities)
      ? { ...response.data, _entities: places.map((at) => entities[at] ?? null) }
      : response.data,
    errors: errors && errors.length > 0 ? errors : undefined,
  };
}
