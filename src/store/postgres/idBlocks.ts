// Ids for a cluster (issue 15): nodes sharing one PostgreSQL draw concert, schedule, reservation
// and payment ids from its sequences (migration 010), so two nodes never hand out the same one.
//
// A decision needs its id in the same event-loop turn, before its commit, so next() stays
// synchronous: it hands out ids of a block drawn from the sequence ahead of need, and a new block
// is drawn in the background once fewer than half a block is left. A block is
// `SELECT nextval(seq) FROM generate_series(1, n)`: one round trip for n ids, with the sequence
// left a plain INCREMENT BY 1 one, so each node chooses its block size (and tests a tiny one)
// without a schema change. A block need not be contiguous (another node's nextval can fall in
// between), but every value of a sequence is drawn once, and a later block lies wholly above an
// earlier one: each source hands out increasing ids, unique across nodes. Ids of a block never
// handed out (a stop, a crash) are skipped, as a sequence skips anyway.
//
// When a block is used up before the next one is back (PostgreSQL slow or down), next() throws
// ApiError UNAVAILABLE (503 with Retry-After) and the decision changes nothing; a failed draw is
// retried on a timer, so ids flow again once PostgreSQL is back. IdBlockSource has the shape of
// IdSource (src/actors/ids.ts) without importing it: the store does not reach up into the actors.
import { ApiError } from "../../errors.js";
import type { Sql } from "./connect.js";

export type IdKind = "concert" | "schedule" | "reservation" | "payment";

/** The sequence of each kind (migration 010) and the table whose ids it hands out. */
const SEQUENCES: Readonly<Record<IdKind, { sequence: string; table: string }>> = {
  concert: { sequence: "concert_ids", table: "concerts" },
  schedule: { sequence: "schedule_ids", table: "schedules" },
  reservation: { sequence: "reservation_ids", table: "reservations" },
  payment: { sequence: "payment_ids", table: "payments" },
};

const KINDS = Object.keys(SEQUENCES) as IdKind[];

/**
 * Ids per block. One concert create takes up to 100 schedule ids in one turn (its op's limit), and
 * half a block is what is left at worst when a refill is back: hence 200. Reservations and payments
 * are the hot path; concerts are rare, and a node's restart skips up to 1.5 blocks of each.
 */
export const DEFAULT_BLOCK_SIZES: Readonly<Record<IdKind, number>> = {
  concert: 20,
  schedule: 200,
  reservation: 1_000,
  payment: 1_000,
};

/** Taken while a sequence is brought up to its table (openIdBlocks); the server's and the migrations' are others. */
const ID_CATCH_UP_LOCK = 7_215_002;

export interface IdBlockOptions {
  /** Ids per block: one number for every kind, or some kinds' own (the others keep DEFAULT_BLOCK_SIZES). */
  blockSize?: number | Partial<Record<IdKind, number>>;
  /** Wait after a failed draw before the next (ms); also the Retry-After of UNAVAILABLE. Default 1000. */
  retryDelayMs?: number;
  /** A draw not answered in this long counts as failed (a hung connection), so another can start. Default 10,000. */
  drawTimeoutMs?: number;
  /** Told of each failed background draw (for the log); the source retries by itself. */
  onDrawError?: (kind: IdKind, error: unknown) => void;
}

