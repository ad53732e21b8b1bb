import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, importJWK, type JWK } from 'jose';
import { GATEWAY_TOKEN_HEADER } from '../foundation/auth/identity.js';
import { generatePrivateJwk } from '../foundation/auth/tokens.js';
import { SESSION_SEQ_HEADER } from '../contracts/session-events.js';
import { startTestStack, waitForMail, type GraphQLResponse, type Session, type TestStack } from './harness.js';

const ME = `query Me { me { id email displayName roles emailVerified avatarUrl createdAt } }`;
const REFRESH = `mutation RefreshSession($refreshToken: String!) { refreshSession(refreshToken: $refreshToken) { accessToken refreshToken accessTokenExpiresAt } }`;
const LOGOUT = `mutation Logout($refreshToken: String!) { logout(refreshToken: $refreshToken) }`;
const ASSIGN = `mutation AssignRole($userId: ID!, $role: Role!) { assignRole(userId: $userId, role: $role) { id roles } }`;
const REVOKE = `mutation RevokeRole($userId: ID!, $role: Role!) { revokeRole(userId: $userId, role: $role) { id roles } }`;

function code(res: GraphQLResponse): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}

function linkIn(mail: string, path: string): URL {
  const unfolded = mail.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const match = new RegExp(`https?://\\S+${path}\\?token=[A-Za-z0-9_-]+`).exec(unfolded);
  assert.ok(match, `a ${path} link in the mail`);
  return new URL(match[0]);
}

