/**
 * endingAtOnce gives an async iterator whose return() (a client's `complete`, or its socket closing) ends it at once.
 * An async generator's return() waits while the generator itself waits, for instance for its next item, so a
 * subscription asked to end while nothing happened on it stayed (its listener, its memory, and in the gateway its
 * upstream subscription) until its next event, which on a quiet conversation may never come. `stop` is called first
 * and must make the source stop waiting and end; return() then finishes as the source does.
 */
export function endingAtOnce<T>(source: AsyncIterator<T>, stop: () => void): AsyncGenerator<T> {
  const ended = async (value?: unknown): Promise<IteratorResult<T>> =>
    source.return ? source.return(value) : { value: undefined, done: true };
  const iterator = {
    next: () => source.next(),
    return: (value?: unknown) => {
      stop();
      return ended(value);
    },
    throw: (err?: unknown) => {
      stop();
      return source.throw ? source.throw(err) : ended().then(() => Promise.reject(err));
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator as unknown as AsyncGenerator<T>;
}
