// seats.layout — the layout a schedule's seats are drawn on (sections, rows, categories with
// prices, accessible seats), cached by its ETag; GET /v1/schedules/:scheduleId/layout.
// Over HTTP the ETag travels as headers (If-None-Match → 304); over a WebSocket as the `etag`
// argument, answered with `notModified: true` when it still names the layout.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, layoutDocumentSchema } from "../schemas.js";

const etag = z.string().max(200).describe("the ETag of the layout the caller has");

export const seatsLayout = defineOp({
  name: "seats.layout",
  summary: "the layout a schedule's seats are drawn on (sections, rows, categories with prices), by ETag",
  http: { method: "GET", path: "/v1/schedules/:scheduleId/layout", status: 200, query: ["etag"], cache: "etag" },
  gate: "active",
  errors: ["NOT_FOUND"],
  concertOf: ({ scheduleId }, actors) => actors.catalog.schedule(scheduleId).concertId,
  args: z.object({ scheduleId: id, etag: etag.optional() }),
  result: z.union([
    z.object({ etag: z.string(), layout: layoutDocumentSchema }),
    z.object({ etag: z.string(), notModified: z.literal(true) }),
  ]),
  handle({ scheduleId, etag: known }, { actors }) {
    const { etag, document } = actors.catalog.schedule(scheduleId).layoutDocument();
    return known === etag ? { etag, notModified: true as const } : { etag, layout: document };
  },
});
