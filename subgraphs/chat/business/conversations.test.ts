import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SignedInCaller } from '../../../contracts/caller.js';
import type { OrderFacts } from '../../../contracts/internal-routes.js';
import { createTestDatabase, type TestDatabase } from '../../../foundation/testkit/databases.js';
import { chatMigrations } from '../../../migrations/chat/index.js';
import { ConversationRow, MessageRow } from '../store/entities.js';
import { PostgresChatStore } from '../store/conversation-store.js';
import { ConversationService, type Message, type MessageWakeups, type OrderDirectory } from './conversations.js';

function caller(id = randomUUID()): SignedInCaller {
  return {
    viewer: { id, roles: ['CUSTOMER'], sessionId: null },
    ip: '192.0.2.1',
    userAgent: 'test',
    requestId: randomUUID(),
  };
}

/** OpenOrders stands for the order subgraph: every order is OPEN and the provider offered on it. */
class OpenOrders implements OrderDirectory {
  constructor(
    private readonly customerId: string,
    private readonly providerId: string,
  ) {}
  async orderFacts(orderId: string): Promise<OrderFacts> {
    return {
      id: orderId,
      status: 'OPEN',
      customerId: this.customerId,
      serviceId: randomUUID(),
      offerProviderIds: [this.providerId],
    };
  }
  async providerSkills(): Promise<readonly string[]> {
    return [];
  }
}

/** CountingStore is the real store that counts reads of new messages and can hold them until released. */
class CountingStore extends PostgresChatStore {
  reads = 0;
  held: (() => void)[] = [];
  hold = false;
  /** failing makes the next read fail (after its hold), as a statement timeout would. */
  failing = false;
  override async messagesAfter(conversationId: string, position: number, limit: number): Promise<Message[]> {
    this.reads++;
    const fail = this.failing;
    this.failing = false;
    const page = await super.messagesAfter(conversationId, position, limit);
    if (this.hold) await new Promise<void>((release) => this.held.push(release));
    if (fail) throw new Error('canceling statement due to statement timeout');
    return page;
  }
}

