import { ServiceUnavailableError } from '../core/errors.js';
import { outsideScope } from '../http/request-context.js';

/** GroupedWritesOptions say how a kind of write runs alone and in a group, and how many statements may run at once. */
export interface GroupedWritesOptions<I, O> {
  /** lanes bounds the statements of this kind in flight at once. */
  lanes: number;
  /** maxGroup bounds the writes one statement carries. */
  maxGroup: number;
  /**
   * maxWaiting bounds the writes waiting for a lane; one more is refused at once (SERVICE_UNAVAILABLE), as a request
   * that finds no connection in time is, rather than queued without end while the database is slow or down.
   */
  maxWaiting: number;
  /** one runs a single write as its own statement. */
  one: (item: I) => Promise<O>;
  /**
   * many runs several writes as one statement and answers each, in their order: its result, or the Error that write
   * alone meets (a row it needs is gone). It rejects only when the statement failed as a whole.
   */
  many: (items: readonly I[]) => Promise<readonly (O | Error)[]>;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

/**
 * GroupedWrites is group commit for one kind of write: at most `lanes` statements run at once, and writes that arrive
 * while every lane is busy wait and go together in the next statement, which commits them with one round trip, one
 * commit and one flush of the write-ahead log. A write that finds a lane free runs at once and alone, as it would
 * without, so grouping costs no latency: it only forms where writes would have queued for a connection anyway.
 *
 * A statement is atomic, so a group that fails as a whole wrote nothing; its writes are then run alone, one after the
 * other in their order and in the group's lane, so that only a faulty one fails (with its own error). Should the
 * connection break after the group's commit, before its answer, the writes are tried again alone: they must then not
 * go in twice (a primary key made before the write does that), and `one` should answer a write it finds stored as
 * stored, not as failed (chat's addMessageOnce).
 *
 * Statements run outside any request's scope: a group serves several requests, and carrying the first one's scope on
 * would count every later statement to it (and keep it alive).
 */
export class GroupedWrites<I, O> {
  private busy = 0;
  private readonly waiting: Waiting<I, O>[] = [];
  /** statements and writes count what ran: writes over statements is the mean group. */
  statements = 0;
  writes = 0;
  /** failedGroups counts grouped statements that failed as a whole (their writes then ran alone). */
  failedGroups = 0;

  constructor(private readonly options: GroupedWritesOptions<I, O>) {}

  write(item: I): Promise<O> {
    if (this.waiting.length >= this.options.maxWaiting)
      return Promise.reject(new ServiceUnavailableError('Too many writes are waiting for the database: retry later'));
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.start();
    });
  }

  private start(): void {
    while (this.busy < this.options.lanes && this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.options.maxGroup);
      this.busy++;
      void outsideScope(() => this.run(group)).finally(() => {
        this.busy--;
        this.start();
      });
    }
  }

  private async run(group: Waiting<I, O>[]): Promise<void> {
    this.statements++;
    this.writes += group.length;
    if (group.length === 1) return this.alone(group[0]!);
    let results: readonly (O | Error)[];
    try {
      results = await this.options.many(group.map((w) => w.item));
    } catch {
      this.failedGroups++;
      this.statements += group.length;
      for (const w of group) await this.alone(w);
      return;
    }
    group.forEach((w, i) => {
      const result = results[i];
      if (result instanceof Error) w.reject(result);
      else w.resolve(result as O);
    });
  }

  private alone(w: Waiting<I, O>): Promise<void> {
    return this.options.one(w.item).then(w.resolve, w.reject);
  }
}
