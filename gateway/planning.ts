import { createHash } from 'node:crypto';
import type { ApolloGateway } from '@apollo/gateway';
import { operationFromDocument, type Operation, type Schema } from '@apollo/federation-internals';
import { Kind } from 'graphql';
import type { RegisteredOperation } from './operation-admission.js';

/** GatewayPlanning is the part of @apollo/gateway's state that plans operations and keeps their plans. */
interface GatewayPlanning {
  apiSchema?: Schema;
  queryPlanner?: { buildQueryPlan(operation: Operation, options?: object): unknown };
  queryPlanStore?: { set(key: string, plan: unknown): Promise<void> };
  recursiveSelectionsLimitDisabled?: boolean;
  nonLocalSelectionsLimitDisabled?: boolean;
}

/**
 * planRegisteredOperations builds the query plan of every registered operation
 * once, at start, and stores it where @apollo/gateway looks for it (its plan
 * store, keyed as its executor keys it: the sha256 of the document, with the
 * operation name when one is sent), so that no frontend request pays for
 * planning. The document must be the manifest's body, byte for byte, as it is
 * when a frontend sends the operation by id. @apollo/gateway has no public
 * call for this: it reaches into the gateway's fields, which are checked and
 * reported missing rather than assumed. Returns how many operations were planned.
 */
export async function planRegisteredOperations(
  gateway: ApolloGateway,
  operations: Iterable<RegisteredOperation>,
): Promise<number> {
  const state = gateway as unknown as GatewayPlanning;
  const { apiSchema, queryPlanner, queryPlanStore } = state;
  if (!apiSchema || !queryPlanner || !queryPlanStore)
    throw new Error('this @apollo/gateway keeps its planner elsewhere: registered operations are planned on first use');
  let planned = 0;
  for (const op of operations) {
    const definition = op.document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    if (definition?.operation === 'subscription') continue;
    const operation = operationFromDocument(apiSchema, op.document, { operationName: op.name });
    const plan = queryPlanner.buildQueryPlan(operation, {
      recursiveSelectionsLimitDisabled: state.recursiveSelectionsLimitDisabled,
      nonLocalSelectionsLimitDisabled: state.nonLocalSelectionsLimitDisabled,
    });
    const queryHash = createHash('sha256').update(op.body).digest('hex');
    await queryPlanStore.set(queryHash, plan);
    await queryPlanStore.set(createHash('sha256').update(queryHash).update(op.name).digest('hex'), plan);
    planned++;
  }
  return planned;
}
