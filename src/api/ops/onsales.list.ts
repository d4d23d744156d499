// onsales.list — every on-sale's status, with its concert's title and time zone: the doors a fan
// can line up at before holding any queue token; GET /v1/onsales.
import { z } from "zod";
import { defineOp } from "../op.js";
import { onSaleStatus } from "../schemas.js";

export const onSalesList = defineOp({
  name: "onsales.list",
  summary: "every on-sale's status (no queue token needed)",
  http: { method: "GET", path: "/v1/onsales", status: 200 },
  gate: "user",
  args: z.object({}),
  result: z.object({ onSales: z.array(onSaleStatus) }),
  handle(_args, { actors, now }) {
    return { onSales: actors.rooms.statuses(now) };
  },
});