/** Announcements wakes followers by hand, as the broker does after a commit. */
class Announcements implements MessageWakeups {
  private readonly listeners = new Set<(position: number) => void>();
  listen(_conversationId: string, wake: (position: number) => void): () => void {
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  }
  announce(position: number): void {
    for (const wake of this.listeners) wake(position);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('following a conversation on a real database', () => {
  let db: TestDatabase;
  let store: CountingStore;
  let chat: ConversationService;
  /** elsewhere is another chat process on the same database: what it sends, followers here must read. */
  let elsewhere: ConversationService;
  const customer = caller();
  const provider = caller();

  before(async () => {
    db = await createTestDatabase('chat', [ConversationRow, MessageRow], chatMigrations);
    store = new CountingStore(db.dataSource);
    chat = new ConversationService(store, new OpenOrders(customer.viewer.id, provider.viewer.id));
    elsewhere = new ConversationService(store, new OpenOrders(customer.viewer.id, provider.viewer.id));
  });
  after(() => db.drop());

  async function conversation(): Promise<string> {
    return (await chat.openConversation(randomUUID(), provider.viewer.id, customer)).id;
  }

  /** collect gathers a stream's bodies and, if it ends with an error, the error's message last. */
  function collect(stream: AsyncGenerator<Message>): string[] {
    const bodies: string[] = [];
    void (async () => {
      for await (const message of stream) bodies.push(message.body);
    })().catch((err: Error) => bodies.push(`error: ${err.message}`));
    return bodies;
  }

  it('stores each message at the next position with the database time', async () => {
    const id = await conversation();
    const before = Date.now();
    const first = await chat.sendMessage(id, ' one ', customer);
    const second = await chat.sendMessage(id, 'two', customer);
    assert.deepEqual([first.position, second.position, first.body], [1, 2, 'one']);
    assert.ok(first.sentAt instanceof Date && first.sentAt.getTime() >= before - 1000);
    assert.deepEqual(await store.messagesByIds([second.id]), [second]);
  });

  it('sends a message with one statement: the conversation is kept once read, and no BEGIN or COMMIT', async () => {
    const id = await conversation();
    await chat.sendMessage(id, 'first', customer);
    db.statements.length = 0;
    await chat.sendMessage(id, 'second', customer);
    assert.equal(db.statements.length, 1, db.statements.join('\n'));
    assert.match(db.statements[0]!, /^WITH taken AS \(UPDATE conversations SET last_position/);
  });

  it('sends messages that wait for a writer together: fewer statements, every position taken once', async () => {
    const ids = [await conversation(), await conversation(), await conversation()];
    for (const id of ids) await chat.sendMessage(id, 'first', customer);
    db.statements.length = 0;
    const sent = await Promise.all(
      Array.from({ length: 30 }, (_, i) => chat.sendMessage(ids[i % 3]!, `message ${i}`, customer)),
    );
    const grouped = db.statements.filter((sql) => sql.includes('unnest($1::uuid[]'));
    assert.ok(grouped.length > 0 && db.statements.length < 30, db.statements.join('\n'));
    // Sends in flight at once commit in no set order (as on several connections), but each takes one position.
    for (const id of ids) {
      const mine = sent.filter((m) => m.conversationId === id).sort((a, b) => a.position - b.position);
      assert.deepEqual(
        mine.map((m) => m.position),
        Array.from({ length: 10 }, (_, j) => j + 2),
      );
      assert.deepEqual(
        (await store.messagesAfter(id, 0, 20)).map((m) => m.body),
        ['first', ...mine.map((m) => m.body)],
      );
    }
  });

  it('in a group, fails only the message whose conversation is gone, or whose statement alone fails', async () => {
    const id = await conversation();
    const add = (conversationId: string, body: string) =>
      store.addMessage({ id: randomUUID(), conversationId, senderId: customer.viewer.id, body }).then(
        (m) => m.position,
        (err: Error) => err.message,
      );
    const results = await Promise.all([
      add(id, 'a'),
      add(id, 'b'),
      add(id, 'c'),
      add(randomUUID(), 'to nowhere'),
      add(id, '   '),
      add(id, 'd'),
    ]);
    // A conversation that is not there fails its own message, in the group or alone (the foreign key).
    assert.match(String(results[3]), /vanished|foreign key/);
    // The database's own check refuses an empty body: that statement fails as a whole and its messages go in alone.
    assert.match(String(results[4]), /check constraint/);
    const positions = [results[0], results[1], results[2], results[5]] as number[];
    assert.deepEqual([...positions].sort(), [1, 2, 3, 4]);
    const stored = await store.messagesAfter(id, 0, 10);
    assert.deepEqual(
      stored.map((m) => [m.position, m.body]),
      ['a', 'b', 'c', 'd'].map((body, i) => [positions[i], body]).sort((x, y) => Number(x[0]) - Number(y[0])),
    );
  });

  it('answers a message tried again after its commit as stored, once, and still refuses its id for another', async () => {
    const id = await conversation();
    const message = { id: randomUUID(), conversationId: id, senderId: customer.viewer.id, body: 'sent once' };
    const first = await store.addMessage(message);
    // As a group's message is tried again alone when the group's answer was lost after its commit.
    const again = await store.addMessage(message);
    assert.deepEqual(again, first);
    const next = await store.addMessage({ ...message, id: randomUUID(), body: 'next' });
    // No position was taken by the second try: the next message follows the first.
    assert.equal(next.position, first.position + 1);
    assert.deepEqual(
      (await store.messagesAfter(id, 0, 10)).map((m) => m.body),
      ['sent once', 'next'],
    );
    await assert.rejects(store.addMessage({ ...message, body: 'another body' }), /duplicate key/);
  });

  it('two chat processes grouping messages to the same conversations never deadlock', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => conversation()));
    const other = new PostgresChatStore(db.dataSource, { messageWriters: 2, messagesPerStatement: 8 });
    const failedBefore = store.added.failedGroups;
    const send = (s: PostgresChatStore, conversationId: string, i: number) =>
      s.addMessage({ id: randomUUID(), conversationId, senderId: customer.viewer.id, body: `m ${i}` });
    // Each store sends to the conversations in the opposite order, so that unordered locks would wait on each other.
    const sent = await Promise.all(
      Array.from({ length: 480 }, (_, i) => [send(store, ids[i % 6]!, i), send(other, ids[5 - (i % 6)]!, i)]).flat(),
    );
    assert.ok(store.added.writes > store.added.statements && other.added.writes > other.added.statements);
    // A deadlock would fail a grouped statement as a whole (after a second), its messages then going in alone.
    assert.deepEqual([store.added.failedGroups - failedBefore, other.added.failedGroups], [0, 0]);
    for (const id of ids) {
      const positions = sent.filter((m) => m.conversationId === id).map((m) => m.position);
      assert.deepEqual(
        positions.sort((a, b) => a - b),
        Array.from({ length: 160 }, (_, i) => i + 1),
      );
    }
  });

  it("lets the runtime role change only a conversation's last position, never its people or order, nor remove it", async () => {
    const id = await conversation();
    await db.dataSource.query(`UPDATE conversations SET last_position = last_position WHERE id = $1`, [id]);
    for (const statement of [
      `UPDATE conversations SET provider_id = customer_id WHERE id = $1`,
      `UPDATE conversations SET order_id = gen_random_uuid() WHERE id = $1`,
      `DELETE FROM conversations WHERE id = $1`,
    ])
      await assert.rejects(db.dataSource.query(statement, [id]), /permission denied/, statement);
    await assert.rejects(db.dataSource.query(`TRUNCATE conversations CASCADE`), /permission denied/);
  });

  it('hands the followers here a message this process committed without a read, when it is all they were told of', async () => {
    const id = await conversation();
    const wakeups = new Announcements();
    const followers = await Promise.all([customer, provider].map((c) => chat.follow(id, null, c, wakeups)));
    const seen = followers.map(collect);
    await settle();
    const readsBefore = store.reads;
    for (let i = 1; i <= 3; i++) wakeups.announce((await chat.sendMessage(id, `here ${i}`, customer)).position);
    await settle();
    assert.equal(store.reads - readsBefore, 0, 'no read for messages sent here');
    // One sent elsewhere is read; then one sent here whose wake-up comes after a later one's is read too, with the
    // later one: nothing is skipped.
    wakeups.announce((await elsewhere.sendMessage(id, 'there', customer)).position);
    await settle();
    const here = await chat.sendMessage(id, 'here 4', customer);
    const after = await elsewhere.sendMessage(id, 'there 2', customer);
    wakeups.announce(after.position);
    wakeups.announce(here.position);
    await settle();
    assert.equal(store.reads - readsBefore, 2, 'one read per message sent elsewhere');
    for (const bodies of seen) assert.deepEqual(bodies, ['here 1', 'here 2', 'here 3', 'there', 'here 4', 'there 2']);
  });

  it('after a wake-up of every follower (a broker reconnected) reads once, then hands over again', async () => {
    const id = await conversation();
    const wakeups = new Announcements();
    const seen = collect(await chat.follow(id, null, provider, wakeups));
    await settle();
    wakeups.announce((await chat.sendMessage(id, 'before', customer)).position);
    await settle();
    const readsBefore = store.reads;
    wakeups.announce(Number.MAX_SAFE_INTEGER);
    await settle();
    assert.equal(store.reads - readsBefore, 1, 'a wake-up that names no message is a read');
    wakeups.announce((await chat.sendMessage(id, 'after', customer)).position);
    await settle();
    assert.equal(store.reads - readsBefore, 1, 'once that read caught up, a message sent here is handed over');
    assert.deepEqual(seen, ['before', 'after']);
  });

  it('reads, rather than hand over, when it starts: messages committed before it listened have no wake-up', async () => {
    const id = await conversation();
    const wakeups = new Announcements();
    const first = await chat.sendMessage(id, 'first', customer);
    await chat.sendMessage(id, 'second', customer);
    await elsewhere.sendMessage(id, 'third', customer);
    // The second is remembered here and is the next the follower lacks, but the third follows it unannounced.
    const seen = collect(await chat.follow(id, first.id, provider, wakeups));
    await settle();
    assert.deepEqual(seen, ['second', 'third']);
  });

  it('gives the followers woken by one message one read of the store between them', async () => {
    const id = await conversation();
    const wakeups = new Announcements();
    const followers = await Promise.all([customer, provider, customer].map((c) => chat.follow(id, null, c, wakeups)));
    const seen = followers.map(collect);
    await settle();
    for (let i = 1; i <= 5; i++) {
      const readsBefore = store.reads;
      const sent = await elsewhere.sendMessage(id, `message ${i}`, customer);
      wakeups.announce(sent.position);
      await settle();
      assert.equal(store.reads - readsBefore, 1, `message ${i} was read once for three followers`);
    }
    for (const bodies of seen)
      assert.deepEqual(bodies, ['message 1', 'message 2', 'message 3', 'message 4', 'message 5']);
  });

  it('never hands a follower a read that began before it was told of a message', async () => {
    const id = await conversation();
    const wakeups = new Announcements();
    const first = await chat.sendMessage(id, 'first', customer);
    const early = await chat.follow(id, first.id, customer, wakeups);
    const earlySeen = collect(early);
    await settle();
    // The early follower reads after `first` and is held there while a second message commits.
    store.hold = true;
    const second = await elsewhere.sendMessage(id, 'second', customer);
    wakeups.announce(second.position);
    await settle();
    assert.equal(store.held.length, 1);
    const third = await elsewhere.sendMessage(id, 'third', customer);
    // A follower starting after `first` now asks for the same page; the held read began before `third` committed.
    const late = await chat.follow(id, first.id, provider, wakeups);
    const lateSeen = collect(late);
    await settle();
    store.hold = false;
    assert.equal(store.held.length, 2, 'the late follower read for itself');
    for (const release of store.held.splice(0)) release();
    await settle();
    // Nobody announced `third`: the early follower has not been told of it yet; the late one read after it committed.
    assert.deepEqual(earlySeen, ['second']);
    assert.deepEqual(lateSeen, ['second', 'third']);
    wakeups.announce(third.position);
    await settle();
    assert.deepEqual(earlySeen, ['second', 'third']);
    assert.deepEqual(lateSeen, ['second', 'third']);
  });

  it('a failed read ends the stream of the follower who made it, not of those who joined it', async () => {
    const id = await conversation();
    const wakeups = new Announcements();
    const [first, second] = await Promise.all([customer, provider].map((c) => chat.follow(id, null, c, wakeups)));
    const [firstSeen, secondSeen] = [first!, second!].map(collect);
    await settle();
    store.hold = true;
    store.failing = true;
    const sent = await elsewhere.sendMessage(id, 'through a failure', customer);
    wakeups.announce(sent.position);
    await settle();
    assert.equal(store.held.length, 1, 'one read for both');
    store.hold = false;
    for (const release of store.held.splice(0)) release();
    await settle();
    assert.deepEqual(firstSeen, ['error: canceling statement due to statement timeout']);
    assert.deepEqual(secondSeen, ['through a failure']);
  });
});
