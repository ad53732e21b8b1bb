import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ending, endingAtOnce } from './streams.js';

/** waitingStream is a generator that waits for items until told to stop, and says when it has ended. */
function waitingStream() {
  const state = { ended: false, stopped: false, wake: undefined as (() => void) | undefined };
  async function* stream(): AsyncGenerator<number> {
    try {
      yield 1;
      while (!state.stopped) await new Promise<void>((resolve) => (state.wake = resolve));
    } finally {
      state.ended = true;
    }
  }
  const ending = new Ending();
  ending.onEnd(() => {
    state.stopped = true;
    state.wake?.();
  });
  return { state, stream: stream(), ending };
}

const settled = <T>(p: Promise<T>, ms = 200) =>
  Promise.race([p.then(() => 'settled'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), ms))]);

describe('endingAtOnce', () => {
  it("ends a stream that waits for its next item when asked to, where a generator's own return() waits", async () => {
    const bare = waitingStream();
    assert.deepEqual(await bare.stream.next(), { value: 1, done: false });
    void bare.stream.next();
    assert.equal(await settled(bare.stream.return(undefined)), 'still waiting');
    assert.equal(bare.state.ended, false);

    const wrapped = waitingStream();
    const ending = endingAtOnce(wrapped.stream, wrapped.ending);
    assert.deepEqual(await ending.next(), { value: 1, done: false });
    const pending = ending.next();
    assert.equal(await settled(ending.return(undefined)), 'settled');
    assert.equal(wrapped.state.ended, true);
    assert.deepEqual(await pending, { value: undefined, done: true });
  });

  it('is iterated by for await as its source is', async () => {
    async function* three() {
      yield* [1, 2, 3];
    }
    const seen: number[] = [];
    for await (const n of endingAtOnce(three(), new Ending())) seen.push(n);
    assert.deepEqual(seen, [1, 2, 3]);
  });
});
