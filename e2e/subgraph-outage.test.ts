import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestStack, type GraphQLResponse, type Session, type TestStack } from './harness.js';

const ME_AND_ORDER = `query MeAndOrder($id: ID!) { me { id displayName } order(id: $id) { id status } }`;

/**
 * assertUnavailable checks the answer a frontend gets when the order subgraph cannot answer: its field null, the rest
 * standing, one clean error.
 */
function assertUnavailable(res: GraphQLResponse, customer: Session, orderUrl: string): void {
  assert.equal(res.status, 200);
  assert.equal(res.data?.me?.id, customer.id, 'the fields of the subgraphs that answer stand');
  assert.equal(res.data?.order, null, "the down subgraph's field is null");
  assert.equal(res.errors?.length, 1, JSON.stringify(res.errors));
  const [error] = res.errors!;
  assert.deepEqual(error!.extensions, { code: 'SERVICE_UNAVAILABLE' });
  const port = new URL(orderUrl).port;
  assert.ok(
    !error!.message.includes(port) && !/order|localhost|127\.0\.0\.1|http/i.test(error!.message),
    `the error reveals nothing internal: ${error!.message}`,
  );
}

describe('a subgraph that is down or too slow', () => {
  let t: TestStack;
  let customer: Session;
  let orderId: string;
  let orderUrl: string;

  before(async () => {
    // The operation deadline is shorter than the per-fetch timeout, so a hung subgraph is cut by the deadline.
    t = await startTestStack({ GATEWAY_SUBGRAPH_TIMEOUT_MS: '3000', GATEWAY_OPERATION_TIMEOUT_MS: '1500' });
    customer = await t.register('CUSTOMER');
    const services = await t.gql(`{ services { id } }`);
    const serviceId = services.data!.services[0].id as string;
    const created = await t.gql(
      `mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }`,
      { i: { serviceId, description: 'The boiler is cold' } },
      { token: customer.accessToken },
    );
    assert.equal(created.errors, undefined, JSON.stringify(created.errors));
    orderId = created.data!.createOrder.id;
    orderUrl = t.stack.services.find((s) => s.name === 'order')!.url;
  });
  after(() => t?.stop());

  it('answers the whole operation while every subgraph is up', async () => {
    const res = await t.gql(ME_AND_ORDER, { id: orderId }, { token: customer.accessToken });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.equal(res.data!.order.id, orderId);
  });

  it('gives SERVICE_UNAVAILABLE on the fields of a subgraph that stopped answering, once the deadline passes, and recovers when it answers again', async () => {
    const pid = t.stack.services.find((s) => s.name === 'order')!.pid;
    // SIGSTOP freezes the process: connections stay open and nothing answers, as with a hung server.
    process.kill(pid, 'SIGSTOP');
    let res: GraphQLResponse;
    try {
      res = await t.gql(ME_AND_ORDER, { id: orderId }, { token: customer.accessToken });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assertUnavailable(res, customer, orderUrl);
    const again = await t.gql(ME_AND_ORDER, { id: orderId }, { token: customer.accessToken });
    assert.equal(again.errors, undefined, JSON.stringify(again.errors));
    assert.equal(again.data!.order.id, orderId);
  });

  it("answers the services' names the gateway keeps while catalog is down, and SERVICE_UNAVAILABLE for the others", async () => {
    const ORDER_SERVICE = `query($id: ID!) { order(id: $id) { id service { id name } } }`;
    const services = (await t.gql(`{ services { id name } }`)).data!.services as { id: string; name: string }[];
    const place = async (service: { id: string }) => {
      const created = await t.gql(
        `mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }`,
        { i: { serviceId: service.id, description: 'Kept names' } },
        { token: customer.accessToken },
      );
      assert.equal(created.errors, undefined, JSON.stringify(created.errors));
      return created.data!.createOrder.id as string;
    };
    const [seen, unseen] = [services.at(-1)!, services.at(-2)!];
    const [seenOrder, unseenOrder] = [await place(seen), await place(unseen)];
    // Twice: an operation's first request is the one that plans it, on @apollo/gateway's own executor.
    for (let i = 0; i < 2; i++) {
      const first = await t.gql(ORDER_SERVICE, { id: seenOrder }, { token: customer.accessToken });
      assert.equal(first.data!.order.service.name, seen.name, JSON.stringify(first.errors));
    }

    await t.stack.stopService('catalog');
    try {
      const kept = await t.gql(ORDER_SERVICE, { id: seenOrder }, { token: customer.accessToken });
      assert.equal(kept.errors, undefined, JSON.stringify(kept.errors));
      assert.deepEqual(kept.data!.order.service, { id: seen.id, name: seen.name });
      const notKept = await t.gql(ORDER_SERVICE, { id: unseenOrder }, { token: customer.accessToken });
      assert.deepEqual(
        notKept.errors?.map((e) => e.extensions?.code),
        ['SERVICE_UNAVAILABLE'],
      );
    } finally {
      await t.stack.startService('catalog');
    }
    const back = await t.gql(ORDER_SERVICE, { id: unseenOrder }, { token: customer.accessToken });
    assert.equal(back.data!.order.service.name, unseen.name, JSON.stringify(back.errors));
  });

  it('gives SERVICE_UNAVAILABLE on the fields of a stopped subgraph, and answers in full once it is back', async () => {
    await t.stack.stopService('order');
    assertUnavailable(await t.gql(ME_AND_ORDER, { id: orderId }, { token: customer.accessToken }), customer, orderUrl);
    await t.stack.startService('order');
    const res = await t.gql(ME_AND_ORDER, { id: orderId }, { token: customer.accessToken });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.equal(res.data!.order.id, orderId);
  });
});
