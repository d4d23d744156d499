// admin.onsale.update — move an on-sale's opening (only before it), resize its active set, pause
// or resume admission; PATCH /v1/admin/concerts/:concertId/onsale.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, isoDateTime, onSaleStatus } from "../schemas.js";

export const adminOnSaleUpdate = defineOp({
  name: "admin.onsale.update",
  summary: "change an on-sale: opensAt (before the opening), activeMax, paused",
  http: { method: "PATCH", path: "/v1/admin/concerts/:concertId/onsale", status: 200 },
  gate: "admin",
  // An unknown concert or one without an on-sale; an opening moved after it, or to the past or null.
  errors: ["NOT_FOUND", "INVALID_ARGUMENT"],
  args: z.object({
    concertId: id,
    opensAt: isoDateTime.nullable().optional(),
    activeMax: z.number().int().min(1).max(1_000_000).optional(),
    paused: z.boolean().optional(),
  }),
  result: onSaleStatus,
  handle({ concertId, opensAt, activeMax, paused }, { actors, now }) {
    const change = {
      ...(opensAt !== undefined ? { opensAt: opensAt === null ? null : Date.parse(opensAt) } : {}),
      ...(activeMax !== undefined ? { activeMax } : {}),
      ...(paused !== undefined ? { paused } : {}),
    };
    return actors.rooms.configure(concertId, change, now);
  },
});
