import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FeedPositions, type FollowedFeed } from './feed-positions.js';

describe('FeedPositions (what the gateway tells subgraphs that keep a copy of a feed)', () => {
  const catalog: { isSynced: boolean; position: number | null } = { isSynced: true, position: 40 };
  const feeds: Record<string, FollowedFeed> = { user: { isSynced: true, position: 7 }, catalog };

  it("tells order how far the gateway's copy of the catalog's feed has come, and no one else anything", () => {
    const positions = new FeedPositions(feeds);
    assert.equal(positions.follows('order'), true);
    assert.equal(positions.valueFor('order', undefined), 'catalog=40');
    for (const subgraph of ['user', 'catalog', 'chat', 'audit']) {
      assert.equal(positions.follows(subgraph), false, subgraph);
      assert.equal(positions.valueFor(subgraph, undefined), undefined, subgraph);
    }
  });

  it('names a sequence an answer named beyond the copy (a wait that timed out), and the request’s own', () => {
    const positions = new FeedPositions(feeds);
    positions.noted('catalog', 45);
    positions.noted('catalog', 44);
    assert.equal(positions.valueFor('order', undefined), 'catalog=45');
    assert.equal(
      positions.valueFor('order', { catalog: 50 }),
      'catalog=50',
      'a mutation earlier in the same operation',
    );
    catalog.position = 60;
    assert.equal(positions.valueFor('order', { catalog: 50 }), 'catalog=60');
  });

  it('says nothing of a feed the gateway is out of sync with, or has not reached yet: order then asks catalog', () => {
    const positions = new FeedPositions(feeds);
    catalog.isSynced = false;
    assert.equal(positions.valueFor('order', undefined), undefined);
    catalog.isSynced = true;
    catalog.position = null;
    assert.equal(positions.valueFor('order', undefined), undefined);
  });

  it('sends nothing where the gateway follows no catalog feed (GATEWAY_CATALOG_EVENTS_URL empty)', () => {
    const positions = new FeedPositions({ user: feeds.user! });
    assert.equal(positions.follows('order'), false);
    assert.equal(positions.valueFor('order', { catalog: 3 }), undefined);
  });
});
