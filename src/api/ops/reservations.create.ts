// reservations.create — hold a seat for HOLD_TTL_MS; POST /v1/reservations.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, reservationView, seatNo } from "../schemas.js";

const heldReservation = reservationView.extend({ status: z.literal("held") });

export const reservationsCreate = defineOp({
  name: "reservations.create",
  summary: "hold a seat for HOLD_TTL_MS",
  http: { method: "POST", path: "/v1/reservations", status: 201 },
  gate: "active",
  errors: ["NOT_FOUND", "HOLD_LIMIT", "SEAT_UNAVAILABLE"],
  concertOf: ({ scheduleId }, actors) => actors.catalog.schedule(scheduleId).concertId,
  args: z.object({ scheduleId: id, seatNo }),
  result: heldReservation,
  handle({ scheduleId, seatNo }, { actors, config, userId, now }) {
    // A new hold is always "held"; the actor's view type covers every status.
    const held = actors.reservations.hold(userId, scheduleId, seatNo, config.holdTtlMs, now);
    return held as Promise<z.input<typeof heldReservation>>;
  },
});
