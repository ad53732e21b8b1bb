import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLScalarType,
  parse,
  typeFromAST,
  type GraphQLInputType,
  type OperationDefinitionNode,
} from 'graphql';
import { startTestStack, type GraphQLResponse, type Session, type TestStack } from './harness.js';
import { CLIENT_EXTENSIONS, ErrorCode } from '../contracts/errors.js';

/**
 * FUZZ_RUNS and FUZZ_SEED: CI runs a fixed seed with a run count that fits in
 * `npm test`; set FIXUP_FUZZ_RUNS (and FIXUP_FUZZ_SEED) for long runs.
 */
const FUZZ_RUNS = Number(process.env.FIXUP_FUZZ_RUNS ?? 200);
const FUZZ_SEED = Number(process.env.FIXUP_FUZZ_SEED ?? 20261201);

/**
 * CONTRACT_CODES are the error codes a client may ever see (contracts/errors.ts) but those fuzzing must never get:
 * INTERNAL_SERVER_ERROR, and the ones of a subgraph down or of requests the fuzzer does not send.
 */
const NEVER_FROM_FUZZING: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INTERNAL_SERVER_ERROR',
  'SERVICE_UNAVAILABLE',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);
const CONTRACT_CODES: ReadonlySet<string> = new Set(ErrorCode.options.filter((code) => !NEVER_FROM_FUZZING.has(code)));
const CONTRACT_EXTENSIONS: ReadonlySet<string> = new Set(CLIENT_EXTENSIONS);

const root = new URL('../../schema/', import.meta.url);
const schema = buildSchema(readFileSync(new URL('supergraph.graphql', root), 'utf8'), { assumeValidSDL: true });
const files = readdirSync(new URL('operations/', root)).filter((f) => f.endsWith('.graphql'));
/** OPERATIONS are every registered query and mutation, with the document that holds it. */
const OPERATIONS = files.flatMap((file) => {
  const document = readFileSync(new URL(`operations/${file}`, root), 'utf8');
  return parse(document)
    .definitions.filter(
      (d): d is OperationDefinitionNode =>
        d.kind === 'OperationDefinition' && d.operation !== 'subscription' && !!d.name,
    )
    .map((op) => ({ document, name: op.name!.value, variables: op.variableDefinitions ?? [] }));
});

/** hostileString is text as an attacker sends it: unicode, control characters, empty, huge, injection-shaped. */
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\u202e',
    '\ud800',
    "'; DROP TABLE users; --",
    '{"$ne":null}',
    '../../etc/passwd',
    '%00',
    'EUR',
    'a@b.co',
  ),
  fc.string({ unit: fc.constantFrom('\u0000', '\u0007', '\n', '\r', '\t', '\u001b', '\u007f'), maxLength: 30 }),
  fc.integer({ min: 1000, max: 120_000 }).map((n) => 'x'.repeat(n)),
  fc.emailAddress(),
);