/** One kind's ids, from blocks of its sequence. */
export class IdBlockSource {
  /** Ids drawn and not handed out yet, ascending, from `head` on. */
  private ids: number[] = [];
  private head = 0;
  private drawing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly kind: IdKind,
    readonly blockSize: number,
    private readonly drawBlock: (count: number) => Promise<number[]>,
    private readonly timing: { retryDelayMs: number; drawTimeoutMs: number },
    private readonly onDrawError: (kind: IdKind, error: unknown) => void = () => {},
  ) {
    if (!Number.isInteger(blockSize) || blockSize < 2) throw new Error(`${kind} id block size must be an integer >= 2`);
  }

  /** Ids at hand (drawn, not handed out). */
  get available(): number {
    return this.ids.length - this.head;
  }

  /** The next id; throws ApiError UNAVAILABLE when none is at hand (the decision must not go on). */
  next(): number {
    if (this.head >= this.ids.length) {
      this.refillIfLow();
      throw new ApiError(
        "UNAVAILABLE",
        `no ${this.kind} id at hand: the next block of PostgreSQL's ${SEQUENCES[this.kind].sequence} has not come yet`,
        this.timing.retryDelayMs / 1000,
      );
    }
    const id = this.ids[this.head++]!;
    this.refillIfLow();
    return id;
  }

  /** Draws one block now and waits for it (the first, before the source is used); rejects when the draw fails. */
  async fill(): Promise<void> {
    this.take(await this.draw());
  }

  /** No more draws or retries; the ids at hand are still handed out. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private refillIfLow(): void {
    if (this.closed || this.drawing || this.retryTimer !== undefined) return;
    if (this.available >= this.blockSize / 2) return;
    this.drawing = true;
    this.draw().then(
      (ids) => {
        this.drawing = false;
        this.take(ids);
      },
      (error) => {
        this.drawing = false;
        this.onDrawError(this.kind, error);
        if (this.closed) return;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.refillIfLow();
        }, this.timing.retryDelayMs);
        this.retryTimer.unref();
      },
    );
  }

  /** One block, or a rejection after drawTimeoutMs (a late answer is dropped: its ids are skipped, never reused). */
  private draw(): Promise<number[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(
        () => fail(new Error(`no ${this.kind} id block from PostgreSQL in ${this.timing.drawTimeoutMs} ms`)),
        this.timing.drawTimeoutMs,
      );
      timer.unref();
    });
    return Promise.race([this.drawBlock(this.blockSize), timeout]).finally(() => clearTimeout(timer));
  }

  /** A later block lies above every id drawn before it: appending keeps `ids` ascending. */
  private take(block: number[]): void {
    block.sort((a, b) => a - b);
    this.ids = this.ids.slice(this.head).concat(block);
    this.head = 0;
  }
}

/** The four id sources of a node; close() on shutdown (it stops their retry timers). */
export interface IdBlocks extends Record<IdKind, IdBlockSource> {
  close(): void;
}

/**
 * Opens the id sources of a node on a migrated database (schema version 10 or later): first brings
 * any sequence behind its table up to it (rows written after migration 010 by a server that counted
 * ids in memory, or by the demo catalog's seeding), then draws each kind's first block. Rejects
 * when PostgreSQL cannot be reached (a start-up failure).
 */
export async function openIdBlocks(sql: Sql, options: IdBlockOptions = {}): Promise<IdBlocks> {
  await catchUpSequences(sql);
  const timing = { retryDelayMs: options.retryDelayMs ?? 1_000, drawTimeoutMs: options.drawTimeoutMs ?? 10_000 };
  const sizeOf = (kind: IdKind) =>
    typeof options.blockSize === "number"
      ? options.blockSize
      : (options.blockSize?.[kind] ?? DEFAULT_BLOCK_SIZES[kind]);
  const sources = Object.fromEntries(
    KINDS.map((kind) => [
      kind,
      new IdBlockSource(kind, sizeOf(kind), (count) => drawIds(sql, kind, count), timing, options.onDrawError),
    ]),
  ) as Record<IdKind, IdBlockSource>;
  await Promise.all(KINDS.map((kind) => sources[kind].fill()));
  return {
    ...sources,
    close() {
      for (const kind of KINDS) sources[kind].close();
    },
  };
}

async function drawIds(sql: Sql, kind: IdKind, count: number): Promise<number[]> {
  const rows = await sql<{ id: number | string }[]>`
    SELECT nextval(${SEQUENCES[kind].sequence}::regclass) AS id FROM generate_series(1, ${count}::int)`;
  return rows.map((row) => Number(row.id));
}

/**
 * Moves each sequence whose next value is not above its table's highest id just past it. Under a
 * lock, so two nodes starting at once cannot both set it (the second setval would move it back
 * below the first one's block); once caught up the condition is false, so a running node's draws
 * are never moved back. (The names are this file's constants, not input.)
 */
async function catchUpSequences(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${ID_CATCH_UP_LOCK})`;
    for (const { sequence, table } of Object.values(SEQUENCES)) {
      await tx.unsafe(`
        SELECT setval('${sequence}', highest.id)
          FROM (SELECT MAX(id) AS id FROM ${table}) AS highest, ${sequence} AS s
          WHERE highest.id >= CASE WHEN s.is_called THEN s.last_value + 1 ELSE s.last_value END`);
    }
  });
}
