import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditEventSchema } from './audit.js';
import { gatewayClaimsSchema, isSignedIn, rolesSchema } from './caller.js';
import { encodeMessageWakeup, messageWakeupSchema } from './chat-events.js';
import { FEED_FOLLOWERS, formatFeedPositions, MAX_FEED_POSITIONS_HEADER, parseFeedPositions } from './feeds.js';
import { auditIngestRoute, idListSchema, MAX_INTERNAL_IDS, orderFactsRoute } from './internal-routes.js';
import { DEFAULT_PORTS, SUBGRAPH_NAMES } from './services.js';

const ID = '0b6a2f4e-52a6-4d0b-9a5e-3c9d2f1e8a7b';

describe('contracts', () => {
  it("reads roles from outside keeping only the Role enum's, and a caller with a viewer is signed in", () => {
    assert.deepEqual(rolesSchema.parse(['ADMIN', 'admin', 'ROOT', 3, 'CUSTOMER']), ['ADMIN', 'CUSTOMER']);
    assert.deepEqual(rolesSchema.parse('ADMIN'), []);
    const claims = gatewayClaimsSchema.parse({ sub: 'u', roles: ['PROVIDER'], sid: 7, ip: '192.0.2.1' });
    assert.deepEqual(
      [claims.sub, claims.roles, claims.sid, claims.ip, claims.ua],
      ['u', ['PROVIDER'], undefined, '192.0.2.1', undefined],
    );
    assert.deepEqual(gatewayClaimsSchema.parse({}).roles, []);
    const base = { ip: null, userAgent: null, requestId: 'r' };
    assert.equal(isSignedIn({ ...base, viewer: null }), false);
    assert.equal(isSignedIn({ ...base, viewer: { id: 'u', roles: [], sessionId: null } }), true);
  });

  it('reads an id list of 1 to MAX_INTERNAL_IDS ids from a query parameter', () => {
    assert.deepEqual(idListSchema.parse(`${ID},${ID}`), [ID, ID]);
    assert.equal(idListSchema.safeParse('').success, false);
    assert.equal(idListSchema.safeParse('not-an-id').success, false);
    assert.equal(
      idListSchema.safeParse(
        Array(MAX_INTERNAL_IDS + 1)
          .fill(ID)
          .join(','),
      ).success,
      false,
    );
  });

  it('holds both ends of a route to one reply: order facts have no field the contract does not list', () => {
    const reply = {
      orders: [
        { id: ID, customerId: ID, status: 'OPEN', serviceId: ID, offerProviderIds: [], acceptedProviderId: null },
      ],
    };
    assert.deepEqual(Object.keys(orderFactsRoute.reply.parse(reply).orders[0]!).sort(), [
      'customerId',
      'id',
      'offerProviderIds',
      'serviceId',
      'status',
    ]);
    assert.equal(orderFactsRoute.reply.safeParse({ orders: [{ ...reply.orders[0], status: 'LOST' }] }).success, false);
  });

  it('checks audit events at the ingest boundary', () => {
    const event = {
      id: ID,
      action: 'user.login',
      occurredAt: '2026-01-01T00:00:00.000Z',
      subgraph: 'user',
      actorId: ID,
      targetType: 'user',
      targetId: ID,
      ip: null,
      userAgent: null,
      traceId: null,
      metadata: {},
    };
    assert.equal(auditEventSchema.safeParse(event).success, true);
    assert.equal(auditEventSchema.safeParse({ ...event, occurredAt: 'yesterday' }).success, false);
    assert.equal(auditIngestRoute.request.safeParse({ events: Array(1001).fill(event) }).success, false);
  });

  it('round-trips a chat wake-up through its text form', () => {
    const wakeup = { conversationId: ID, position: 42 };
    assert.deepEqual(messageWakeupSchema.parse(encodeMessageWakeup(wakeup)), wakeup);
    assert.equal(messageWakeupSchema.safeParse(`${ID}:x`).success, false);
  });

  it("writes and reads the feed positions header, ignoring what does not fit and names the followers don't know", () => {
    assert.equal(formatFeedPositions({ catalog: 42, user: null }), 'catalog=42');
    assert.equal(formatFeedPositions({ catalog: null }), undefined);
    assert.deepEqual({ ...parseFeedPositions('catalog=42') }, { catalog: 42 });
    assert.deepEqual({ ...parseFeedPositions('catalog=42, user=7') }, { catalog: 42, user: 7 });
    assert.deepEqual({ ...parseFeedPositions('catalog=-1,user=x,=3,catalog') }, {});
    assert.equal(parseFeedPositions(undefined), undefined);
    assert.equal(parseFeedPositions(['catalog=1', 'catalog=2']), undefined);
    assert.equal(parseFeedPositions(`catalog=1,${'x'.repeat(MAX_FEED_POSITIONS_HEADER)}`), undefined);
    assert.equal(parseFeedPositions('constructor=1')?.constructor, 1, 'a plain record: no prototype to collide with');
    for (const owners of Object.values(FEED_FOLLOWERS))
      for (const owner of owners) assert.ok(SUBGRAPH_NAMES.includes(owner as (typeof SUBGRAPH_NAMES)[number]));
  });

  it('gives every process distinct ports', () => {
    const ports = Object.values(DEFAULT_PORTS).flatMap((p) => [p.http, p.admin]);
    assert.equal(new Set(ports).size, ports.length);
    assert.deepEqual(Object.keys(DEFAULT_PORTS).sort(), ['gateway', ...SUBGRAPH_NAMES].sort());
  });
});
