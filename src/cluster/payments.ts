// A payment on a cluster node (DESIGN.md, "Scale past one process"): the node that received it
// coordinates; the holds' rooms may have several owners.
// 1. A replay of a stored key answers at once (before anything is locked).
// 2. PostgreSQL says whether each hold exists, is the caller's and is still held, in the order
//    given: the first that is not answers as a single server would (404, 403, 409, 410).
// 3. Each owner locks the caller's holds of its room for LOCK_MS (routing.ts "lock"): checked in
//    its turn as a local payment would be; no release, expiry or other payment meanwhile.
// 4. One PostgreSQL transaction (MoneyDesk.pay) checks every owner's lease epoch, the holds and the
//    balance, and writes the payment, the sale, the debit and the idempotency record, or nothing.
//    It gives up before the locks lapse (its statement and lock time-outs).
// 5. The owners are told the outcome (sold: seats sold in memory, diffs published, booking windows
//    ended; or not: the holds are live again), and the caller is answered once they took it in. A
//    lost message is harmless: a lock that lapses without an outcome reads the reservation's status
//    from PostgreSQL (Reservations.settleLapsed).
// Any failure of 3 or 4 commits nothing, and the caller gets its error (503 for everything that
// is not the caller's own fault: retry with the same key).
import type { IdempotencyClaim } from "../actors/idempotency.js";
import type { IdSource } from "../actors/ids.js";
import type { PaymentView } from "../actors/payments.js";
import { assertOwner } from "../actors/reservations.js";
import { ApiError } from "../errors.js";
import type { Logger } from "../log.js";
import type { PostgresReads } from "../store/postgres/reads.js";
import type { ReservationRow } from "../store/store.js";
import type { Directory } from "./directory.js";
import type { MoneyDesk } from "./money.js";
import type { LockAnswer, Routing } from "./routing.js";

/** How long owners keep holds locked for a payment; the transaction gives up well before. */
export const LOCK_MS = 10_000;
const TRANSACTION_TIMEOUT_MS = 4_000;
/** How long the answer waits for the owners to take the outcome in; past it, the locks lapse (settleLapsed). */
const SETTLE_WAIT_MS = 1_000;

export class ClusterPayments {
  constructor(
    private readonly deps: {
      desk: MoneyDesk;
      reads: PostgresReads;
      directory: Directory;
      routing: Routing;
      ids: { payment: IdSource };
      log: Logger;
    },
  ) {}

  async pay(
    userId: string,
    reservationIds: number[],
    now: number,
    claim: IdempotencyClaim | undefined,
  ): Promise<PaymentView> {
    const { desk, routing, log } = this.deps;
    if (claim !== undefined) {
      const replay = await desk.replay<PaymentView>(userId, claim, now);
      if (replay !== undefined) return replay;
    }
    const byRoom = await this.holdsByRoom(userId, reservationIds, now);
    const locks = await Promise.allSettled(
      [...byRoom].map(([room, ids]) =>
        routing.requestRoom<LockAnswer>(room, { kind: "lock", userId, reservationIds: ids, lockMs: LOCK_MS }),
      ),
    );
    const rooms = [...byRoom.keys()];
    // Answered only once the owners know the outcome (or SETTLE_WAIT_MS passed): a sold seat's
    // owner has ended the payer's token before the payer can check in again (read your writes),
    // and a failed payment's holds are unlocked before its retry arrives.
    const settle = (paid: boolean) =>
      Promise.all(
        rooms.map((room, index) => {
          if (locks[index]!.status !== "fulfilled") return Promise.resolve();
          return routing
            .requestRoom(room, { kind: "settle", userId, reservationIds: byRoom.get(room)!, paid }, SETTLE_WAIT_MS)
            .catch((error) => log.warn({ err: error, room, paid }, "payment outcome not told; the lock lapses"));
        }),
      );
    const refused = locks.find((lock) => lock.status === "rejected");
    if (refused !== undefined) {
      await settle(false);
      throw refused.reason;
    }
    const answers = locks.map((lock) => (lock as PromiseFulfilledResult<LockAnswer>).value);
    const prices = new Map(answers.flatMap((answer) => answer.holds.map((h) => [h.reservationId, h.price])));
    let view: PaymentView;
    try {
      view = await desk.pay({
        userId,
        paymentId: this.deps.ids.payment.next(),
        holds: reservationIds.map((reservationId) => ({ reservationId, price: prices.get(reservationId)! })),
        fences: answers.map((answer, index) => ({
          nodeId: answer.node,
          concertId: rooms[index]!,
          epoch: answer.epoch,
        })),
        heldAt: Math.min(...answers.map((answer) => answer.heldAt)),
        now,
        ...(claim !== undefined ? { record: claim } : {}),
        timeoutMs: TRANSACTION_TIMEOUT_MS,
      });
    } catch (error) {
      await settle(false);
      throw error;
    }
    await settle(true);
    return view;
  }

  /** The holds grouped by the room that owns them, after the checks PostgreSQL can answer, in order. */
  private async holdsByRoom(userId: string, reservationIds: number[], now: number): Promise<Map<number, number[]>> {
    const rows = await Promise.all(reservationIds.map((id) => this.deps.reads.reservationById(id)));
    const byRoom = new Map<number, number[]>();
    for (const [index, id] of reservationIds.entries()) {
      const row = rows[index];
      refuseUnlessHeld(row, id, userId, now);
      const concertId = await this.deps.directory.concertOfSchedule(row!.scheduleId);
      const room = await this.deps.directory.roomOfConcert(concertId);
      const list = byRoom.get(room);
      if (list) list.push(id);
      else byRoom.set(room, [id]);
    }
    return byRoom;
  }
}

/** 404, 403, 409 ALREADY_PAID or 410 HOLD_EXPIRED for a reservation that is not the caller's live hold. */
function refuseUnlessHeld(row: ReservationRow | undefined, id: number, userId: string, now: number): void {
  if (row === undefined) throw new ApiError("NOT_FOUND", `reservation ${id} not found`);
  assertOwner(row, userId);
  if (row.status === "paid") throw new ApiError("ALREADY_PAID", `reservation ${id} is already paid`);
  if (row.status !== "held") throw new ApiError("HOLD_EXPIRED", `reservation ${id} has ${row.status}`);
  if (row.expiresAt <= now) throw new ApiError("HOLD_EXPIRED", `reservation ${id} has expired`);
}
