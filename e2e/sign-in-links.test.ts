import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { mails, startTestStack, waitForMail, type GraphQLResponse, type Session, type TestStack } from './harness.js';

const REQUEST_LINK = `mutation RequestSignInLink($email: String!) { requestSignInLink(email: $email) }`;
const SIGN_IN = `mutation SignInWithLink($token: String!) { signInWithLink(token: $token) { accessToken refreshToken accessTokenExpiresAt user { id displayName roles emailVerified } } }`;
const MY_SESSIONS = `query MySessions { me { id sessions { id current createdAt lastUsedAt userAgent ip } } }`;
const REVOKE_SESSION = `mutation RevokeSession($sessionId: ID!) { revokeSession(sessionId: $sessionId) }`;
const REFRESH = `mutation RefreshSession($refreshToken: String!) { refreshSession(refreshToken: $refreshToken) { accessToken refreshToken } }`;
const ME = `query { me { id emailVerified } }`;

function code(res: GraphQLResponse): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}

function signInToken(mail: string): string {
  const unfolded = mail.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const match = /https?:\/\/\S+\/sign-in\?token=([A-Za-z0-9_-]+)/.exec(unfolded);
  assert.ok(match, 'a sign-in link in the mail');
  return match[1]!;
}

/** outboxActions lists the audit actions the user subgraph recorded about a target. */
async function outboxActions(t: TestStack, targetId: string): Promise<string[]> {
  const rows = await t.sql(
    'user',
    `SELECT payload->>'action' AS action FROM outbox WHERE payload->>'targetId' = $1 ORDER BY seq`,
    [targetId],
  );
  return rows.map((r: { action: string }) => r.action);
}

