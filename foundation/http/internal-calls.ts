import { context, propagation } from '@opentelemetry/api';
import { REQUEST_ID_HEADER } from './server.js';
import { GATEWAY_TOKEN_HEADER } from '../auth/identity.js';
import type { Caller } from '../../contracts/caller.js';

/** InternalCallError says another subgraph's internal route failed; it is unexpected for clients. */
export class InternalCallError extends Error {}

/**
 * internalGet calls another subgraph's internal route on behalf of the caller:
 * it passes on the gateway's token (so the callee knows the call comes from
 * inside), the request id and the trace context, and bounds the wait.
 */
export async function internalGet<T>(url: URL, caller: Caller, timeoutMs: number): Promise<T> {
  if (!caller.gatewayToken) throw new InternalCallError('no gateway token to pass on');
  const headers: Record<string, string> = { [GATEWAY_TOKEN_HEADER]: caller.gatewayToken, [REQUEST_ID_HEADER]: caller.requestId, accept: 'application/json' };
  propagation.inject(context.active(), headers);
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new InternalCallError(`${url.pathname} answered HTTP ${res.status}`);
  return (await res.json()) as T;
}
