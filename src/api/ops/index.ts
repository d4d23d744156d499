// The table of ops: both transports route into it, so every feature is written once.
import type { Op } from "../op.js";
import { adminConcertsCreate } from "./admin.concerts.create.js";
import { balanceCharge } from "./balance.charge.js";
import { balanceGet } from "./balance.get.js";
import { concertsList } from "./concerts.list.js";
import { paymentsCreate } from "./payments.create.js";
import { queueCheck } from "./queue.check.js";
import { reservationsCreate } from "./reservations.create.js";
import { reservationsGet } from "./reservations.get.js";
import { reservationsRelease } from "./reservations.release.js";
import { schedulesList } from "./schedules.list.js";
import { seatsList } from "./seats.list.js";
import { seatsSubscribe, seatsUnsubscribe } from "./seats.subscribe.js";

export const ops: readonly Op[] = [
  queueCheck,
  concertsList,
  schedulesList,
  seatsList,
  seatsSubscribe,
  seatsUnsubscribe,
  reservationsCreate,
  reservationsGet,
  reservationsRelease,
  paymentsCreate,
  balanceGet,
  balanceCharge,
  adminConcertsCreate,
] as Op[];

export const opsByName: ReadonlyMap<string, Op> = new Map(ops.map((op) => [op.name, op]));