describe('fuzzing every registered operation through the gateway', () => {
  let t: TestStack;
  const sessions: (Session | null)[] = [null];
  const ids: string[] = [];

  before(async () => {
    t = await startTestStack();
    const admin = await t.login(t.admin.email, t.admin.password);
    const customer = await t.register('CUSTOMER', 'Fuzz customer');
    const provider = await t.register('PROVIDER', 'Fuzz provider');
    sessions.push(admin, customer, provider);
    const [service] = await t.sql('catalog', `SELECT id, category_id FROM services LIMIT 1`);
    await t.gql(
      `mutation($s: ID!) { addSkill(serviceId: $s) { id } }`,
      { s: service.id },
      { token: provider.accessToken },
    );
    const order = (
      await t.gql(
        `mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }`,
        { i: { serviceId: service.id, description: 'fuzz' } },
        { token: customer.accessToken },
      )
    ).data!.createOrder;
    const offer = (
      await t.gql(
        `mutation($i: SubmitOfferInput!) { submitOffer(input: $i) { id } }`,
        { i: { orderId: order.id, priceCents: 100, currency: 'EUR' } },
        { token: provider.accessToken },
      )
    ).data!.submitOffer;
    ids.push(
      admin.id,
      customer.id,
      provider.id,
      service.id,
      service.category_id,
      order.id,
      offer.id,
      '00000000-0000-4000-8000-000000000000',
    );
  });
  after(() => t?.stop());

  const value = (type: GraphQLInputType): fc.Arbitrary<unknown> => {
    if (type instanceof GraphQLNonNull)
      return fc.oneof({ weight: 20, arbitrary: value(type.ofType) }, { weight: 1, arbitrary: fc.constant(null) });
    if (type instanceof GraphQLList)
      return fc.oneof(fc.array(value(type.ofType), { maxLength: 3 }), value(type.ofType));
    const named = getNamedType(type);
    const maybe = (a: fc.Arbitrary<unknown>) =>
      fc.oneof({ weight: 8, arbitrary: a }, { weight: 1, arbitrary: fc.constant(null) });
    if (named instanceof GraphQLEnumType)
      return maybe(
        fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...named.getValues().map((v) => v.name)) }, hostileString),
      );
    if (named instanceof GraphQLInputObjectType) {
      const fields = named.getFields();
      return maybe(
        fc.record(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, value(f.type)])), { requiredKeys: [] }),
      );
    }
    const scalar = (named as GraphQLScalarType).name;
    switch (scalar) {
      case 'Int':
        return maybe(
          fc.oneof(
            fc.integer(),
            fc.integer({ min: -5, max: 120 }),
            fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1e300, 0.5, -0, '12', '1.5', 'NaN'),
          ),
        );
      case 'Float':
        return maybe(fc.oneof(fc.double(), fc.constantFrom('1e309', 'x')));
      case 'Boolean':
        return maybe(fc.oneof(fc.boolean(), fc.constantFrom('true', 0)));
      case 'ID':
        return maybe(
          fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids) }, fc.uuid(), hostileString, fc.integer()),
        );
      case 'DateTime':
        return maybe(
          fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.constantFrom('2026-13-45T99:99:99Z', '0000-00-00', '+275760-09-13T00:00:00.001Z'),
            hostileString,
          ),
        );
      case 'JSONObject':
        return maybe(fc.jsonValue({ maxDepth: 3 }));
      default:
        return maybe(hostileString);
    }
  };

  const request = fc.constantFrom(...OPERATIONS).chain((op) =>
    fc.record({
      op: fc.constant(op),
      who: fc.integer({ min: 0, max: 3 }),
      variables: fc.record(
        Object.fromEntries(
          op.variables.map((v) => [
            v.variable.name.value,
            value(typeFromAST(schema, v.type as never) as GraphQLInputType),
          ]),
        ),
        { requiredKeys: [] },
      ),
      ip: fc.ipV4(),
    }),
  );

  it('never answers INTERNAL_SERVER_ERROR; every refusal carries a contract code and only contract extensions; no state is half-written; no service restarts', async () => {
    const pids = t.stack.services.map((s) => s.pid);
    await fc.assert(
      fc.asyncProperty(request, async ({ op, who, variables, ip }) => {
        const session = sessions[who];
        const res = await fetch(t.stack.endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-forwarded-for': ip,
            ...(session ? { authorization: `Bearer ${session.accessToken}` } : {}),
          },
          body: JSON.stringify({ query: op.document, operationName: op.name, variables }),
        });
        assert.ok(res.status < 500, `${op.name}: HTTP ${res.status}`);
        const body = (await res.json()) as GraphQLResponse;
        for (const error of body.errors ?? []) {
          const code = error.extensions?.code;
          assert.ok(CONTRACT_CODES.has(code), `${op.name}: ${code} ${error.message}`);
          for (const key of Object.keys(error.extensions ?? {}))
            assert.ok(CONTRACT_EXTENSIONS.has(key), `${op.name}: extension ${key}`);
        }
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED, endOnFailure: true },
    );

    // Invariants of the data after the run: the workflow's rules hold whatever was sent.
    assert.deepEqual(
      await t.sql(
        'order',
        `SELECT id FROM orders WHERE (status = 'ACCEPTED' OR status = 'COMPLETED') <> (accepted_offer_id IS NOT NULL) AND status <> 'CANCELLED'`,
      ),
      [],
    );
    assert.deepEqual(
      await t.sql(
        'order',
        `SELECT order_id FROM offers WHERE status = 'ACCEPTED' GROUP BY order_id HAVING count(*) > 1`,
      ),
      [],
    );
    assert.deepEqual(
      await t.sql(
        'order',
        `SELECT order_id, provider_id FROM offers GROUP BY order_id, provider_id HAVING count(*) > 3`,
      ),
      [],
    );
    assert.deepEqual(
      await t.sql(
        'order',
        `SELECT o.id FROM orders o JOIN offers f ON f.order_id = o.id WHERE o.status IN ('COMPLETED', 'CANCELLED') AND f.status = 'PENDING'`,
      ),
      [],
    );
    assert.deepEqual(
      await t.sql('user', `SELECT id FROM users WHERE length(email) > 254 OR email <> lower(btrim(email))`),
      [],
    );
    assert.deepEqual(
      await t.sql('chat', `SELECT id FROM messages WHERE length(btrim(body)) NOT BETWEEN 1 AND 4000`),
      [],
    );
    for (const pid of pids) assert.doesNotThrow(() => process.kill(pid, 0), `process ${pid} is still running`);
    for (const service of t.stack.services)
      assert.equal((await fetch(new URL('/healthz', service.url))).status, 200, service.name);
  });
});