describe('identity and access', () => {
  let t: TestStack;
  let admin: Session;
  let customer: Session;
  let provider: Session;
  let other: Session;
  let userJwk: JWK;

  before(async () => {
    t = await startTestStack({ USER_RATE_LIMIT_IP: '40' });
    admin = await t.login(t.admin.email, t.admin.password);
    customer = await t.register('CUSTOMER', 'Carla');
    provider = await t.register('PROVIDER', 'Piet');
    other = await t.register('CUSTOMER', 'Olga');
    userJwk = (JSON.parse(readFileSync(join(t.dataDir, 'keys', 'user-jwt.jwks.json'), 'utf8')) as { keys: JWK[] })
      .keys[0]!;
  });
  after(() => t?.stop());

  describe('accounts', () => {
    it('registers with a normalised, case-insensitively unique email', async () => {
      const email = `Mixed.Case-${Date.now()}@Example.COM`;
      const input = { email, password: 'a long enough password', displayName: '  Mia  ', role: 'PROVIDER' };
      const res = await t.gql(
        `mutation Register($input: RegisterInput!) { register(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id email displayName roles emailVerified } } }`,
        { input },
      );
      assert.equal(res.errors, undefined);
      const user = res.data!.register.user;
      assert.equal(user.email, email.toLowerCase());
      assert.equal(user.displayName, 'Mia');
      assert.deepEqual(user.roles, ['PROVIDER']);
      assert.equal(user.emailVerified, false);
      assert.ok(Date.parse(res.data!.register.accessTokenExpiresAt) > Date.now());
      const again = await t.gql(`mutation($input: RegisterInput!) { register(input: $input) { user { id } } }`, {
        input: { ...input, email: email.toUpperCase() },
      });
      assert.equal(code(again), 'CONFLICT');
    });

    it('refuses bad sign-up input, naming the field, and admin at sign-up', async () => {
      const base = {
        email: `x-${Date.now()}@example.com`,
        password: 'a long enough password',
        displayName: 'X',
        role: 'CUSTOMER',
      };
      for (const [change, field] of [
        [{ role: 'ADMIN' }, 'input.role'],
        [{ password: 'short' }, 'input.password'],
        [{ password: 'x'.repeat(257) }, 'input.password'],
        [{ email: 'not-an-email' }, 'input.email'],
        [{ displayName: '   ' }, 'input.displayName'],
      ] as const) {
        const res = await t.gql(`mutation($input: RegisterInput!) { register(input: $input) { user { id } } }`, {
          input: { ...base, ...change },
        });
        assert.equal(code(res), 'BAD_USER_INPUT', JSON.stringify(change));
        assert.equal(res.errors![0]!.extensions!.field, field);
      }
      const [{ n }] = await t.sql('user', `SELECT count(*)::int AS n FROM users WHERE email = $1`, [base.email]);
      assert.equal(n, 0, 'nothing half-written');
    });

    it('answers an unknown email and a wrong password the same way', async () => {
      const wrong = await t.gql(
        `mutation { login(email: "${customer.email}", password: "not the password") { accessToken } }`,
      );
      const unknown = await t.gql(
        `mutation { login(email: "nobody-${Date.now()}@example.com", password: "not the password") { accessToken } }`,
      );
      assert.equal(code(wrong), 'UNAUTHENTICATED');
      assert.deepEqual(
        unknown.errors?.map((e) => [e.message, e.extensions?.code]),
        wrong.errors?.map((e) => [e.message, e.extensions?.code]),
      );
    });

    it('updates the profile, checking the avatar URL', async () => {
      const ok = await t.gql(
        `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id displayName avatarUrl } }`,
        { input: { displayName: 'Carla C.', avatarUrl: 'https://img.example.com/c.png' } },
        { token: customer.accessToken },
      );
      assert.deepEqual(ok.data?.updateProfile, {
        id: customer.id,
        displayName: 'Carla C.',
        avatarUrl: 'https://img.example.com/c.png',
      });
      const bad = await t.gql(
        `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }`,
        { input: { avatarUrl: 'javascript:alert(1)' } },
        { token: customer.accessToken },
      );
      assert.equal(code(bad), 'BAD_USER_INPUT');
      assert.equal(bad.errors![0]!.extensions!.field, 'input.avatarUrl');
    });
  });

  describe('who may do what', () => {
    type As = 'anyone' | 'customer' | 'provider' | 'other' | 'admin';
    const token = (as: As) =>
      ({
        anyone: undefined,
        customer: customer.accessToken,
        provider: provider.accessToken,
        other: other.accessToken,
        admin: admin.accessToken,
      })[as];
    const cases: {
      name: string;
      query: string;
      variables?: () => Record<string, unknown>;
      allowed: As[];
      denied: [As, string][];
    }[] = [
      {
        name: 'categories',
        query: `{ categories { id name services { id name } } }`,
        allowed: ['anyone', 'customer', 'admin'],
        denied: [],
      },
      {
        name: 'services',
        query: `{ services(search: "leak") { id name category { name } } }`,
        allowed: ['anyone', 'provider'],
        denied: [],
      },
      {
        name: 'me',
        query: `{ me { id email } }`,
        allowed: ['customer', 'provider', 'admin'],
        denied: [['anyone', 'UNAUTHENTICATED']],
      },
      {
        name: 'users',
        query: `{ users(first: 5) { edges { node { id email } } } }`,
        allowed: ['admin'],
        denied: [
          ['anyone', 'UNAUTHENTICATED'],
          ['customer', 'FORBIDDEN'],
          ['provider', 'FORBIDDEN'],
        ],
      },
      {
        name: 'auditEvents',
        query: `{ auditEvents(first: 5) { edges { node { id } } } }`,
        allowed: ['admin'],
        denied: [
          ['anyone', 'UNAUTHENTICATED'],
          ['customer', 'FORBIDDEN'],
        ],
      },
      {
        name: 'updateProfile',
        query: `mutation { updateProfile(input: {}) { id } }`,
        allowed: ['customer', 'provider'],
        denied: [['anyone', 'UNAUTHENTICATED']],
      },
      {
        name: 'assignRole',
        query: ASSIGN,
        variables: () => ({ userId: randomUUID(), role: 'PROVIDER' }),
        allowed: [],
        denied: [
          ['anyone', 'UNAUTHENTICATED'],
          ['customer', 'FORBIDDEN'],
          ['provider', 'FORBIDDEN'],
          ['admin', 'NOT_FOUND'],
        ],
      },
      {
        name: 'revokeRole',
        query: REVOKE,
        variables: () => ({ userId: randomUUID(), role: 'PROVIDER' }),
        allowed: [],
        denied: [
          ['anyone', 'UNAUTHENTICATED'],
          ['customer', 'FORBIDDEN'],
          ['admin', 'NOT_FOUND'],
        ],
      },
      {
        name: 'changePassword',
        query: `mutation { changePassword(currentPassword: "wrong wrong wrong", newPassword: "another long password") }`,
        allowed: [],
        denied: [
          ['anyone', 'UNAUTHENTICATED'],
          ['customer', 'UNAUTHENTICATED'],
        ],
      },
      {
        name: 'logout',
        query: LOGOUT,
        variables: () => ({ refreshToken: 'not-a-token' }),
        allowed: [],
        denied: [
          ['anyone', 'UNAUTHENTICATED'],
          ['customer', 'BAD_USER_INPUT'],
        ],
      },
      {
        name: 'verifyEmail',
        query: `mutation { verifyEmail(token: "nope") { id } }`,
        allowed: [],
        denied: [['anyone', 'BAD_USER_INPUT']],
      },
      {
        name: 'resetPassword',
        query: `mutation { resetPassword(token: "nope", newPassword: "a long enough password") }`,
        allowed: [],
        denied: [['anyone', 'BAD_USER_INPUT']],
      },
      {
        name: 'refreshSession',
        query: REFRESH,
        variables: () => ({ refreshToken: 'nope' }),
        allowed: [],
        denied: [['anyone', 'UNAUTHENTICATED']],
      },
      {
        name: 'requestPasswordReset',
        query: `mutation { requestPasswordReset(email: "nobody@example.com") }`,
        allowed: ['anyone'],
        denied: [],
      },
    ];
    for (const c of cases) {
      for (const as of c.allowed) {
        it(`${c.name} allowed for ${as}`, async () => {
          const res = await t.gql(c.query, c.variables?.(), { token: token(as) });
          assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        });
      }
      for (const [as, expected] of c.denied) {
        it(`${c.name} refused for ${as} with ${expected}`, async () => {
          const res = await t.gql(c.query, c.variables?.(), { token: token(as) });
          assert.equal(code(res), expected, JSON.stringify(res.errors));
        });
      }
    }

    it('User.email: the user and admins see it; anyone else gets an error and null, with the rest intact', async () => {
      const conversation = randomUUID();
      await t.sql(
        'chat',
        `INSERT INTO conversations (id, order_id, customer_id, provider_id) VALUES ($1, $2, $3, $4)`,
        [conversation, randomUUID(), customer.id, provider.id],
      );
      const query = `query($id: ID!) { conversation(id: $id) { id customer { id displayName email } provider { id displayName email } } }`;
      const asProvider = await t.gql(query, { id: conversation }, { token: provider.accessToken });
      assert.equal(asProvider.data?.conversation.customer.displayName, 'Carla C.');
      assert.equal(asProvider.data?.conversation.customer.email, null);
      assert.equal(asProvider.data?.conversation.provider.email, provider.email);
      assert.deepEqual(
        asProvider.errors?.map((e) => [e.path?.join('.'), e.extensions?.code]),
        [['conversation.customer.email', 'FORBIDDEN']],
      );
      const asAdmin = await t.gql(query, { id: conversation }, { token: admin.accessToken });
      assert.equal(asAdmin.errors, undefined);
      assert.equal(asAdmin.data?.conversation.customer.email, customer.email);
      const asStranger = await t.gql(query, { id: conversation }, { token: other.accessToken });
      assert.equal(code(asStranger), 'NOT_FOUND', 'a conversation one may not read does not exist for them');
    });

    it('order: its customer and admins; anyone else NOT_FOUND', async () => {
      const order = randomUUID();
      const [service] = await t.sql('catalog', `SELECT id FROM services LIMIT 1`);
      await t.sql(
        'order',
        `INSERT INTO orders (id, customer_id, service_id, description) VALUES ($1, $2, $3, 'Fix it')`,
        [order, customer.id, service.id],
      );
      const query = `query($id: ID!) { order(id: $id) { id customer { id } } }`;
      assert.equal((await t.gql(query, { id: order }, { token: customer.accessToken })).data?.order.id, order);
      assert.equal((await t.gql(query, { id: order }, { token: admin.accessToken })).data?.order.id, order);
      assert.equal(code(await t.gql(query, { id: order }, { token: other.accessToken })), 'NOT_FOUND');
      assert.equal(code(await t.gql(query, { id: order })), 'UNAUTHENTICATED');
    });
  });

  describe('bypass attempts', () => {
    const subgraphUrl = (name: string) => t.stack.services.find((s) => s.name === name)!.url;
    const direct = async (name: string, query: string, headers: Record<string, string> = {}) =>
      fetch(subgraphUrl(name), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query }),
      });

    it('a subgraph called directly refuses everything, _service and _entities included', async () => {
      for (const name of ['user', 'catalog', 'order', 'chat', 'audit']) {
        for (const query of [
          '{ _service { sdl } }',
          `{ _entities(representations: [{ __typename: "User", id: "${customer.id}" }]) { ... on User { id } } }`,
        ]) {
          const res = await direct(name, query);
          assert.equal(res.status, 401, `${name} ${query}`);
        }
      }
      const withUserToken = await direct('user', '{ me { id email } }', {
        authorization: `Bearer ${admin.accessToken}`,
      });
      assert.equal(withUserToken.status, 401, 'a user token is no gateway token');
      const userTokenAsGateway = await direct('user', '{ me { id } }', { [GATEWAY_TOKEN_HEADER]: admin.accessToken });
      assert.equal(userTokenAsGateway.status, 401, 'a user token in the gateway header has the wrong issuer and key');
    });

    it('a gateway token forged with another key is refused', async () => {
      const key = await generatePrivateJwk();
      const forged = await new SignJWT({ roles: ['ADMIN'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid! })
        .setIssuer('fixup-gateway')
        .setAudience('fixup-audit')
        .setSubject(admin.id)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime('1m')
        .sign(await importJWK(key, 'EdDSA'));
      const res = await direct('audit', '{ auditEvents(first: 1) { edges { node { id } } } }', {
        [GATEWAY_TOKEN_HEADER]: forged,
      });
      assert.equal(res.status, 401);
    });

    const sign = async (claims: Record<string, unknown>, options: { key?: JWK; exp?: number; kid?: string } = {}) => {
      const key = options.key ?? userJwk;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ roles: ['ADMIN'], ver: 0, ...claims })
        .setProtectedHeader({ alg: 'EdDSA', kid: options.kid ?? key.kid! })
        .setIssuer('fixup-user')
        .setAudience('fixup')
        .setSubject(admin.id)
        .setIssuedAt(now - 3600)
        .setJti(randomUUID())
        .setExpirationTime(options.exp ?? now + 600)
        .sign(await importJWK(key, 'EdDSA'));
    };

    it('the gateway refuses an expired token, another key, alg none, and a changed role claim', async () => {
      const sanity = await t.gql(ME, undefined, { token: await sign({ ver: 0 }) });
      assert.equal(sanity.data?.me.id, admin.id, 'a token signed with the real key works');
      const expired = await sign({}, { exp: Math.floor(Date.now() / 1000) - 60 });
      const otherKey = await sign({}, { key: await generatePrivateJwk(), kid: userJwk.kid });
      const [header, payload] = customer.accessToken.split('.') as [string, string, string];
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const promoted = `${header}.${Buffer.from(JSON.stringify({ ...claims, roles: ['ADMIN'] })).toString('base64url')}.${customer.accessToken.split('.')[2]}`;
      for (const [name, token] of [
        ['expired', expired],
        ['other key', otherKey],
        ['alg none', none],
        ['changed roles', promoted],
        ['garbage', 'a.b.c'],
      ] as const) {
        const res = await t.gql(`{ users(first: 1) { edges { node { id } } } }`, undefined, { token });
        assert.equal(res.status, 401, name);
        assert.equal(code(res), 'UNAUTHENTICATED', name);
        assert.equal(res.data, undefined, `${name}: nothing was executed`);
      }
    });

    it('the user JWKS publishes public keys only', async () => {
      const jwks = (await (await fetch(new URL('/.well-known/jwks.json', subgraphUrl('user')))).json()) as {
        keys: JWK[];
      };
      assert.ok(jwks.keys.length >= 1);
      for (const key of jwks.keys) {
        assert.equal(key.d, undefined);
        assert.equal(key.alg, 'EdDSA');
      }
    });
  });

  describe('sessions', () => {
    it('rotates refresh tokens, and a reused one ends the whole session (audited)', async () => {
      const s = await t.register('CUSTOMER');
      const first = await t.gql(REFRESH, { refreshToken: s.refreshToken });
      const next = first.data!.refreshSession;
      assert.notEqual(next.refreshToken, s.refreshToken);
      assert.equal((await t.gql(ME, undefined, { token: next.accessToken })).data?.me.id, s.id);
      const reused = await t.gql(REFRESH, { refreshToken: s.refreshToken });
      assert.equal(code(reused), 'UNAUTHENTICATED');
      assert.equal(
        code(await t.gql(REFRESH, { refreshToken: next.refreshToken })),
        'UNAUTHENTICATED',
        'the descendant is dead too',
      );
      assert.equal(
        code(await t.gql(ME, undefined, { token: next.accessToken })),
        'UNAUTHENTICATED',
        'and so is its access token',
      );
      const events = await t.sql(
        'user',
        `SELECT payload FROM outbox WHERE payload->>'action' = 'auth.refresh_reused' AND payload->>'actorId' = $1`,
        [s.id],
      );
      assert.equal(events.length, 1);
    });

    it('of two racing refreshes with one token, at most one succeeds', async () => {
      const s = await t.register('PROVIDER');
      const results = await Promise.all([
        t.gql(REFRESH, { refreshToken: s.refreshToken }),
        t.gql(REFRESH, { refreshToken: s.refreshToken }),
      ]);
      assert.ok(results.filter((r) => r.data?.refreshSession).length <= 1);
      assert.ok(results.some((r) => code(r) === 'UNAUTHENTICATED'));
    });

    it('logout ends the session and its tokens', async () => {
      const s = await t.register('CUSTOMER');
      const someoneElses = await t.gql(LOGOUT, { refreshToken: customer.refreshToken }, { token: s.accessToken });
      assert.equal(code(someoneElses), 'BAD_USER_INPUT');
      assert.equal(
        (await t.gql(LOGOUT, { refreshToken: s.refreshToken }, { token: s.accessToken })).data?.logout,
        true,
      );
      assert.equal(code(await t.gql(REFRESH, { refreshToken: s.refreshToken })), 'UNAUTHENTICATED');
      assert.equal(code(await t.gql(ME, undefined, { token: s.accessToken })), 'UNAUTHENTICATED');
    });

    it('a role change makes older tokens SESSION_STALE at once; a refresh carries the new roles', async () => {
      const s = await t.register('CUSTOMER');
      const assigned = await t.gql(ASSIGN, { userId: s.id, role: 'PROVIDER' }, { token: admin.accessToken });
      assert.deepEqual(assigned.data?.assignRole.roles, ['CUSTOMER', 'PROVIDER']);
      assert.equal(
        assigned.headers.get(SESSION_SEQ_HEADER),
        null,
        'the feed sequence stays between the user subgraph and the gateway',
      );
      const stale = await t.gql(ME, undefined, { token: s.accessToken });
      assert.equal(code(stale), 'SESSION_STALE');
      const refreshed = (await t.gql(REFRESH, { refreshToken: s.refreshToken })).data!.refreshSession;
      assert.deepEqual((await t.gql(ME, undefined, { token: refreshed.accessToken })).data?.me.roles, [
        'CUSTOMER',
        'PROVIDER',
      ]);
      assert.equal(
        code(await t.gql(ASSIGN, { userId: s.id, role: 'PROVIDER' }, { token: admin.accessToken })),
        'CONFLICT',
      );
      await t.gql(REVOKE, { userId: s.id, role: 'CUSTOMER' }, { token: admin.accessToken });
      assert.equal(code(await t.gql(ME, undefined, { token: refreshed.accessToken })), 'SESSION_STALE');
    });

    it('the last admin cannot lose ADMIN', async () => {
      const res = await t.gql(REVOKE, { userId: admin.id, role: 'ADMIN' }, { token: admin.accessToken });
      assert.equal(code(res), 'CONFLICT');
    });

    it('verifies an email with the mailed link, once', async () => {
      const s = await t.register('CUSTOMER');
      const link = linkIn(await waitForMail(t, s.email, 1), '/verify-email');
      assert.equal(link.origin, new URL(t.stack.endpoint).origin, 'the link points at this deployment');
      const page = await fetch(link);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Confirm my email address/);
      const token = link.searchParams.get('token')!;
      const res = await t.gql(
        `mutation VerifyEmail($token: String!) { verifyEmail(token: $token) { id emailVerified } }`,
        { token },
      );
      assert.deepEqual(res.data?.verifyEmail, { id: s.id, emailVerified: true });
      assert.equal(
        code(await t.gql(`mutation($token: String!) { verifyEmail(token: $token) { id } }`, { token })),
        'BAD_USER_INPUT',
      );
      const [row] = await t.sql('user', `SELECT count(*)::int AS n FROM email_tokens WHERE token_hash = $1`, [token]);
      assert.equal(row.n, 0, 'only the hash is stored');
    });

    it('resets a password with the mailed link, ending every session', async () => {
      const s = await t.register('PROVIDER');
      const second = await t.login(s.email, s.password);
      assert.equal(
        (await t.gql(`mutation { requestPasswordReset(email: "nobody-${Date.now()}@example.com") }`)).data
          ?.requestPasswordReset,
        true,
      );
      assert.equal(
        (await t.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: s.email.toUpperCase() })).data
          ?.requestPasswordReset,
        true,
      );
      const link = linkIn(await waitForMail(t, s.email, 2), '/reset-password');
      assert.equal((await fetch(link)).status, 200);
      const token = link.searchParams.get('token')!;
      const reset = await t.gql(
        `mutation ResetPassword($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) }`,
        { token, newPassword: 'a brand new password' },
      );
      assert.equal(reset.data?.resetPassword, true);
      for (const session of [s, second]) {
        assert.equal(code(await t.gql(ME, undefined, { token: session.accessToken })), 'UNAUTHENTICATED');
        assert.equal(code(await t.gql(REFRESH, { refreshToken: session.refreshToken })), 'UNAUTHENTICATED');
      }
      await assert.rejects(t.login(s.email, s.password));
      assert.equal((await t.login(s.email, 'a brand new password')).id, s.id);
      assert.equal(
        code(
          await t.gql(
            `mutation($token: String!) { resetPassword(token: $token, newPassword: "yet another password") }`,
            { token },
          ),
        ),
        'BAD_USER_INPUT',
      );
    });

    it('changes a password: the current session goes on, the others end', async () => {
      const s = await t.register('CUSTOMER');
      const second = await t.login(s.email, s.password);
      const wrong = await t.gql(
        `mutation { changePassword(currentPassword: "not it at all", newPassword: "my new password!") }`,
        undefined,
        { token: s.accessToken },
      );
      assert.equal(code(wrong), 'UNAUTHENTICATED');
      const ok = await t.gql(
        `mutation { changePassword(currentPassword: "${s.password}", newPassword: "my new password!") }`,
        undefined,
        { token: s.accessToken },
      );
      assert.equal(ok.data?.changePassword, true);
      assert.equal((await t.gql(ME, undefined, { token: s.accessToken })).data?.me.id, s.id);
      assert.equal(code(await t.gql(ME, undefined, { token: second.accessToken })), 'UNAUTHENTICATED');
      assert.equal((await t.login(s.email, 'my new password!')).id, s.id);
    });
  });

  describe('rate limits', () => {
    it('counts each aliased login against the account', async () => {
      const s = await t.register('CUSTOMER');
      const aliases = Array.from(
        { length: 12 },
        (_, i) => `a${i}: login(email: "${s.email}", password: "wrong password ${i}") { accessToken }`,
      ).join('\n');
      const address = { 'x-forwarded-for': '203.0.113.90' };
      const res = await t.gql(`mutation { ${aliases} }`, undefined, { headers: address });
      const limited = res.errors?.filter((e) => e.extensions?.code === 'RATE_LIMITED') ?? [];
      assert.equal(limited.length, 2, 'of 12 aliased wrong logins from one address, the last 2 were limited');
      assert.ok(limited.every((e) => Number(e.extensions?.retryAfterSeconds) > 0));
      const right = `mutation { login(email: "${s.email}", password: "${s.password}") { accessToken } }`;
      assert.equal(
        code(await t.gql(right, undefined, { headers: address })),
        'RATE_LIMITED',
        'from that address even the right password waits',
      );
      assert.equal(
        (await t.gql(right, undefined, { headers: { 'x-forwarded-for': '203.0.113.91' } })).errors,
        undefined,
        'the owner elsewhere is not locked out',
      );
    });

    it('limits credential attempts per IP', async () => {
      const ip = '203.0.113.77';
      const outcomes: (string | undefined)[] = [];
      for (let i = 0; i < 42; i++) {
        const res = await t.gql(`mutation { requestPasswordReset(email: "someone-${i}@example.com") }`, undefined, {
          headers: { 'x-forwarded-for': ip },
        });
        outcomes.push(code(res));
      }
      assert.equal(outcomes.filter((c) => c === undefined).length, 40, String(outcomes));
      assert.equal(outcomes.filter((c) => c === 'RATE_LIMITED').length, 2, String(outcomes));
      const elsewhere = await t.gql(`mutation { requestPasswordReset(email: "someone@example.com") }`, undefined, {
        headers: { 'x-forwarded-for': '203.0.113.78' },
      });
      assert.equal(elsewhere.errors, undefined);
    });
  });
});
