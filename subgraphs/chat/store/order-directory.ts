import type { Caller } from '../../../contracts/caller.js';
import { orderFactsRoute, providerSkillsRoute, type OrderFacts } from '../../../contracts/internal-routes.js';
import { internalGet, type InternalCall } from '../../../foundation/http/internal-calls.js';
import type { OrderDirectory } from '../business/conversations.js';

/**
 * HttpOrderDirectory asks the order subgraph (/internal/order-facts) and the
 * catalog subgraph (/internal/provider-skills) what chat must know about an
 * order and a provider. Chat never reads their databases.
 */
export class HttpOrderDirectory implements OrderDirectory {
  constructor(
    private readonly orderUrl: string,
    private readonly catalogUrl: string,
    private readonly call: InternalCall,
  ) {}

  async orderFacts(orderId: string, caller: Caller): Promise<OrderFacts | null> {
    const { orders } = await internalGet(this.orderUrl, orderFactsRoute, { ids: orderId }, caller, this.call);
    return orders[0] ?? null;
  }

  async providerSkills(providerId: string, caller: Caller): Promise<readonly string[]> {
    const { skills } = await internalGet(
      this.catalogUrl,
      providerSkillsRoute,
      { providerIds: providerId },
      caller,
      this.call,
    );
    return skills.map((k) => k.serviceId);
  }
}
