// Id sequences handed out in memory, so a decision knows its ids before the commit.

/**
 * Where a decision takes its next id, synchronously (in the same event-loop turn as the decision,
 * before the commit). One server: IdSequence. A cluster: blocks of a PostgreSQL sequence
 * (src/store/postgres/idBlocks.ts), whose next() throws ApiError UNAVAILABLE when it has none at hand.
 */
export interface IdSource {
  next(): number;
}

/** One process owns the database: counting on from the highest id read at start-up is enough. */
export class IdSequence implements IdSource {
  constructor(private last: number) {}

  next(): number {
    this.last += 1;
    return this.last;
  }
}
