// reservations.create — hold a seat for HOLD_TTL_MS; POST /v1/reservations.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, seatNo } from "../schemas.js";

export const reservationsCreate = defineOp({
  name: "reservations.create",
  http: { method: "POST", path: "/v1/reservations", status: 201 },
  gate: "active",
  args: z.object({ scheduleId: id, seatNo }),
  handle({ scheduleId, seatNo }, { actors, config, userId, now }) {
    return actors.reservations.hold(userId, scheduleId, seatNo, config.holdTtlMs, now);
  },
});