describe('sign-in links and sessions', () => {
  let t: TestStack;
  let customer: Session;
  let provider: Session;

  before(async () => {
    t = await startTestStack({ USER_RATE_LIMIT_ACCOUNT: '6' });
    customer = await t.register('CUSTOMER', 'Lina');
    provider = await t.register('PROVIDER', 'Pavel');
  });
  after(async () => {
    await t?.stop();
  });

  describe('sign-in by email link', () => {
    it('answers true for an unknown address and mails nobody; refuses a malformed one', async () => {
      const unknown = `nobody-${randomUUID()}@example.com`;
      const res = await t.gql(REQUEST_LINK, { email: unknown });
      assert.equal(res.data?.requestSignInLink, true);
      const bad = await t.gql(REQUEST_LINK, { email: 'not an address' });
      assert.equal(code(bad), 'BAD_USER_INPUT');
      assert.equal(bad.errors?.[0]?.extensions?.field, 'email');
      // Give the background work time to (not) send anything.
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(mails(t, unknown), []);
    });

    it('signs in once with the mailed link, verifies the address, and gives a session that refreshes like a login', async () => {
      assert.equal((await t.gql(ME, {}, { token: customer.accessToken })).data?.me.emailVerified, false);
      const res = await t.gql(REQUEST_LINK, { email: customer.email.toUpperCase() });
      assert.equal(res.data?.requestSignInLink, true);
      const token = signInToken(await waitForMail(t, customer.email, 2));
      const signed = await t.gql(SIGN_IN, { token });
      assert.equal(signed.errors, undefined);
      const payload = signed.data!.signInWithLink;
      assert.equal(payload.user.id, customer.id);
      assert.equal(payload.user.emailVerified, true);
      assert.deepEqual(payload.user.roles, ['CUSTOMER']);
      assert.equal((await t.gql(ME, {}, { token: payload.accessToken })).data?.me.emailVerified, true);

      const again = await t.gql(SIGN_IN, { token });
      assert.equal(code(again), 'BAD_USER_INPUT');
      assert.equal(again.data?.signInWithLink, null);

      const refreshed = await t.gql(REFRESH, { refreshToken: payload.refreshToken });
      assert.ok(refreshed.data?.refreshSession?.accessToken);
      const reused = await t.gql(REFRESH, { refreshToken: payload.refreshToken });
      assert.equal(code(reused), 'UNAUTHENTICATED', 'the link session rotates refresh tokens as a login does');

      assert.equal(code(await t.gql(SIGN_IN, { token: 'not-a-real-token' })), 'BAD_USER_INPUT');
      const actions = await outboxActions(t, customer.id);
      assert.ok(actions.includes('auth.link_requested'));
      assert.ok(actions.includes('auth.link_signed_in'));
      assert.ok(actions.includes('user.email_verified'));
    });

    it('voids an older link when a newer one is requested', async () => {
      await t.gql(REQUEST_LINK, { email: provider.email });
      const older = signInToken(await waitForMail(t, provider.email, 2));
      await t.gql(REQUEST_LINK, { email: provider.email });
      const newer = signInToken(await waitForMail(t, provider.email, 3));
      assert.notEqual(older, newer);
      assert.equal(code(await t.gql(SIGN_IN, { token: older })), 'BAD_USER_INPUT');
      assert.equal((await t.gql(SIGN_IN, { token: newer })).data?.signInWithLink.user.id, provider.id);
    });

    it('refuses an expired link', async () => {
      await t.gql(REQUEST_LINK, { email: provider.email });
      const token = signInToken(await waitForMail(t, provider.email, 4));
      await t.sql(
        'user',
        `UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'sign_in' AND used_at IS NULL`,
      );
      assert.equal(code(await t.gql(SIGN_IN, { token })), 'BAD_USER_INPUT');
    });

    it('rate limits requests per address', async () => {
      const email = `limited-${randomUUID()}@example.com`;
      const codes: (string | undefined)[] = [];
      for (let i = 0; i < 8; i++) codes.push(code(await t.gql(REQUEST_LINK, { email })));
      assert.deepEqual(codes.slice(0, 6), [undefined, undefined, undefined, undefined, undefined, undefined]);
      assert.equal(codes[6], 'RATE_LIMITED');
      const limited = await t.gql(REQUEST_LINK, { email });
      assert.ok((limited.errors?.[0]?.extensions?.retryAfterSeconds as number) > 0);
    });
  });

  describe('sessions', () => {
    it('lists the live sessions of the caller, marking the current one', async () => {
      const phone = await t.gql(
        `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }`,
        { e: provider.email, p: provider.password },
        { headers: { 'user-agent': 'FixupPhone/1.0' } },
      );
      const phoneToken = phone.data!.login.accessToken as string;
      const res = await t.gql(MY_SESSIONS, {}, { token: phoneToken, headers: { 'user-agent': 'FixupPhone/1.0' } });
      assert.equal(res.errors, undefined);
      const sessions = res.data!.me.sessions as {
        id: string;
        current: boolean;
        userAgent: string | null;
        ip: string | null;
        createdAt: string;
        lastUsedAt: string;
      }[];
      assert.ok(sessions.length >= 3, 'register, two links and this login');
      const current = sessions.filter((s) => s.current);
      assert.equal(current.length, 1);
      assert.equal(current[0]!.userAgent, 'FixupPhone/1.0');
      assert.ok(current[0]!.ip);
      assert.ok(Date.parse(current[0]!.lastUsedAt) >= Date.parse(current[0]!.createdAt));
    });

    it('keeps sessions private: signed out is UNAUTHENTICATED, an admin reading someone else gets FORBIDDEN on the field', async () => {
      assert.equal(code(await t.gql(MY_SESSIONS)), 'UNAUTHENTICATED');
      const admin = await t.login(t.admin.email, t.admin.password);
      const res = await t.gql(
        `query { users(first: 5) { edges { node { id sessions { id } } } } }`,
        {},
        { token: admin.accessToken },
      );
      assert.equal(code(res), 'FORBIDDEN');
      assert.ok(res.data?.users.edges.length > 0, 'the rest of the answer stands');
    });

    it("ends one session at once: its refresh token fails, its access token and its sockets are refused; another user's session is NOT_FOUND", async () => {
      const lost = await t.login(customer.email, customer.password);
      const kept = await t.login(customer.email, customer.password);
      const listed = await t.gql(MY_SESSIONS, {}, { token: lost.accessToken });
      const lostId = (listed.data!.me.sessions as { id: string; current: boolean }[]).find((s) => s.current)!.id;

      let closeCode: number | undefined;
      let connected = false;
      const client = createClient({
        url: t.stack.endpoint.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        lazy: false,
        // The close this test waits for is expected; graphql-ws would print it.
        onNonLazyError: () => {},
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${lost.accessToken}` },
        on: { connected: () => (connected = true), closed: (event) => (closeCode = (event as { code: number }).code) },
      });
      for (let i = 0; i < 200 && !connected; i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(connected, 'the socket opened');

      assert.equal(
        code(await t.gql(REVOKE_SESSION, { sessionId: lostId }, { token: provider.accessToken })),
        'NOT_FOUND',
      );
      assert.equal(
        code(await t.gql(REVOKE_SESSION, { sessionId: randomUUID() }, { token: kept.accessToken })),
        'NOT_FOUND',
      );
      assert.equal(
        code(await t.gql(REVOKE_SESSION, { sessionId: 'not-an-id' }, { token: kept.accessToken })),
        'BAD_USER_INPUT',
      );
      assert.equal(code(await t.gql(REVOKE_SESSION, { sessionId: lostId })), 'UNAUTHENTICATED');

      const revoked = await t.gql(REVOKE_SESSION, { sessionId: lostId }, { token: kept.accessToken });
      assert.equal(revoked.data?.revokeSession, true);
      assert.equal(code(await t.gql(ME, {}, { token: lost.accessToken })), 'UNAUTHENTICATED');
      assert.equal(code(await t.gql(REFRESH, { refreshToken: lost.refreshToken })), 'UNAUTHENTICATED');
      assert.equal((await t.gql(ME, {}, { token: kept.accessToken })).data?.me.id, customer.id);
      for (let i = 0; i < 200 && closeCode === undefined; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(closeCode, 4001);
      await client.dispose();

      const after = await t.gql(MY_SESSIONS, {}, { token: kept.accessToken });
      assert.ok(!(after.data!.me.sessions as { id: string }[]).some((s) => s.id === lostId));
      assert.equal(
        code(await t.gql(REVOKE_SESSION, { sessionId: lostId }, { token: kept.accessToken })),
        'NOT_FOUND',
        'an ended session',
      );
      assert.ok((await outboxActions(t, lostId)).includes('auth.session_revoked'));
    });
  });
});
