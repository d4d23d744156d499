// reservations.list — the caller's reservations, newest first; GET /v1/reservations?status=.
import { z } from "zod";
import { RESERVATIONS_LISTED } from "../../actors/reservations.js";
import { defineOp } from "../op.js";
import { id, reservationView } from "../schemas.js";

export const reservationsList = defineOp({
  name: "reservations.list",
  summary: `the caller's reservations, newest first (at most ${RESERVATIONS_LISTED})`,
  http: { method: "GET", path: "/v1/reservations", status: 200, query: ["status"] },
  gate: "user",
  args: z.object({
    status: z.enum(["held", "paid", "all"]).default("all").describe("held: live holds; paid: sold; all: every one"),
  }),
  result: z.object({ reservations: z.array(reservationView.extend({ concertId: id })) }),
  async handle({ status }, { actors, userId, now }) {
    return { reservations: await actors.reservations.list(userId, status, now) };
  },
});
