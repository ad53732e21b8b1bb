import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startTestStack, type Session, type TestStack } from './harness.js';

/** CHROMIUM is the browser the test drives: CHROMIUM_PATH, or Debian's `chromium` package. */
const CHROMIUM =
  process.env.CHROMIUM_PATH ??
  ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
const skip = CHROMIUM ? false : 'no Chromium installed (apt-get install chromium, or set CHROMIUM_PATH)';
if (skip) process.stdout.write(`# skipping the GraphiQL subscription test: ${skip}\n`);

describe("GraphiQL runs subscriptions over the gateway socket with the signed-in user's token", { skip }, () => {
  let t: TestStack;
  let browser: Browser;
  let customer: Session;
  let provider: Session;
  let conversationId: string;

  before(async () => {
    t = await startTestStack();
    customer = await t.register('CUSTOMER', 'Ida');
    provider = await t.register('PROVIDER', 'Ike');
    const [leak] = await t.sql('catalog', `SELECT id FROM services WHERE name = 'Leak repair'`);
    await t.gql(
      `mutation($s: ID!) { addSkill(serviceId: $s) { id } }`,
      { s: leak.id },
      { token: provider.accessToken },
    );
    const orderId = (
      await t.gql(
        `mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }`,
        { i: { serviceId: leak.id, description: 'IDE' } },
        { token: customer.accessToken },
      )
    ).data!.createOrder.id;
    conversationId = (
      await t.gql(
        `mutation($o: ID!) { openConversation(orderId: $o) { id } }`,
        { o: orderId },
        { token: provider.accessToken },
      )
    ).data!.openConversation.id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('a subscription typed in GraphiQL, with the token in its headers editor, shows a message sent afterwards', async () => {
    const page = await browser.newPage();
    const query = `subscription Follow { messageAdded(conversationId: "${conversationId}") { body sender { displayName } } }`;
    // GraphiQL keeps its editors in localStorage: the test fills them as a user who typed them would have.
    await page.addInitScript(
      ([q, h]) => {
        const { localStorage } = globalThis as unknown as {
          localStorage: { setItem(key: string, value: string): void };
        };
        localStorage.setItem('graphiql:query', q!);
        localStorage.setItem('graphiql:headers', h!);
        localStorage.setItem('graphiql:shouldPersistHeaders', 'true');
      },
      [query, JSON.stringify({ Authorization: `Bearer ${customer.accessToken}` })],
    );
    await page.goto(t.stack.endpoint, { waitUntil: 'load' });
    await page.waitForSelector('.graphiql-execute-button', { timeout: 30_000 });
    await page.click('.graphiql-execute-button');
    const result = page.locator('.result-window');
    // The subscription is live once the socket has been acknowledged; messages are then sent until one shows.
    let shown = false;
    for (let i = 0; i < 20 && !shown; i++) {
      await t.gql(
        `mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }`,
        { conversationId, c: conversationId, b: `hello from the provider ${i}` },
        { token: provider.accessToken },
      );
      await page.waitForTimeout(500);
      shown = (await result.textContent())?.includes('hello from the provider') ?? false;
    }
    const text = (await result.textContent()) ?? '';
    assert.ok(shown, `GraphiQL showed: ${text.slice(0, 500)}`);
    assert.match(text, /Ike/, 'fields from the user subgraph arrive too');
    await page.close();
  });
});
