// The ops a cluster node runs itself, whichever node receives them (routing.ts sends the others to
// their room's owner). They are the user's own: balance, charges, payments and reservation
// lookups, read and decided in PostgreSQL (money.ts, payments.ts), which every node shares; plus
// the lists of everything (the directory, and each on-sale's status from its owner), the creation
// of a concert, and the ops that touch no actor at all, which run as they are. Each answers what
// the single server's op answers; the arguments were validated by the same schemas.

import { concertView, newConcertRows, writeConcert } from "../actors/catalog.js";
import type { IdempotencyRecords } from "../actors/idempotency.js";
import type { Ids } from "../actors/index.js";
import { assertOwner, RESERVATIONS_LISTED, storedView } from "../actors/reservations.js";
import type { OnSaleStatus } from "../actors/rooms.js";
import { runOp } from "../api/dispatch.js";
import type { OpContext } from "../api/op.js";
import { newConcertOf } from "../api/ops/admin.concerts.create.js";
import { chargeRequest } from "../api/ops/balance.charge.js";
import { paymentRequest } from "../api/ops/payments.create.js";
import { ApiError } from "../errors.js";
import type { PostgresReads } from "../store/postgres/reads.js";
import type { ReservationFilter, Store } from "../store/store.js";
import type { Directory } from "./directory.js";
import type { MoneyDesk } from "./money.js";
import type { ClusterPayments } from "./payments.js";
import type { NodeOp, Routing } from "./routing.js";

export interface NodeOpsDeps {
  desk: MoneyDesk;
  payments: ClusterPayments;
  idempotency: IdempotencyRecords;
  reads: PostgresReads;
  store: Store;
  directory: Directory;
  routing: Routing;
  ids: Ids;
  /** A concert was created here: every node reads the catalog again, and owners place its room. */
  catalogChanged: () => Promise<void>;
}

/** How long a new concert's reply waits for its room's owner to serve it (its status comes from there). */
const NEW_ROOM_WAIT_MS = 10_000;

export function nodeOps(deps: NodeOpsDeps): Map<string, NodeOp> {
  const { desk, payments, idempotency, reads, store, directory, routing, ids } = deps;
  const asIs: NodeOp = (args, context, op) => runOp(op, args, context);
  const table: Record<string, NodeOp> = {
    "balance.get": async (_args, { userId }: OpContext) => ({ userId, balance: await desk.balance(userId) }),

    "balance.charge": (args: { amount: number; idempotencyKey?: string }, context: OpContext) =>
      idempotency.run(chargeRequest(args, context), (_write, claim) =>
        desk.charge({
          userId: context.userId,
          amount: args.amount,
          balanceMax: context.config.balanceMax,
          now: context.now,
          ...(claim !== undefined ? { record: claim } : {}),
        }),
      ),

    "payments.create": (args: { reservationIds: number[]; idempotencyKey?: string }, context: OpContext) =>
      idempotency.run(paymentRequest(args, context), (_write, claim) =>
        payments.pay(context.userId, args.reservationIds, context.now, claim),
      ),

    "reservations.get": async ({ reservationId }: { reservationId: number }, { userId, now }: OpContext) => {
      const row = await reads.reservationById(reservationId);
      if (row === undefined) throw new ApiError("NOT_FOUND", `reservation ${reservationId} not found`);
      assertOwner(row, userId);
      return storedView(row, now);
    },

    "reservations.list": async ({ status }: { status: ReservationFilter }, { userId, now }: OpContext) => {
      const rows = await reads.reservationsOf(userId, status, now, RESERVATIONS_LISTED);
      const reservations = [];
      for (const row of rows) {
        const view = storedView(row, now);
        if (status !== "all" && view.status !== status) continue;
        reservations.push({ ...view, concertId: await directory.concertOfSchedule(row.scheduleId) });
      }
      return { reservations };
    },

    "concerts.list": () => directory.concertsView(),

    "onsales.list": async () => {
      const onSales = await Promise.all(
        directory
          .onSaleConcertIds()
          .map((concertId) => routing.requestRoom<OnSaleStatus>(concertId, { kind: "status", concertId })),
      );
      return { onSales };
    },

    "admin.concerts.create": async (args: Parameters<typeof newConcertOf>[0], { config, now }: OpContext) => {
      const rows = newConcertRows(newConcertOf(args, config), ids, now);
      await store.writeNow(() => writeConcert(store, rows, now));
      await deps.catalogChanged();
      const created = concertView(rows.concert, rows.schedules);
      if (rows.onSale === undefined) return created;
      const onSale = await untilServed(() =>
        routing.requestRoom<OnSaleStatus>(rows.concert.id, { kind: "status", concertId: rows.concert.id }),
      );
      return { ...created, onSale };
    },

    "dev.login": asIs,
    "seats.unsubscribe": asIs,
  };
  return new Map(Object.entries(table));
}

/** Retries `ask` while it is 503 (a new room is being placed), for up to NEW_ROOM_WAIT_MS. */
async function untilServed<T>(ask: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + NEW_ROOM_WAIT_MS;
  for (;;) {
    try {
      return await ask();
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "UNAVAILABLE" || performance.now() > deadline) throw error;
      await new Promise((done) => setTimeout(done, 50));
    }
  }
}
