import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestStack, type Session, type TestStack } from './harness.js';

const AUDIT_EVENTS = `query AuditEvents($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id action occurredAt subgraph actor { id displayName } targetType targetId ip userAgent traceId metadata } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface AuditNode {
  id: string;
  action: string;
  occurredAt: string;
  subgraph: string;
  actor: { id: string; displayName: string } | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  traceId: string | null;
  metadata: Record<string, unknown>;
}

describe('audit: every action recorded exactly once, even through outages', () => {
  let t: TestStack;
  let admin: Session;

  /**
   * as sends an operation from a fixed address and user agent, inside a trace of its own, and returns that trace id.
   */
  const as = async (
    query: string,
    variables: Record<string, unknown> | undefined,
    token: string | undefined,
    ip: string,
  ) => {
    const traceId = randomBytes(16).toString('hex');
    const res = await t.gql(query, variables, {
      token,
      headers: {
        'x-forwarded-for': ip,
        'user-agent': `audit-test/${ip}`,
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
    });
    return { res, traceId };
  };

  const events = async (filter: Record<string, unknown>): Promise<AuditNode[]> => {
    const res = await t.gql(AUDIT_EVENTS, { filter, first: 100 }, { token: admin.accessToken });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    return res.data!.auditEvents.edges.map((e: { node: AuditNode }) => e.node);
  };

  const waitFor = async (filter: Record<string, unknown>, count: number, timeoutMs = 15_000): Promise<AuditNode[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await events(filter);
      if (found.length >= count || Date.now() > deadline) return found;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  before(async () => {
    t = await startTestStack({
      USER_OUTBOX_POLL_MS: '100',
      CATALOG_OUTBOX_POLL_MS: '100',
      ORDER_OUTBOX_POLL_MS: '100',
    });
    admin = await t.login(t.admin.email, t.admin.password);
  });
  after(() => t?.stop());

  it('records each action of the contract once, with actor, target, subgraph, IP, user agent and trace', async () => {
    const ip = '198.51.100.10';
    const checks: {
      action: string;
      traceId: string;
      actorId: string | null;
      targetId: string | null;
      subgraph: string;
    }[] = [];
    const note = (action: string, traceId: string, actorId: string | null, targetId: string | null, subgraph: string) =>
      checks.push({ action, traceId, actorId, targetId, subgraph });

    const email = `audited-${Date.now()}@example.com`;
    const reg = await as(
      `mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken user { id } } }`,
      { i: { email, password: 'a long enough password', displayName: 'Audrey', role: 'CUSTOMER' } },
      undefined,
      ip,
    );
    const user = reg.res.data!.register;
    note('user.registered', reg.traceId, user.user.id, user.user.id, 'user');
    const failed = await as(
      `mutation { login(email: "${email}", password: "wrong password!!") { accessToken } }`,
      undefined,
      undefined,
      ip,
    );
    note('auth.login_failed', failed.traceId, user.user.id, user.user.id, 'user');
    const login = await as(
      `mutation { login(email: "${email}", password: "a long enough password") { accessToken refreshToken } }`,
      undefined,
      undefined,
      ip,
    );
    note('auth.login_succeeded', login.traceId, user.user.id, user.user.id, 'user');
    const session = login.res.data!.login;
    await as(
      `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }`,
      { r: user.refreshToken },
      undefined,
      ip,
    );
    const reused = await as(
      `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }`,
      { r: user.refreshToken },
      undefined,
      ip,
    );
    note('auth.refresh_reused', reused.traceId, user.user.id, null, 'user');
    const logout = await as(
      `mutation($r: String!) { logout(refreshToken: $r) }`,
      { r: session.refreshToken },
      session.accessToken,
      ip,
    );
    note('auth.logout', logout.traceId, user.user.id, null, 'user');
    const again = await t.login(email, 'a long enough password');
    const changed = await as(
      `mutation { changePassword(currentPassword: "a long enough password", newPassword: "another long password") }`,
      undefined,
      again.accessToken,
      ip,
    );
    note('user.password_changed', changed.traceId, user.user.id, user.user.id, 'user');

    const mail = (path: string) => {
      for (let i = 0; i < 100; i++) {
        const files = readdirSync(t.stack.mailDir)
          .filter((f) => f.includes(email) && f.endsWith('.eml'))
          .sort();
        for (const f of files.reverse()) {
          const match = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(
            readFileSync(join(t.stack.mailDir, f), 'utf8')
              .replace(/=\r?\n/g, '')
              .replace(/=3D/g, '='),
          );
          if (match) return match[1]!;
        }
      }
      throw new Error('no mail');
    };
    await new Promise((r) => setTimeout(r, 300));
    const verified = await as(
      `mutation($t: String!) { verifyEmail(token: $t) { id } }`,
      { t: mail('/verify-email') },
      undefined,
      ip,
    );
    note('user.email_verified', verified.traceId, user.user.id, user.user.id, 'user');
    await as(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: email }, undefined, ip);
    await new Promise((r) => setTimeout(r, 300));
    const reset = await as(
      `mutation($t: String!) { resetPassword(token: $t, newPassword: "a reset password!!") }`,
      { t: mail('/reset-password') },
      undefined,
      ip,
    );
    note('user.password_reset', reset.traceId, user.user.id, user.user.id, 'user');

    const provider = await t.register('PROVIDER', 'Audited provider');
    const assigned = await as(
      `mutation($u: ID!) { assignRole(userId: $u, role: PROVIDER) { id } }`,
      { u: user.user.id },
      admin.accessToken,
      ip,
    );
    note('user.role_assigned', assigned.traceId, admin.id, user.user.id, 'user');
    const revoked = await as(
      `mutation($u: ID!) { revokeRole(userId: $u, role: PROVIDER) { id } }`,
      { u: user.user.id },
      admin.accessToken,
      ip,
    );
    note('user.role_revoked', revoked.traceId, admin.id, user.user.id, 'user');

    const category = await as(
      `mutation { createCategory(name: "Audited ${Date.now()}") { id } }`,
      undefined,
      admin.accessToken,
      ip,
    );
    note('catalog.category_created', category.traceId, admin.id, category.res.data!.createCategory.id, 'catalog');
    const service = await as(
      `mutation($i: CreateServiceInput!) { createService(input: $i) { id } }`,
      {
        i: {
          categoryId: category.res.data!.createCategory.id,
          name: 'Audited service',
          description: 'For the audit test',
        },
      },
      admin.accessToken,
      ip,
    );
    const serviceId = service.res.data!.createService.id;
    note('catalog.service_created', service.traceId, admin.id, serviceId, 'catalog');
    await t.gql(
      `mutation($s: ID!) { addSkill(serviceId: $s) { id } }`,
      { s: serviceId },
      { token: provider.accessToken },
    );

    const customer = await t.register('CUSTOMER');
    const order = await as(
      `mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }`,
      { i: { serviceId, description: 'Audit me' } },
      customer.accessToken,
      ip,
    );
    const orderId = order.res.data!.createOrder.id;
    note('order.created', order.traceId, customer.id, orderId, 'order');
    const submit = (token: string) =>
      as(
        `mutation($i: SubmitOfferInput!) { submitOffer(input: $i) { id } }`,
        { i: { orderId, priceCents: 1200, currency: 'EUR' } },
        token,
        ip,
      );
    const offered = await submit(provider.accessToken);
    const offerId = offered.res.data!.submitOffer.id;
    note('offer.submitted', offered.traceId, provider.id, offerId, 'order');
    const withdrawn = await as(
      `mutation($o: ID!) { withdrawOffer(offerId: $o) { id } }`,
      { o: offerId },
      provider.accessToken,
      ip,
    );
    note('offer.withdrawn', withdrawn.traceId, provider.id, offerId, 'order');
    const second = (await submit(provider.accessToken)).res.data!.submitOffer.id;
    const accepted = await as(
      `mutation($o: ID!) { acceptOffer(offerId: $o) { id } }`,
      { o: second },
      customer.accessToken,
      ip,
    );
    note('offer.accepted', accepted.traceId, customer.id, second, 'order');
    const completed = await as(
      `mutation($o: ID!) { completeOrder(orderId: $o) { id } }`,
      { o: orderId },
      customer.accessToken,
      ip,
    );
    note('order.completed', completed.traceId, customer.id, orderId, 'order');
    const other = (
      await t.gql(
        `mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }`,
        { i: { serviceId, description: 'Cancel me' } },
        { token: customer.accessToken },
      )
    ).data!.createOrder.id;
    const cancelled = await as(
      `mutation($o: ID!) { cancelOrder(orderId: $o) { id } }`,
      { o: other },
      customer.accessToken,
      ip,
    );
    note('order.cancelled', cancelled.traceId, customer.id, other, 'order');

    for (const check of checks) {
      const found = (await waitFor({ action: check.action }, 1)).filter((e) => e.traceId === check.traceId);
      assert.equal(found.length, 1, `${check.action}: exactly one event with its trace`);
      const event = found[0]!;
      assert.equal(event.actor?.id ?? null, check.actorId, `${check.action}: actor`);
      if (check.targetId) assert.equal(event.targetId, check.targetId, `${check.action}: target`);
      assert.equal(event.subgraph, check.subgraph, `${check.action}: subgraph`);
      assert.equal(event.ip, ip, `${check.action}: ip`);
      assert.equal(event.userAgent, `audit-test/${ip}`, `${check.action}: user agent`);
      assert.ok(
        !Object.keys(event.metadata).some((k) => /password|token|secret|hash/i.test(k)),
        `${check.action}: no secrets in metadata`,
      );
    }
    const actor = (await events({ action: 'user.role_assigned', targetId: user.user.id }))[0]!;
    assert.equal(actor.actor?.displayName, 'Admin', 'the actor is resolved through federation');
  });

  it("names the client's trace in every process's request line, with no span exporter (no context manager)", async () => {
    const { res, traceId } = await as('{ categories { id name } }', undefined, undefined, '198.51.100.77');
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    await new Promise((r) => setTimeout(r, 300));
    for (const service of ['gateway', 'catalog']) {
      const lines = readFileSync(join(t.stack.logDir, `${service}.log`), 'utf8')
        .split('\n')
        .filter((l) => l.includes(traceId))
        .map((l) => JSON.parse(l) as { msg: string; traceId?: string });
      assert.ok(
        lines.some((l) => l.msg === 'request' && l.traceId === traceId),
        `${service} logged the request under the client's trace`,
      );
    }
  });

  it('filters by actor, action, target and time, newest first, in pages', async () => {
    const all = await events({ actorId: admin.id });
    assert.ok(all.length >= 4);
    assert.ok(all.every((e) => e.actor?.id === admin.id));
    const times = all.map((e) => Date.parse(e.occurredAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    const page1 = await t.gql(AUDIT_EVENTS, { filter: { actorId: admin.id }, first: 2 }, { token: admin.accessToken });
    const page2 = await t.gql(
      AUDIT_EVENTS,
      { filter: { actorId: admin.id }, first: 2, after: page1.data!.auditEvents.pageInfo.endCursor },
      { token: admin.accessToken },
    );
    const ids = [...page1.data!.auditEvents.edges, ...page2.data!.auditEvents.edges].map(
      (e: { node: { id: string } }) => e.node.id,
    );
    assert.deepEqual(
      ids,
      all.slice(0, 4).map((e) => e.id),
    );
    const window = await events({
      from: all[all.length - 1]!.occurredAt,
      to: all[0]!.occurredAt,
      targetType: 'Category',
    });
    assert.ok(window.every((e) => e.targetType === 'Category'));
  });

  it('keeps events made while the audit subgraph is down, and delivers them once, in order', async () => {
    await t.stack.stopService('audit');
    const customer = await t.register('CUSTOMER');
    const [service] = await t.sql('catalog', `SELECT id FROM services WHERE name = 'Leak repair'`);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        (
          await t.gql(
            `mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }`,
            { i: { serviceId: service.id, description: `during outage ${i}` } },
            { token: customer.accessToken },
          )
        ).data!.createOrder.id,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
    const pending = await t.sql('order', `SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL`);
    assert.ok(pending[0].n >= 5, 'the events wait in the outbox');
    await t.stack.startService('audit');
    const found = await waitFor({ action: 'order.created', actorId: customer.id }, 5);
    assert.equal(found.length, 5);
    assert.deepEqual(found.map((e) => e.targetId).reverse(), made, 'in the order they happened');
  });

  it('loses nothing and doubles nothing when a relay crashes mid-way, or a batch is sent twice', async () => {
    await t.stack.stopService('audit');
    const names = [0, 1, 2].map((i) => `Crash ${Date.now()} ${i}`);
    for (const name of names)
      await t.gql(
        `mutation($n: String!) { createCategory(name: $n) { id } }`,
        { n: name },
        { token: admin.accessToken },
      );
    await t.stack.stopService('catalog', 'SIGKILL');
    await t.stack.startService('audit');
    await t.stack.startService('catalog');
    const found = (await waitFor({ action: 'catalog.category_created', actorId: admin.id }, 5)).filter((e) =>
      names.includes(String(e.metadata.name)),
    );
    assert.equal(found.length, 3);

    const secret = readFileSync(join(t.dataDir, 'secrets', 'audit-ingest.secret'), 'utf8').trim();
    const event = {
      id: randomUUID(),
      action: 'test.replayed',
      occurredAt: new Date().toISOString(),
      subgraph: 'test',
      actorId: null,
      targetType: null,
      targetId: null,
      ip: null,
      userAgent: null,
      traceId: null,
      metadata: {},
    };
    const audit = new URL('/internal/audit-events', t.stack.services.find((s) => s.name === 'audit')!.url);
    const send = () =>
      fetch(audit, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
        body: JSON.stringify({ events: [event] }),
      }).then((r) => r.json());
    assert.deepEqual(await send(), { received: 1, stored: 1 });
    assert.deepEqual(await send(), { received: 1, stored: 0 });
    assert.equal((await events({ action: 'test.replayed' })).length, 1);
    const forged = await fetch(audit, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
      body: JSON.stringify({ events: [event] }),
    });
    assert.equal(forged.status, 401);
  });
});
