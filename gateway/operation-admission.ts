import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GraphQLError, Kind, getOperationAST, parse, type DocumentNode, type OperationTypeNode } from 'graphql';
import { DocumentChecker, isRefusal } from './operation-limits.js';

/** OperationsMode says which documents run: `any` (within the limits) or only `registered` ones. */
export type OperationsMode = 'any' | 'registered';

/** RegisteredOperation is one entry of the frontends' persisted query manifest, parsed once at start. */
export interface RegisteredOperation {
  id: string;
  name: string;
  body: string;
  document: DocumentNode;
}

/** sha256Hex is a document's id: the lowercase hex sha256 of its text. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * loadManifest reads a persisted query manifest (Apollo's format:
 * `{ format, version: 1, operations: [{ id, name, type, body }] }`) and checks
 * that each id is the sha256 of its body, so a tampered file fails at start.
 */
export function loadManifest(path: string): Map<string, RegisteredOperation> {
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as {
    format?: string;
    version?: number;
    operations?: { id: string; name: string; body: string }[];
  };
  if (
    manifest.format !== 'apollo-persisted-query-manifest' ||
    manifest.version !== 1 ||
    !Array.isArray(manifest.operations)
  ) {
    throw new Error(`${path} is not a version 1 apollo-persisted-query-manifest`);
  }
  const out = new Map<string, RegisteredOperation>();
  for (const op of manifest.operations) {
    if (sha256Hex(op.body) !== op.id) throw new Error(`${path}: the id of ${op.name} is not the sha256 of its body`);
    out.set(op.id, { id: op.id, name: op.name, body: op.body, document: parse(op.body) });
  }
  return out;
}

/**
 * GraphQLRequestFields are the parts of a GraphQL request (HTTP body or socket subscribe payload) that name the
 * document.
 */
export interface GraphQLRequestFields {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
  documentId?: unknown;
}

/** Admitted is a request that may run: its document text, parsed, and what it asks at the root. */
export interface Admitted {
  query: string;
  document: DocumentNode;
  operationType: OperationTypeNode | undefined;
  rootFields: string[];
  registered: boolean;
}

/** Refused is a request that will not run: the errors to send and the HTTP status they go with. */
export interface Refused {
  status: number;
  errors: GraphQLError[];
}

function coded(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/**
 * OperationAdmission decides, before anything is planned or fetched, whether
 * a request's document may run and which document it is: a registered
 * operation named by id (`extensions.persistedQuery.sha256Hash` or
 * `documentId: "sha256:<hex>"`) or sent in full; in `any` mode, an ad hoc
 * document within the limits, or one registered earlier by automatic
 * persisted queries (kept here, not in Apollo, so that every run of it is
 * measured with its own variables). In `registered` mode nothing else runs and
 * no client can register a document.
 */
export class OperationAdmission {
  private readonly byBody = new Map<string, RegisteredOperation>();
  private readonly automatic = new Map<string, string>();

  constructor(
    private readonly registered: Map<string, RegisteredOperation>,
    private readonly checker: DocumentChecker,
    private readonly mode: OperationsMode,
    private readonly automaticCacheSize = 1000,
  ) {
    for (const op of registered.values()) this.byBody.set(op.body, op);
  }

  /** admit resolves and checks one request. */
  admit(request: GraphQLRequestFields): Admitted | Refused {
    const variables =
      request.variables && typeof request.variables === 'object' ? (request.variables as Record<string, unknown>) : {};
    const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
    const query = typeof request.query === 'string' && request.query.length > 0 ? request.query : undefined;
    const id = this.idOf(request);
    if (id === 'malformed')
      return { status: 400, errors: [coded('documentId must be "sha256:<lowercase hex>"', 'BAD_REQUEST')] };
    if (id !== undefined) {
      const op = this.registered.get(id);
      if (op) return this.admitted(op.body, op.document, operationName, true);
      if (this.mode === 'registered')
        return { status: 200, errors: [coded('PersistedQueryNotFound', 'PERSISTED_QUERY_NOT_FOUND')] };
      if (query === undefined) {
        const known = this.automatic.get(id);
        if (known === undefined)
          return { status: 200, errors: [coded('PersistedQueryNotFound', 'PERSISTED_QUERY_NOT_FOUND')] };
        return this.adHoc(known, variables, operationName);
      }
      if (sha256Hex(query) !== id)
        return { status: 400, errors: [coded('provided sha does not match query', 'BAD_REQUEST')] };
      const result = this.adHoc(query, variables, operationName);
      if ('document' in result) this.remember(id, query);
      return result;
    }
    if (query === undefined)
      return {
        status: 400,
        errors: [coded('GraphQL operations must contain a non-empty `query` or a persisted query id', 'BAD_REQUEST')],
      };
    const op = this.byBody.get(query);
    if (op) return this.admitted(op.body, op.document, operationName, true);
    if (this.mode === 'registered')
      return {
        status: 400,
        errors: [
          coded(
            'Only registered operations run here: send a registered operation or its id',
            'OPERATION_NOT_REGISTERED',
          ),
        ],
      };
    return this.adHoc(query, variables, operationName);
  }

  /**
   * namesRegistered tells whether a request names a registered operation, by id or by its full text: one that runs
   * without being parsed or checked, so a caller held off for its refused documents may still send it.
   */
  namesRegistered(request: GraphQLRequestFields): boolean {
    const id = this.idOf(request);
    if (id === 'malformed') return false;
    if (id !== undefined) return this.registered.has(id);
    return typeof request.query === 'string' && this.byBody.has(request.query);
  }

  private idOf(request: GraphQLRequestFields): string | undefined | 'malformed' {
    if (request.documentId !== undefined) {
      const match = typeof request.documentId === 'string' ? /^sha256:([0-9a-f]{64})$/.exec(request.documentId) : null;
      return match ? match[1] : 'malformed';
    }
    const pq = (request.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)
      ?.persistedQuery;
    if (pq === undefined) return undefined;
    if (pq?.version !== 1 || typeof pq.sha256Hash !== 'string' || !/^[0-9a-f]{64}$/.test(pq.sha256Hash))
      return 'malformed';
    return pq.sha256Hash;
  }

  private adHoc(
    query: string,
    variables: Record<string, unknown>,
    operationName: string | undefined,
  ): Admitted | Refused {
    const result = this.checker.check(query, variables);
    if (isRefusal(result)) return { status: 400, errors: result.errors };
    return this.admitted(query, result.document, operationName, false);
  }

  private admitted(
    query: string,
    document: DocumentNode,
    operationName: string | undefined,
    registered: boolean,
  ): Admitted {
    const operation = getOperationAST(document, operationName);
    const rootFields = operation
      ? operation.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []))
      : [];
    return { query, document, operationType: operation?.operation, rootFields, registered };
  }

  private remember(id: string, query: string): void {
    if (this.automatic.has(id)) return;
    if (this.automatic.size >= this.automaticCacheSize) this.automatic.delete(this.automatic.keys().next().value!);
    this.automatic.set(id, query);
  }
}

/**
 * countsAsRefusal tells whether a refusal counts against the caller's refusals bucket: every refused document does,
 * except an unknown persisted-query id, which is how automatic persisted queries ask for the full text.
 */
export function countsAsRefusal(errors: readonly GraphQLError[]): boolean {
  return errors.some((e) => e.extensions.code !== 'PERSISTED_QUERY_NOT_FOUND');
}

/** isRefused tells a refusal from an admitted request. */
export function isRefused(result: Admitted | Refused): result is Refused {
  return 'errors' in result;
}
