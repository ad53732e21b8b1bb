import type { Caller } from '../../../foundation/identity.js';
import { internalGet, type ServiceCredentials } from '../../../foundation/internal-calls.js';
import type { OrderDirectory, OrderFacts } from '../business/conversations.js';

/**
 * HttpOrderDirectory asks the order subgraph (/internal/order-facts) and the
 * catalog subgraph (/internal/provider-skills) what chat must know about an
 * order and a provider. Chat never reads their databases.
 */
export class HttpOrderDirectory implements OrderDirectory {
  constructor(
    private readonly orderUrl: string,
    private readonly catalogUrl: string,
    private readonly timeoutMs: number,
    private readonly credentials: ServiceCredentials,
  ) {}

  async orderFacts(orderId: string, caller: Caller): Promise<OrderFacts | null> {
    const url = new URL('/internal/order-facts', this.orderUrl);
    url.searchParams.set('ids', orderId);
    const { orders } = await internalGet<{ orders: OrderFacts[] }>(url, caller, this.timeoutMs, this.credentials);
    return orders[0] ?? null;
  }

  async providerSkills(providerId: string, caller: Caller): Promise<readonly string[]> {
    const url = new URL('/internal/provider-skills', this.catalogUrl);
    url.searchParams.set('providerIds', providerId);
    const { skills } = await internalGet<{ skills: { serviceId: string }[] }>(url, caller, this.timeoutMs, this.credentials);
    return skills.map((k) => k.serviceId);
  }
}
