// The table of ops: both transports route into it, so every feature is written once.
import type { Op } from "../op.js";
import { adminConcertsCreate } from "./admin.concerts.create.js";
import { adminOnSaleUpdate } from "./admin.onsale.update.js";
import { balanceCharge } from "./balance.charge.js";
import { balanceGet } from "./balance.get.js";
import { concertsList } from "./concerts.list.js";
import { devLogin } from "./dev.login.js";
import { drawGet } from "./draw.get.js";
import { onSaleGet } from "./onsale.get.js";
import { onSalesList } from "./onsales.list.js";
import { paymentsCreate } from "./payments.create.js";
import { queueCheck } from "./queue.check.js";
import { reservationsBest } from "./reservations.best.js";
import { reservationsCreate } from "./reservations.create.js";
import { reservationsGet } from "./reservations.get.js";
import { reservationsList } from "./reservations.list.js";
import { reservationsRelease } from "./reservations.release.js";
import { schedulesList } from "./schedules.list.js";
import { seatsLayout } from "./seats.layout.js";
import { seatsList } from "./seats.list.js";
import { seatsSubscribe, seatsUnsubscribe } from "./seats.subscribe.js";

const table = [
  queueCheck,
  concertsList,
  schedulesList,
  seatsList,
  seatsLayout,
  seatsSubscribe,
  seatsUnsubscribe,
  reservationsCreate,
  reservationsBest,
  reservationsGet,
  reservationsList,
  reservationsRelease,
  paymentsCreate,
  balanceGet,
  balanceCharge,
  onSalesList,
  onSaleGet,
  drawGet,
  adminConcertsCreate,
  adminOnSaleUpdate,
  devLogin,
] as const;

/** Every op with its literal name, route and schemas: the typed client (src/client) derives from it. */
export type ApiOp = (typeof table)[number];

export const ops: readonly Op[] = table as readonly Op[];

export const opsByName: ReadonlyMap<string, Op> = new Map(ops.map((op) => [op.name, op]));
