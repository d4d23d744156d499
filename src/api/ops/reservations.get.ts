// reservations.get — one of the caller's reservations; GET /v1/reservations/:reservationId.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, reservationView } from "../schemas.js";

export const reservationsGet = defineOp({
  name: "reservations.get",
  summary: "one of the caller's reservations",
  http: { method: "GET", path: "/v1/reservations/:reservationId", status: 200 },
  gate: "user",
  errors: ["NOT_FOUND", "FORBIDDEN"],
  args: z.object({ reservationId: id }),
  result: reservationView,
  handle({ reservationId }, { actors, userId, now }) {
    return actors.reservations.get(userId, reservationId, now);
  },
});
