// onsale.get — an on-sale's status: its state, opening, active set, inventory and the draw's
// commitment (and seed, from the opening); GET /v1/concerts/:concertId/onsale.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, onSaleStatus } from "../schemas.js";

export const onSaleGet = defineOp({
  name: "onsale.get",
  summary: "an on-sale's status (no queue token needed)",
  http: { method: "GET", path: "/v1/concerts/:concertId/onsale", status: 200 },
  gate: "user",
  // An unknown concert, or one without an on-sale.
  errors: ["NOT_FOUND"],
  args: z.object({ concertId: id }),
  result: onSaleStatus,
  handle({ concertId }, { actors, now }) {
    return actors.rooms.status(concertId, now);
  },
});
