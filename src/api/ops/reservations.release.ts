// reservations.release — give a held seat back; DELETE /v1/reservations/:reservationId.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id } from "../schemas.js";

export const reservationsRelease = defineOp({
  name: "reservations.release",
  summary: "give a held seat back",
  http: { method: "DELETE", path: "/v1/reservations/:reservationId", status: 200 },
  gate: "user",
  errors: ["NOT_FOUND", "FORBIDDEN", "ALREADY_PAID", "HOLD_EXPIRED"],
  args: z.object({ reservationId: id }),
  result: z.object({ reservationId: id, status: z.literal("released") }),
  handle({ reservationId }, { actors, userId, now }) {
    return actors.reservations.release(userId, reservationId, now);
  },
});
